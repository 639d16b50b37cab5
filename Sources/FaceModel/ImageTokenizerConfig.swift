import Foundation
import Tensor

/// The LFQ image tokenizer's configuration (`image_tokenizer_config.json`, snake_case keys,
/// every field defaulted). See docs/DESIGN.md "Image tokenizer".
public struct ImageTokenizerConfig: Codable, Equatable, Sendable {
    /// Side of the square RGB input in pixels.
    public var imageSize: Int = 64
    /// Latent channels = bits per token; the codebook has 2^bits codes.
    public var bits: Int = 10
    /// Feature channels per resolution, image side first: level i works at imageSize / 2^i.
    /// With three levels a 64×64 image becomes 16×16 tokens.
    public var channels: [Int] = [16, 32, 64]
    /// Residual blocks per level (the decoder mirrors the encoder).
    public var resBlocks: [Int] = [0, 1, 2]
    /// GroupNorm groups (must divide every entry of `channels`).
    public var groups: Int = 8
    /// Scale inside the entropy term's sigmoid: bit probability σ(temperature · z).
    public var entropyTemperature: Float = 4
    /// Weight of the commitment loss and the share of its second term.
    public var commitmentWeight: Float = 0.1
    public var commitmentBeta: Float = 0.25
    /// Weight of the entropy term (per-sample entropy minus codebook entropy).
    public var entropyWeight: Float = 0.1
    /// How the codebook entropy is measured (see `LFQ.losses`).
    public var codebookEntropy: CodebookEntropy = .perBit
    /// The code as independent factors of `bits / codebookFactors` bits each (Open-MAGVIT2's
    /// factorised codebook): `"joint"` entropy is taken per factor, so a 16-bit code costs two
    /// 256-code distributions instead of one of 65 536, and a unified model can predict a code
    /// as its factors with small heads. 1: the code is one factor.
    public var codebookFactors: Int = 1
    /// The decoder's own channels and residual blocks per level (nil: the encoder's, mirrored).
    /// A decoder can be retrained wider on a frozen encoder without changing any code.
    public var decoderChannels: [Int]? = nil
    public var decoderResBlocks: [Int]? = nil
    /// Normalisation inside the decoder. GroupNorm takes each sample's mean out of every group
    /// of channels, so a decoder that ends with it cannot carry a flat background's absolute
    /// colour to the output (purple and green backgrounds came back grey); "none" keeps it.
    public var decoderNorm: Norm = .group

    public enum Norm: String, Codable, Sendable {
        case group
        case none
    }

    public enum CodebookEntropy: String, Codable, Sendable {
        /// Mean over bits of the entropy of each bit's batch-mean probability (docs/DESIGN.md).
        case perBit = "per_bit"
        /// Entropy of the batch-mean distribution over all 2^bits codes, per bit.
        case joint
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case imageSize = "image_size", bits, channels, resBlocks = "res_blocks", groups
        case entropyTemperature = "entropy_temperature", commitmentWeight = "commitment_weight"
        case commitmentBeta = "commitment_beta", entropyWeight = "entropy_weight", codebookEntropy = "codebook_entropy"
        case codebookFactors = "codebook_factors"
        case decoderChannels = "decoder_channels", decoderResBlocks = "decoder_res_blocks", decoderNorm = "decoder_norm"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ImageTokenizerConfig()
        func v<T: Decodable>(_ k: CodingKeys, _ def: T) throws -> T { try c.decodeIfPresent(T.self, forKey: k) ?? def }
        imageSize = try v(.imageSize, d.imageSize)
        bits = try v(.bits, d.bits)
        channels = try v(.channels, d.channels)
        resBlocks = try v(.resBlocks, d.resBlocks)
        groups = try v(.groups, d.groups)
        entropyTemperature = try v(.entropyTemperature, d.entropyTemperature)
        commitmentWeight = try v(.commitmentWeight, d.commitmentWeight)
        commitmentBeta = try v(.commitmentBeta, d.commitmentBeta)
        entropyWeight = try v(.entropyWeight, d.entropyWeight)
        codebookEntropy = try v(.codebookEntropy, d.codebookEntropy)
        codebookFactors = try v(.codebookFactors, d.codebookFactors)
        decoderChannels = try c.decodeIfPresent([Int].self, forKey: .decoderChannels)
        decoderResBlocks = try c.decodeIfPresent([Int].self, forKey: .decoderResBlocks)
        decoderNorm = try v(.decoderNorm, d.decoderNorm)
    }

    /// The decoder's channels per level (image side first).
    public var decoderWidths: [Int] { decoderChannels ?? channels }
    /// The decoder's residual blocks per level.
    public var decoderBlocks: [Int] { decoderResBlocks ?? resBlocks }

    /// The encoder-side settings: two configs with equal ones encode images to the same codes
    /// given the same weights.
    public func sameEncoder(as other: ImageTokenizerConfig) -> Bool {
        imageSize == other.imageSize && bits == other.bits && channels == other.channels
            && resBlocks == other.resBlocks && groups == other.groups
    }

    /// Number of resolutions (the image's and each downsampled one).
    public var levels: Int { channels.count }
    /// Tokens per side of the code grid (16 for the default 64×64 image).
    public var tokensPerSide: Int { imageSize >> (levels - 1) }
    /// Codes per image.
    public var tokenCount: Int { tokensPerSide * tokensPerSide }
    /// Codebook size 2^bits.
    public var codebookSize: Int { 1 << bits }
    /// Bits of one factor of a code (`codebook_factors`), most significant factor first.
    public var factorBits: Int { bits / codebookFactors }

    /// Problems that make the configuration unusable, as one-line messages naming the field.
    public func validate() throws {
        func check(_ ok: Bool, _ field: String, _ why: String) throws {
            if !ok { throw ModelConfigError(field: field, message: "\(field): \(why)") }
        }
        try check(bits >= 1 && bits <= 20, "bits", "must be between 1 and 20, got \(bits)")
        try check(!channels.isEmpty && channels.count <= 6, "channels", "needs 1 to 6 levels, got \(channels.count)")
        try check(channels.allSatisfy { $0 > 0 }, "channels", "must all be positive, got \(channels)")
        try check(resBlocks.count == channels.count, "res_blocks",
                  "needs one entry per level (\(channels.count)), got \(resBlocks.count)")
        try check(resBlocks.allSatisfy { $0 >= 0 }, "res_blocks", "must not be negative, got \(resBlocks)")
        try check(groups >= 1 && channels.allSatisfy { $0 % groups == 0 }, "groups",
                  "\(groups) must divide every channel count \(channels)")
        try check(decoderWidths.count == channels.count && decoderWidths.allSatisfy { $0 > 0 }, "decoder_channels",
                  "needs one positive entry per level (\(channels.count)), got \(decoderWidths)")
        try check(decoderBlocks.count == channels.count && decoderBlocks.allSatisfy { $0 >= 0 }, "decoder_res_blocks",
                  "needs one non-negative entry per level (\(channels.count)), got \(decoderBlocks)")
        try check(decoderNorm == .none || decoderWidths.allSatisfy { $0 % groups == 0 }, "decoder_channels",
                  "groups \(groups) must divide every decoder channel count \(decoderWidths) (or set decoder_norm to \"none\")")
        let factor = 1 << (channels.count - 1)
        try check(imageSize > 0 && imageSize % factor == 0, "image_size",
                  "\(imageSize) must be a positive multiple of the downsampling factor \(factor)")
        try check(entropyTemperature > 0, "entropy_temperature", "must be positive")
        try check(codebookFactors >= 1 && bits % codebookFactors == 0, "codebook_factors",
                  "\(codebookFactors) must be at least 1 and divide bits (\(bits))")
        try check(codebookEntropy == .perBit || bits / max(codebookFactors, 1) <= 14, "codebook_entropy",
                  "\"joint\" scores all codes of a factor per position; use it with at most 14 bits per factor (codebook_factors)")
        try check(commitmentWeight >= 0 && commitmentBeta >= 0, "commitment_weight", "weights must not be negative")
        try check(entropyWeight >= 0, "entropy_weight", "must not be negative")
    }

    /// Reads and validates a config file; errors name the file and the field.
    public static func load(path: String) throws -> ImageTokenizerConfig {
        try loadConfigFile(ImageTokenizerConfig.self, path: path) { try $0.validate() }
    }

    /// Deterministic pretty JSON.
    public func jsonData() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(self)
    }
}
