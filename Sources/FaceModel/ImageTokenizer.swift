import Foundation
import Imaging
import Tensor

// The LFQ image tokenizer (MAGVIT-v2 style, docs/DESIGN.md "Image tokenizer"), top to bottom:
//
//   image [B, 3, 64, 64] in [-1, 1]
//     → encoder: conv_in, per level residual blocks then a stride-2 conv (64 → 32 → 16)
//     → z [B, bits, 16, 16] → q = sign(z) with straight-through gradients, code = bits MSB-first
//     → decoder: conv_in, per level residual blocks then a 1×1 conv + pixel shuffle (16 → 32 → 64)
//     → image [B, 3, 64, 64]
//
// The decoder does its heavy work at 16×16 and 32×32 and keeps few channels at 64×64, so a
// batch-1 decode stays within a few milliseconds (it runs at every MaskGIT step for previews).

/// GroupNorm → SiLU → conv3×3 → GroupNorm → SiLU → conv3×3, added to the input (without the
/// norms when `groups` is nil).
public final class TokenizerResBlock: Layer {
    let norm1: GroupNorm?, conv1: Conv2d, norm2: GroupNorm?, conv2: Conv2d

    init(channels: Int, groups: Int?, rng: inout RNG) {
        norm1 = groups.map { GroupNorm(groups: $0, channels: channels) }
        conv1 = Conv2d(channels, channels, kernel: 3, rng: &rng)
        norm2 = groups.map { GroupNorm(groups: $0, channels: channels) }
        // Small last conv: every block starts close to the identity, so deep stacks train stably.
        conv2 = Conv2d(channels, channels, kernel: 3, gain: 0.1, rng: &rng)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = conv1(normalized(norm1, x).silu())
        return x + conv2(normalized(norm2, h).silu())
    }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [("norm1", norm1), ("conv1", conv1), ("norm2", norm2), ("conv2", conv2)])
    }
}

/// `norm(x)`, or `x` where a layer has no norm.
func normalized(_ norm: GroupNorm?, _ x: Tensor) -> Tensor { norm.map { $0(x) } ?? x }

/// The residual blocks of one resolution plus the conv that leaves it (down or up).
final class TokenizerLevel: Layer {
    let blocks: [TokenizerResBlock]
    /// Encoder: 3×3 stride-2 conv to the next level's channels. Decoder: 1×1 conv to 4× the
    /// previous level's channels, pixel-shuffled. Nil on the last level.
    let transition: Conv2d?
    let transitionName: String

    init(blocks: [TokenizerResBlock], transition: Conv2d?, transitionName: String) {
        self.blocks = blocks
        self.transition = transition
        self.transitionName = transitionName
    }

    func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, blocks.enumerated().map { ("blocks.\($0.offset)", $0.element as Layer?) }
                          + [(transitionName, transition)])
    }
}

/// Image [B, 3, S, S] → latents z [B, bits, S/4, S/4] (for three levels).
public final class TokenizerEncoder: Layer {
    let convIn: Conv2d
    let levels: [TokenizerLevel]
    let normOut: GroupNorm
    let convOut: Conv2d

    init(config c: ImageTokenizerConfig, rng: inout RNG) {
        convIn = Conv2d(3, c.channels[0], kernel: 3, rng: &rng)
        var levels: [TokenizerLevel] = []
        for i in 0..<c.levels {
            let blocks = (0..<c.resBlocks[i]).map { _ in TokenizerResBlock(channels: c.channels[i], groups: c.groups as Int?, rng: &rng) }
            let down = i + 1 < c.levels ? Conv2d(c.channels[i], c.channels[i + 1], kernel: 3, stride: 2, padding: 1, rng: &rng) : nil
            levels.append(TokenizerLevel(blocks: blocks, transition: down, transitionName: "down"))
        }
        self.levels = levels
        let top = c.channels[c.levels - 1]
        normOut = GroupNorm(groups: c.groups, channels: top)
        convOut = Conv2d(top, c.bits, kernel: 1, rng: &rng)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = convIn(x)
        for level in levels {
            for block in level.blocks { h = block(h) }
            // SiLU before the stride-2 conv: without it a level with no blocks would be purely linear.
            if let down = level.transition { h = down(h.silu()) }
        }
        return convOut(normOut(h).silu())
    }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [("conv_in", convIn)]
                          + levels.enumerated().map { ("levels.\($0.offset)", $0.element as Layer?) }
                          + [("norm_out", normOut), ("conv_out", convOut)])
    }
}

/// Quantised latents [B, bits, S/4, S/4] (±1) → image [B, 3, S, S] (nominally in [-1, 1]).
/// Its widths, depths and norms are `decoderWidths`, `decoderBlocks` and `decoderNorm`.
public final class TokenizerDecoder: Layer {
    let convIn: Conv2d
    /// Index i works at the encoder's level-i resolution; run from the coarsest to the finest.
    let levels: [TokenizerLevel]
    let normOut: GroupNorm?
    let convOut: Conv2d

    init(config c: ImageTokenizerConfig, rng: inout RNG) {
        let widths = c.decoderWidths, groups = c.decoderNorm == .group ? c.groups : nil
        convIn = Conv2d(c.bits, widths[c.levels - 1], kernel: 3, rng: &rng)
        var levels: [TokenizerLevel] = []
        for i in 0..<c.levels {
            let blocks = (0..<c.decoderBlocks[i]).map { _ in TokenizerResBlock(channels: widths[i], groups: groups, rng: &rng) }
            let up = i > 0 ? Conv2d(widths[i], 4 * widths[i - 1], kernel: 1, rng: &rng) : nil
            levels.append(TokenizerLevel(blocks: blocks, transition: up, transitionName: "up"))
        }
        self.levels = levels
        normOut = groups.map { GroupNorm(groups: $0, channels: widths[0]) }
        convOut = Conv2d(widths[0], 3, kernel: 3, rng: &rng)
    }

    public func callAsFunction(_ q: Tensor) -> Tensor {
        var h = convIn(q)
        for level in levels.reversed() {
            for block in level.blocks { h = block(h) }
            if let up = level.transition { h = up(h.silu()).pixelShuffle2() }
        }
        return convOut(normalized(normOut, h).silu())
    }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [("conv_in", convIn)]
                          + levels.enumerated().map { ("levels.\($0.offset)", $0.element as Layer?) }
                          + [("norm_out", normOut), ("conv_out", convOut)])
    }
}

extension Tensor {
    /// Depth to space by 2: [B, 4C, H, W] → [B, C, 2H, 2W]; channel 4c + 2dy + dx lands on
    /// pixel (2y + dy, 2x + dx) of channel c. Built from a reshape and a permute, so autograd
    /// comes for free.
    func pixelShuffle2() -> Tensor {
        let B = shape[0], C = shape[1] / 4, H = shape[2], W = shape[3]
        return reshape([B, C, 2, 2, H, W]).permute([0, 1, 4, 2, 5, 3]).reshape([B, C, 2 * H, 2 * W])
    }
}

/// Lookup-free quantisation: each latent channel is one bit, `q = sign(z)`.
public enum LFQ {
    /// `sign(z)` forward, identity backward (straight-through estimator).
    public static func quantize(_ z: Tensor) -> Tensor {
        let offset = GradMode.withoutGrad { z.sign() - z }
        return z + offset.detach()
    }

    /// Codes per image from latents [B, bits, h, w]: bit c of a position is `z_c ≥ 0`
    /// (matching `sign`), channel 0 the most significant; positions row-major.
    public static func codes(_ z: Tensor) -> [[Int]] {
        let B = z.shape[0], bits = z.shape[1], hw = z.shape[2] * z.shape[3]
        return (0..<B).map { b in
            let base = z.data + b * bits * hw
            return (0..<hw).map { p in
                var code = 0
                for c in 0..<bits { code = (code << 1) | (base[c * hw + p] >= 0 ? 1 : 0) }
                return code
            }
        }
    }

    /// The ±1 bit vector of a code, most significant bit first.
    public static func bitValues(of code: Int, bits: Int) -> [Float] {
        (0..<bits).map { c in (code >> (bits - 1 - c)) & 1 == 1 ? 1 : -1 }
    }

    /// The code of a bit vector (entries ≥ 0 are ones), most significant bit first.
    public static func code(ofBits values: [Float]) -> Int {
        values.reduce(0) { ($0 << 1) | ($1 >= 0 ? 1 : 0) }
    }

    /// Quantised latents [B, bits, side, side] (±1) for row-major code grids.
    /// Throws for a grid of the wrong size or a code outside `0..<2^bits`.
    public static func latents(codes: [[Int]], bits: Int, side: Int) throws -> Tensor {
        let hw = side * side
        let out = Tensor(uninitialized: [codes.count, bits, side, side])
        for (b, grid) in codes.enumerated() {
            guard grid.count == hw else { throw ImageTokenizerError.codeCount(image: b, got: grid.count, expected: hw) }
            let base = out.data + b * bits * hw
            for (p, code) in grid.enumerated() {
                guard code >= 0 && code < 1 << bits else {
                    throw ImageTokenizerError.codeOutOfRange(image: b, position: p, code: code, codebookSize: 1 << bits)
                }
                for c in 0..<bits { base[c * hw + p] = (code >> (bits - 1 - c)) & 1 == 1 ? 1 : -1 }
            }
        }
        return out
    }

    /// The quantiser's auxiliary losses (unweighted; the trainer applies the config's weights).
    public struct Losses {
        /// `‖sg(q) − z‖² + β‖q − sg(z)‖²`, each a mean over elements.
        public var commitment: Tensor
        /// `mean H(σ(T·z))`: low when every bit is decided confidently.
        public var sampleEntropy: Tensor
        /// `mean_c H(mean_batch σ(T·z_c))`: high when every bit is used both ways across the batch.
        public var codebookEntropy: Tensor
        /// `sampleEntropy − codebookEntropy`, the term the entropy weight multiplies.
        public var entropy: Tensor { sampleEntropy - codebookEntropy }
    }

    /// Commitment and entropy terms for latents `z` [B, bits, h, w] and their straight-through
    /// quantisation `q` (docs/DESIGN.md "Image tokenizer"). Entropies in nats, averaged per bit.
    ///
    /// `.perBit` scores the codebook by each bit's batch-mean probability (bits may stay
    /// correlated); `.joint` by the batch-mean distribution over all 2^bits codes, whose
    /// probabilities factorise over the bits (MAGVIT-v2's form), which also rewards using bit
    /// combinations evenly; with `factors` > 1 the bits split into that many consecutive groups,
    /// each scored jointly (Open-MAGVIT2's factorised codebook). Divided by `bits`, all lie in
    /// [0, log 2].
    public static func losses(z: Tensor, q: Tensor, beta: Float, temperature: Float,
                              codebookEntropy mode: ImageTokenizerConfig.CodebookEntropy = .perBit,
                              factors: Int = 1) -> Losses {
        let commitment = (q.detach() - z).square().mean() + (q - z.detach()).square().mean() * beta
        let p = (z * temperature).sigmoid()
        let sample = binaryEntropy(p).mean()
        let codebook: Tensor
        switch mode {
        case .perBit:
            codebook = binaryEntropy(p.mean(axes: [0, 2, 3])).mean()
        case .joint:
            // Per factor of bits / factors consecutive channels; the factors' entropies add up.
            let bits = z.shape[1], width = bits / factors
            var total = jointCodebookEntropy(p.slice(axis: 1, 0..<width))
            for f in 1..<max(factors, 1) { total = total + jointCodebookEntropy(p.slice(axis: 1, (f * width)..<((f + 1) * width))) }
            codebook = total * (1 / Float(bits))
        }
        return Losses(commitment: commitment, sampleEntropy: sample, codebookEntropy: codebook)
    }

    /// Entropy of the batch-mean code distribution, where position i gives code k the
    /// probability Π_c (bit_c(k) ? p_ic : 1 − p_ic), from bit probabilities p [B, bits, h, w].
    public static func jointCodebookEntropy(_ p: Tensor) -> Tensor {
        let bits = p.shape[1], codes = 1 << bits
        let rows = p.permute([0, 2, 3, 1]).reshape([-1, bits]).clamp(1e-6, 1 - 1e-6)
        // [bits, codes]: 1 where code k has bit c set (MSB first), and its complement.
        var ones = [Float](repeating: 0, count: bits * codes)
        for c in 0..<bits { for k in 0..<codes where (k >> (bits - 1 - c)) & 1 == 1 { ones[c * codes + k] = 1 } }
        let set = Tensor(shape: [bits, codes], values: ones), unset = Tensor(shape: [bits, codes], values: ones.map { 1 - $0 })
        let logProbability = rows.log().matmul(set) + rows.affine(scale: -1, shift: 1).log().matmul(unset)
        let mean = logProbability.exp().mean(axes: [0]).clamp(1e-12, 1)
        return -(mean * mean.log()).sum()
    }

    /// Element-wise `−p·log p − (1−p)·log(1−p)`, with p kept off 0 and 1 so logs stay finite.
    static func binaryEntropy(_ p: Tensor) -> Tensor {
        let pc = p.clamp(1e-6, 1 - 1e-6)
        let qc = pc.affine(scale: -1, shift: 1)
        return -(pc * pc.log() + qc * qc.log())
    }
}

/// Bad input to the image tokenizer, as one line naming what is wrong and where.
public enum ImageTokenizerError: Error, Equatable, CustomStringConvertible {
    case imageSize(image: Int, width: Int, height: Int, expected: Int)
    case codeCount(image: Int, got: Int, expected: Int)
    case codeOutOfRange(image: Int, position: Int, code: Int, codebookSize: Int)
    case model(path: String, message: String)

    public var description: String {
        switch self {
        case let .imageSize(i, w, h, e): return "image \(i): \(w)×\(h) pixels, the tokenizer needs \(e)×\(e)"
        case let .codeCount(i, g, e): return "codes of image \(i): \(g) codes, the tokenizer needs \(e)"
        case let .codeOutOfRange(i, p, c, n): return "codes of image \(i), position \(p): code \(c) is outside 0..<\(n)"
        case let .model(path, message): return "\(path): \(message)"
        }
    }
}

/// The whole tokenizer: encoder, LFQ and decoder, with image-level `encode` / `decode`.
public final class ImageTokenizer: Layer, @unchecked Sendable {
    public let config: ImageTokenizerConfig
    public let encoder: TokenizerEncoder
    public let decoder: TokenizerDecoder
    /// Batch-1 inference buffers (see ImageTokenizerFast.swift): one per concurrent caller,
    /// kept for reuse, so parallel encoding neither races nor allocates per image.
    private var idleFastPaths: [TokenizerFastPath] = []
    private let fastPathLock = NSLock()

    /// A freshly initialised tokenizer (seeded, so two calls give identical weights).
    public init(config: ImageTokenizerConfig, seed: UInt64 = 0) throws {
        try config.validate()
        self.config = config
        var rng = RNG(seed: seed)
        encoder = TokenizerEncoder(config: config, rng: &rng)
        decoder = TokenizerDecoder(config: config, rng: &rng)
    }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [("encoder", encoder), ("decoder", decoder)])
    }

    /// Copies `other`'s encoder weights into this tokenizer, whose encoder settings must be the
    /// same (a decoder retrained on a frozen encoder keeps every code).
    public func adoptEncoder(of other: ImageTokenizer) throws {
        guard other.config.sameEncoder(as: config) else {
            throw ModelConfigError(field: nil, message: "the encoders differ (image_size, bits, channels, res_blocks or groups); only decoder settings may change")
        }
        try Self.copy(other.encoder.parameters(prefix: "encoder"), into: encoder.parameters(prefix: "encoder"))
    }

    /// Copies every weight of `other` (a warm start); both must hold the same tensors, by name
    /// and shape. The loss settings may differ.
    public func adoptWeights(of other: ImageTokenizer) throws {
        try Self.copy(other.parameters(prefix: ""), into: parameters(prefix: ""))
    }

    /// Checks every tensor before copying any, so a refused copy leaves the weights as they were.
    private static func copy(_ source: [Parameter], into target: [Parameter]) throws {
        let differs = { (i: Int) in i >= source.count || source[i].name != target[i].name || source[i].tensor.shape != target[i].tensor.shape }
        if let i = target.indices.first(where: differs) {
            let there = i < source.count ? "\(source[i].name) \(source[i].tensor.shape)" : "nothing"
            throw ModelConfigError(field: target[i].name, message: "tensor \(i) is \(there) there, \(target[i].name) \(target[i].tensor.shape) here")
        }
        guard source.count == target.count else {
            throw ModelConfigError(field: nil, message: "it has \(source.count) tensors, this config \(target.count)")
        }
        for (to, from) in zip(target, source) { to.tensor.data.update(from: from.tensor.data, count: to.tensor.count) }
    }

    /// A hash of what decides the codes: the encoder-side settings and the encoder's weights.
    /// Cached image codes stay valid across decoder-only retraining (`--encoder-from`).
    public var encoderFingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        func mix<T>(_ value: T) { withUnsafeBytes(of: value) { for b in $0 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 } } }
        let c = config
        for v in [c.imageSize, c.bits, c.groups] + c.channels + [-1] + c.resBlocks { mix(v) }
        for p in encoder.parameters(prefix: "encoder") {
            for v in p.tensor.shape { mix(v) }
            for i in 0..<p.tensor.count { mix(p.tensor.data[i].bitPattern) }
        }
        return String(hash, radix: 16)
    }

    // MARK: Tensors (training)

    /// Images [B, 3, S, S] in [-1, 1] → latents z [B, bits, S/4, S/4] (before quantisation).
    public func encodeLatents(_ images: Tensor) -> Tensor { encoder(images) }

    /// Quantised latents [B, bits, S/4, S/4] → images [B, 3, S, S] (unclamped).
    public func decodeLatents(_ q: Tensor) -> Tensor { decoder(q) }

    // MARK: Images (inference)

    /// Row-major code grids (`tokenCount` codes in `0..<codebookSize`), one per image.
    public func encode(_ images: [RGBImage]) throws -> [[Int]] {
        LFQ.codes(inferLatents(try ImageTensor.tensor(from: images, side: config.imageSize)))
    }

    /// The row-major code grid of one image (`tokenCount` codes).
    public func encode(_ image: RGBImage) throws -> [Int] { try encode([image])[0] }

    /// Images for row-major code grids.
    public func decode(_ codes: [[Int]]) throws -> [RGBImage] {
        let q = try LFQ.latents(codes: codes, bits: config.bits, side: config.tokensPerSide)
        return ImageTensor.images(from: inferImages(q))
    }

    /// The image for one row-major code grid.
    public func decode(_ codes: [Int]) throws -> RGBImage { try decode([codes])[0] }

    /// Encode then decode.
    public func reconstruct(_ image: RGBImage) throws -> RGBImage { try decode(try encode(image)) }

    /// `encodeLatents` without autograd, one image at a time on the fast path.
    public func inferLatents(_ images: Tensor) -> Tensor {
        let B = images.shape[0], S = config.imageSize, t = config.tokensPerSide
        let z = Tensor(uninitialized: [B, config.bits, t, t])
        withFastPath { fast in
            for b in 0..<B {
                fast.encode(encoder, image: images.data + b * 3 * S * S, side: S, output: z.data + b * config.bits * t * t)
            }
        }
        return z
    }

    /// `decodeLatents` without autograd, one image at a time on the fast path.
    public func inferImages(_ q: Tensor) -> Tensor {
        let B = q.shape[0], S = config.imageSize, t = config.tokensPerSide
        let out = Tensor(uninitialized: [B, 3, S, S])
        withFastPath { fast in
            for b in 0..<B {
                fast.decode(decoder, latents: q.data + b * config.bits * t * t, bits: config.bits, side: t, output: out.data + b * 3 * S * S)
            }
        }
        return out
    }

    private func withFastPath(_ body: (TokenizerFastPath) -> Void) {
        let fast = fastPathLock.withLock { idleFastPaths.popLast() } ?? TokenizerFastPath(config: config)
        body(fast)
        fastPathLock.withLock { idleFastPaths.append(fast) }
    }
}

/// Conversions between 8-bit RGB images and NCHW tensors in [-1, 1].
public enum ImageTensor {
    /// [B, 3, side, side]; every image must be side×side.
    public static func tensor(from images: [RGBImage], side: Int) throws -> Tensor {
        let plane = side * side
        let out = Tensor(uninitialized: [images.count, 3, side, side])
        for (b, image) in images.enumerated() {
            guard image.width == side && image.height == side else {
                throw ImageTokenizerError.imageSize(image: b, width: image.width, height: image.height, expected: side)
            }
            fill(out.data + b * 3 * plane, from: image.pixels, plane: plane)
        }
        return out
    }

    /// Writes one image's HWC bytes as CHW values in [-1, 1].
    public static func fill(_ dst: UnsafeMutablePointer<Float>, from pixels: [UInt8], plane: Int) {
        pixels.withUnsafeBufferPointer { px in
            for p in 0..<plane {
                for c in 0..<3 { dst[c * plane + p] = Float(px[3 * p + c]) * (2 / 255) - 1 }
            }
        }
    }

    /// Images from [B, 3, H, W], clamping to [-1, 1] and rounding to bytes.
    public static func images(from t: Tensor) -> [RGBImage] {
        let B = t.shape[0], H = t.shape[2], W = t.shape[3], plane = H * W
        return (0..<B).map { b in
            let src = t.data + b * 3 * plane
            var pixels = [UInt8](repeating: 0, count: 3 * plane)
            for p in 0..<plane {
                for c in 0..<3 {
                    let v = (min(max(src[c * plane + p], -1), 1) + 1) * 127.5
                    pixels[3 * p + c] = UInt8(v.rounded())
                }
            }
            return RGBImage(width: W, height: H, pixels: pixels)
        }
    }
}
