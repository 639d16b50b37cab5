import Tensor

// A small CLIP (Radford et al. 2021): an image tower and a text tower map an image and its
// caption into one embedding space, trained with the symmetric InfoNCE loss at a learned
// temperature. The image tower turns each cell of its final feature grid into a token
// (projection + LayerNorm) and the image embedding is a projection of all the tokens, so the
// tokens — which the MMU CLIP expert reads — are trained by the contrastive loss directly and
// the resampler can attend to where things are.

/// A pre-LN transformer block for the text tower (learned positions, no rotary).
public final class TextBlock: Layer {
    public let ln1: LayerNorm, ln2: LayerNorm
    public let wq: Linear, wk: Linear, wv: Linear, wo: Linear
    public let fc1: Linear, fc2: Linear
    let heads: Int

    init(dim: Int, heads: Int, layers: Int, rng: inout RNG) {
        let std = 1 / Float(dim).squareRoot(), outStd = std / (2 * Float(layers)).squareRoot()
        ln1 = LayerNorm(dim); ln2 = LayerNorm(dim)
        wq = Linear(dim, dim, bias: false, std: std, rng: &rng)
        wk = Linear(dim, dim, bias: false, std: std, rng: &rng)
        wv = Linear(dim, dim, bias: false, std: std, rng: &rng)
        wo = Linear(dim, dim, bias: false, std: outStd, rng: &rng)
        fc1 = Linear(dim, 4 * dim, std: std, rng: &rng)
        fc2 = Linear(4 * dim, dim, std: outStd, rng: &rng)
        self.heads = heads
    }

    /// x [B, T, d]; mask additive [B, T, T].
    func callAsFunction(_ x: Tensor, mask: Tensor) -> Tensor {
        let u = ln1(x)
        let h = x + wo(wq(u).attention(k: wk(u), v: wv(u), heads: heads, mask: mask))
        return h + fc2(fc1(ln2(h)).gelu())
    }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [("ln1", ln1), ("attn.wq", wq), ("attn.wk", wk), ("attn.wv", wv), ("attn.wo", wo),
                                   ("ln2", ln2), ("mlp.fc1", fc1), ("mlp.fc2", fc2)])
    }
}

/// The CLIP-style image–text encoder.
public final class ClipEncoder: Layer {
    public let config: ClipEncoderConfig
    public let trunk: ConvTrunk
    public let tokenProjection: Linear
    public let tokenNorm: LayerNorm
    public let imageProjection: Linear
    public let tokenEmbedding: Embedding
    public let positionEmbedding: Tensor
    public let textBlocks: [TextBlock]
    public let textNorm: LayerNorm
    public let textProjection: Linear
    /// log of the inverse temperature, learned (CLIP's initial 1/0.07, capped at 100).
    public let logitScale: Tensor
    let grid: Int

    public static let maxLogitScale = logf(100)

    init(config full: EncoderConfig, rng: inout RNG) {
        let c = full.clip
        config = c
        trunk = ConvTrunk(channels: c.channels, rng: &rng)
        let width = c.channels.last!
        grid = full.clipTokens
        tokenProjection = Linear(width, c.tokenDim, std: 1 / Float(width).squareRoot(), rng: &rng)
        tokenNorm = LayerNorm(c.tokenDim)
        imageProjection = Linear(c.tokenDim * grid, c.embedDim, std: 1 / Float(c.tokenDim * grid).squareRoot(), rng: &rng)
        tokenEmbedding = Embedding(c.textVocabSize, c.textDim, std: 0.02, rng: &rng)
        positionEmbedding = Tensor.randn([c.maxTextTokens, c.textDim], std: 0.01, rng: &rng)
        textBlocks = (0..<c.textLayers).map { _ in TextBlock(dim: c.textDim, heads: c.textHeads, layers: c.textLayers, rng: &rng) }
        textNorm = LayerNorm(c.textDim)
        textProjection = Linear(c.textDim, c.embedDim, std: 1 / Float(c.textDim).squareRoot(), rng: &rng)
        logitScale = Tensor(filled: logf(1 / 0.07), shape: [1])
    }

    /// The final feature grid [B, C, s, s] of images [B, 3, S, S] in [-1, 1].
    func features(_ images: Tensor) -> Tensor { trunk(images) }

    /// CLIP tokens for the MMU expert: [B, s·s, token_dim], one per grid cell.
    public func imageTokens(_ images: Tensor) -> Tensor {
        let grid = features(images)
        let B = grid.shape[0], C = grid.shape[1], n = grid.shape[2] * grid.shape[3]
        return tokenNorm(tokenProjection(grid.reshape([B, C, n]).transpose(1, 2)))
    }

    /// L2-normalised image embeddings [B, embed], a projection of all the tokens.
    public func imageEmbedding(_ images: Tensor) -> Tensor {
        let tokens = imageTokens(images)
        return l2Normalized(imageProjection(tokens.reshape([tokens.shape[0], tokens.count / tokens.shape[0]])))
    }

    /// L2-normalised text embeddings [B, embed] of token sequences (cut to max_text_tokens).
    public func textEmbedding(_ sequences: [[Int]]) -> Tensor {
        let B = sequences.count, d = config.textDim
        let cut = sequences.map { Array($0.prefix(config.maxTextTokens)) }
        let T = max(cut.map(\.count).max() ?? 1, 1)
        var ids = [Int](), mask = [Float](repeating: 0, count: B * T * T), pool = [Float](repeating: 0, count: B * B * T)
        for (b, s) in cut.enumerated() {
            ids += s + [Int](repeating: 0, count: T - s.count)
            let n = max(s.count, 1)
            // Pad keys are blocked; an empty sequence keeps its first key so softmax is defined.
            for t in 0..<T { for k in n..<T { mask[(b * T + t) * T + k] = -.infinity } }
            for t in 0..<n { pool[b * B * T + b * T + t] = 1 / Float(n) }
        }
        var x = tokenEmbedding(ids).reshape([B, T, d]) + positionEmbedding.slice(axis: 0, 0..<T)
        let m = Tensor(shape: [B, T, T], values: mask)
        for block in textBlocks { x = block(x, mask: m) }
        let pooled = Tensor(shape: [B, B * T], values: pool).matmul(textNorm(x).reshape([B * T, d]))
        return l2Normalized(textProjection(pooled))
    }

    /// Similarity logits [B_img, B_txt] at the learned temperature.
    public func logits(image: Tensor, text: Tensor) -> Tensor {
        image.matmul(text, transposeW: true) * logitScale.clamp(0, ClipEncoder.maxLogitScale).exp()
    }

    /// Symmetric InfoNCE: image i's caption is text i, and the other way round.
    public func contrastiveLoss(image: Tensor, text: Tensor) -> Tensor {
        let l = logits(image: image, text: text)
        let targets = Array(0..<l.shape[0])
        return (l.crossEntropy(targets: targets) + l.transpose(0, 1).crossEntropy(targets: targets)) * 0.5
    }

    public func parameters(prefix: String) -> [Parameter] {
        var children: [(String, Layer?)] = [("image.trunk", trunk), ("image.token_projection", tokenProjection), ("image.token_norm", tokenNorm),
                                            ("image.projection", imageProjection), ("text.token_embedding", tokenEmbedding)]
        children += textBlocks.enumerated().map { ("text.blocks.\($0.offset)", $0.element) }
        children += [("text.norm", textNorm), ("text.projection", textProjection)]
        return collectParameters(prefix, children, own: [("text.position_embedding", positionEmbedding), ("logit_scale", logitScale)])
    }
}

/// Rows scaled to unit L2 norm: x / √(Σx² + ε).
public func l2Normalized(_ x: Tensor) -> Tensor {
    x / (x.square().sum(axes: [x.rank - 1], keepDims: true) + 1e-8).sqrt()
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
