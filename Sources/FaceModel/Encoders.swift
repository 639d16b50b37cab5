import Foundation
import Tensor
import Imaging

// The two frozen image encoders the sequence-level MoE reads (docs/DESIGN.md "Sequence-level MoE"):
// a small CLIP (image and text towers, ClipEncoder.swift) and a face-attribute CNN
// (FaceEncoder.swift). Both are trained by `facestudio encoders train` before the unified
// model, and ship beside it as `encoder_*` files:
//
//   encoder_config.json         EncoderConfig (snake_case keys, defaults)
//   encoder_clip.safetensors    CLIP weights (image tower, text tower, temperature)
//   encoder_face.safetensors    face-attribute CNN weights
//   encoder_tokenizer.json      the CLIP text tower's BPE tokenizer

/// Architecture of the CLIP-style encoder.
public struct ClipEncoderConfig: Codable, Equatable, Sendable {
    /// Conv trunk widths, one stride-2 stage each (64×64 → 4×4 with four). The same as the face
    /// encoder's by default, so CLIP training can start from the face encoder's trunk.
    public var channels: [Int] = [32, 64, 128, 256]
    /// Width of the CLIP tokens the MMU CLIP expert reads (one per cell of the final grid).
    public var tokenDim: Int = 128
    /// Width of the shared image–text embedding space.
    public var embedDim: Int = 128
    /// Text tower: a pre-LN transformer over BPE tokens, mean-pooled.
    public var textVocabSize: Int = 1024
    public var textDim: Int = 96
    public var textLayers: Int = 2
    public var textHeads: Int = 4
    public var maxTextTokens: Int = 128

    public init() {}

    enum CodingKeys: String, CodingKey {
        case channels, tokenDim = "token_dim", embedDim = "embed_dim", textVocabSize = "text_vocab_size", textDim = "text_dim"
        case textLayers = "text_layers", textHeads = "text_heads", maxTextTokens = "max_text_tokens"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ClipEncoderConfig()
        func v<T: Decodable>(_ k: CodingKeys, _ def: T) throws -> T { try c.decodeIfPresent(T.self, forKey: k) ?? def }
        channels = try v(.channels, d.channels)
        tokenDim = try v(.tokenDim, d.tokenDim)
        embedDim = try v(.embedDim, d.embedDim)
        textVocabSize = try v(.textVocabSize, d.textVocabSize)
        textDim = try v(.textDim, d.textDim)
        textLayers = try v(.textLayers, d.textLayers)
        textHeads = try v(.textHeads, d.textHeads)
        maxTextTokens = try v(.maxTextTokens, d.maxTextTokens)
    }
}

/// One multi-valued detail the face encoder predicts (e.g. hair_color among 8 values).
public struct DetailHead: Codable, Equatable, Sendable {
    public var field: String
    public var values: [String]
    public init(field: String, values: [String]) { self.field = field; self.values = values }
}

/// Architecture and label set of the face-attribute encoder.
public struct FaceEncoderConfig: Codable, Equatable, Sendable {
    public var channels: [Int] = [32, 64, 128, 256]
    /// Width of the penultimate layer: the face embedding.
    public var embedDim: Int = 256
    /// Binary attributes in the data set's schema order.
    public var attributes: [String] = []
    public var details: [DetailHead] = []

    public init() {}

    enum CodingKeys: String, CodingKey { case channels, embedDim = "embed_dim", attributes, details }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FaceEncoderConfig()
        channels = try c.decodeIfPresent([Int].self, forKey: .channels) ?? d.channels
        embedDim = try c.decodeIfPresent(Int.self, forKey: .embedDim) ?? d.embedDim
        attributes = try c.decodeIfPresent([String].self, forKey: .attributes) ?? d.attributes
        details = try c.decodeIfPresent([DetailHead].self, forKey: .details) ?? d.details
    }

    /// Outputs of the head: one logit per attribute, then each detail's values in order.
    public var outputs: Int { attributes.count + details.map(\.values.count).reduce(0, +) }
}

/// `encoder_config.json`.
public struct EncoderConfig: Codable, Equatable, Sendable {
    public var imageSize: Int = 64
    public var clip = ClipEncoderConfig()
    public var face = FaceEncoderConfig()

    public init() {}

    enum CodingKeys: String, CodingKey { case imageSize = "image_size", clip, face }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? 64
        clip = try c.decodeIfPresent(ClipEncoderConfig.self, forKey: .clip) ?? ClipEncoderConfig()
        face = try c.decodeIfPresent(FaceEncoderConfig.self, forKey: .face) ?? FaceEncoderConfig()
    }

    /// Side of the final feature grid (each trunk stage halves the image).
    public func gridSide(stages: Int) -> Int { imageSize >> stages }

    /// One-line problems, naming the field.
    public func validate() throws {
        func check(_ ok: Bool, _ field: String, _ why: String) throws {
            if !ok { throw ModelConfigError(field: field, message: "\(field): \(why)") }
        }
        for (name, channels) in [("clip.channels", clip.channels), ("face.channels", face.channels)] {
            try check(!channels.isEmpty && channels.allSatisfy { $0 > 0 && $0 % ConvTrunk.groups(for: $0) == 0 }, name,
                      "needs at least one positive width")
            try check(imageSize % (1 << channels.count) == 0, name, "\(channels.count) stride-2 stages do not divide image_size \(imageSize)")
        }
        try check(imageSize >= 8, "image_size", "must be at least 8")
        try check(clip.embedDim > 0, "clip.embed_dim", "must be positive")
        try check(clip.tokenDim > 0, "clip.token_dim", "must be positive")
        try check(clip.textVocabSize > 0, "clip.text_vocab_size", "must be positive")
        try check(clip.textDim > 0 && clip.textHeads > 0 && clip.textDim % clip.textHeads == 0, "clip.text_heads",
                  "text_dim \(clip.textDim) must be a multiple of text_heads \(clip.textHeads)")
        try check(clip.textLayers >= 1, "clip.text_layers", "must be at least 1")
        try check(clip.maxTextTokens >= 2, "clip.max_text_tokens", "must be at least 2")
        try check(face.embedDim > 0, "face.embed_dim", "must be positive")
        try check(!face.attributes.isEmpty, "face.attributes", "must name at least one attribute")
        try check(face.details.allSatisfy { !$0.values.isEmpty }, "face.details", "every detail needs at least one value")
    }

    /// Shape of the embeddings the unified model reads: CLIP tokens × width, face tokens × width.
    public var clipTokens: Int { let s = gridSide(stages: clip.channels.count); return s * s }
    public var clipDim: Int { clip.tokenDim }
    public var faceTokens: Int { 1 }
    public var faceDim: Int { face.embedDim }
    /// Width of the face readout (`FaceEncoder.readout`): one column per head output.
    public var faceReadoutDim: Int { face.outputs }

    public func jsonData() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(self)
    }

    public static func load(path: String) throws -> EncoderConfig {
        try loadConfigFile(EncoderConfig.self, path: path) { try $0.validate() }
    }
}

/// A stack of stride-2 stages (conv 3×3 s2 → GroupNorm → ReLU, then a residual conv 3×3 →
/// GroupNorm → ReLU): [B, 3, S, S] → [B, C_last, S/2^n, S/2^n]. Both encoders use one.
public final class ConvTrunk: Layer {
    public final class Stage: Layer {
        public let down: Conv2d, downNorm: GroupNorm
        public let conv: Conv2d, norm: GroupNorm

        init(_ cin: Int, _ cout: Int, rng: inout RNG) {
            down = Conv2d(cin, cout, kernel: 3, stride: 2, padding: 1, bias: false, rng: &rng)
            downNorm = GroupNorm(groups: ConvTrunk.groups(for: cout), channels: cout)
            conv = Conv2d(cout, cout, kernel: 3, stride: 1, padding: 1, bias: false, rng: &rng)
            norm = GroupNorm(groups: ConvTrunk.groups(for: cout), channels: cout)
        }

        public func callAsFunction(_ x: Tensor) -> Tensor {
            let y = downNorm(down(x)).relu()
            return y + norm(conv(y)).relu()
        }

        public func parameters(prefix: String) -> [Parameter] {
            collectParameters(prefix, [("down", down), ("down_norm", downNorm), ("conv", conv), ("norm", norm)])
        }
    }

    public let stages: [Stage]

    /// GroupNorm groups for a width: 8 when it divides, else the largest divisor ≤ 8.
    static func groups(for channels: Int) -> Int { (1...8).last { channels % $0 == 0 } ?? 1 }

    public init(channels: [Int], rng: inout RNG) {
        var stages: [Stage] = []
        var cin = 3
        for c in channels { stages.append(Stage(cin, c, rng: &rng)); cin = c }
        self.stages = stages
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { stages.reduce(x) { $1($0) } }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, stages.enumerated().map { ("stages.\($0.offset)", $0.element) })
    }
}

/// One of the two encoders (they train separately and have a weights file each).
public enum EncoderKind: String, CaseIterable, Sendable { case face, clip }

/// Both encoders, as a model directory ships them.
public final class ImageEncoders: @unchecked Sendable {
    public let config: EncoderConfig
    public let clip: ClipEncoder
    public let face: FaceEncoder
    /// The CLIP text tower's tokenizer.
    public let textTokenizer: TextTokenizer

    public static let configFile = "encoder_config.json"
    public static let clipFile = "encoder_clip.safetensors"
    public static let faceFile = "encoder_face.safetensors"
    public static let tokenizerFile = "encoder_tokenizer.json"
    public static let files = [configFile, clipFile, faceFile, tokenizerFile]

    public init(config: EncoderConfig, textTokenizer: TextTokenizer, seed: UInt64 = 0) {
        self.config = config
        self.textTokenizer = textTokenizer
        var rng = RNG(seed: seed)
        clip = ClipEncoder(config: config, rng: &rng)
        face = FaceEncoder(config: config, rng: &rng)
    }

    /// Whether `directory` holds any encoder file.
    public static func present(directory: String) -> Bool {
        files.contains { FileManager.default.fileExists(atPath: directory + "/" + $0) }
    }

    /// Loads all four files strictly: the config must validate, the tokenizer must match the
    /// text vocabulary, and every weight must be present with its shape and nothing unused.
    public static func load(directory: String) throws -> ImageEncoders {
        let config = try EncoderConfig.load(path: directory + "/" + configFile)
        let tokenizerPath = directory + "/" + tokenizerFile
        let tokenizer = try TextTokenizer(contentsOf: tokenizerPath)
        guard tokenizer.vocabSize == config.clip.textVocabSize else {
            throw ModelDirectoryError("\(tokenizerPath): \(tokenizer.vocabSize) ids, \(configFile) says clip.text_vocab_size \(config.clip.textVocabSize)")
        }
        let encoders = WeightInit.skipped { ImageEncoders(config: config, textTokenizer: tokenizer) }
        for kind in EncoderKind.allCases { try encoders.loadWeights(kind, directory: directory) }
        return encoders
    }

    /// Writes the four files (each atomically); F16 weights keep `Models/` small.
    public func save(directory: String, dtype: SafetensorsDType = .f16) throws {
        try saveConfig(directory: directory)
        for kind in EncoderKind.allCases { try saveWeights(kind, directory: directory, dtype: dtype) }
    }

    /// Writes the config and the CLIP tokenizer.
    public func saveConfig(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write(Array(try config.jsonData()) + [UInt8(ascii: "\n")], to: directory + "/" + ImageEncoders.configFile)
        try textTokenizer.save(to: directory + "/" + ImageEncoders.tokenizerFile)
    }

    /// Writes one encoder's weights file.
    public func saveWeights(_ kind: EncoderKind, directory: String, dtype: SafetensorsDType = .f16) throws {
        try parameters(kind).save(to: directory + "/" + ImageEncoders.weightsFile(kind),
                                  metadata: ["format": "facestudio-\(kind.rawValue)-encoder-v1"], dtype: dtype)
    }

    /// Loads one encoder's weights file strictly.
    public func loadWeights(_ kind: EncoderKind, directory: String) throws {
        try parameters(kind).load(from: SafetensorsFile(path: directory + "/" + ImageEncoders.weightsFile(kind)))
    }

    /// Copies the face encoder's conv trunk into the CLIP image trunk (same widths): CLIP then
    /// starts from features that already see the attributes its captions describe, which saves
    /// most of its training on a CPU. Returns false when the trunks differ.
    @discardableResult
    public func initializeClipTrunkFromFace() -> Bool {
        let from = face.trunk.allParameters, to = clip.trunk.allParameters
        guard from.map(\.name) == to.map(\.name), zip(from, to).allSatisfy({ $0.tensor.shape == $1.tensor.shape }) else { return false }
        for (f, t) in zip(from, to) { t.tensor.copyValues(from: f.tensor) }
        return true
    }

    public func parameters(_ kind: EncoderKind) -> [Parameter] { kind == .face ? face.allParameters : clip.allParameters }

    public static func weightsFile(_ kind: EncoderKind) -> String { kind == .face ? faceFile : clipFile }

    /// A hash of the encoder files: cached embeddings are valid only for the same encoders.
    public static func fingerprint(directory: String) throws -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for name in files {
            for byte in Array(name.utf8) + (try AtomicFile.read(path: directory + "/" + name)) {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        return String(hash, radix: 16)
    }

    /// The embeddings the unified model's CLIP and face experts read, for each image.
    public func embeddings(_ images: [RGBImage]) throws -> [ImageEmbeddings] {
        let x = try ImageTensor.tensor(from: images.map { resized($0) }, side: config.imageSize)
        return GradMode.withoutGrad {
            let clipTokens = clip.imageTokens(x)  // [B, n, c]
            let faceEmbedding = face.embedding(x)  // [B, e]
            let readout = face.readout(embeddings: faceEmbedding)  // [B, outputs]
            let n = clipTokens.count / max(images.count, 1), e = faceEmbedding.count / max(images.count, 1)
            let r = readout.count / max(images.count, 1)
            let c = clipTokens.values, f = faceEmbedding.values, o = readout.values
            return (0..<images.count).map { b in
                ImageEmbeddings(clip: Array(c[(b * n)..<((b + 1) * n)]), face: Array(f[(b * e)..<((b + 1) * e)]),
                                readout: Array(o[(b * r)..<((b + 1) * r)]))
            }
        }
    }

    public func embeddings(_ image: RGBImage) throws -> ImageEmbeddings { try embeddings([image])[0] }

    /// Images of another size are resized to the encoders' input size.
    func resized(_ image: RGBImage) -> RGBImage {
        let side = config.imageSize
        return image.width == side && image.height == side ? image : ImageOps.resize(image, width: side, height: side)
    }
}
