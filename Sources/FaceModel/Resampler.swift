import Tensor

// The Perceiver resampler (UniF²ace appendix E, after Flamingo's Perceiver resampler): a fixed
// set of learned latent queries, one per position it writes to, reads a conditioning sequence
// of any length through cross-attention and comes out as a [positions, d_model] matrix.
//
//   x0 = W_in · input + E_pos                       [B, n, r]  (E_pos: learned, per input token,
//                                                              so the resampler knows which is which)
//   L0 = latents (learned)                          [B, P, r]
//   for each layer:
//     L = L + Attn(q = LN_q(L), kv = concat(LN_x(x0), LN_q(L)))   (optionally + log(P/n) on the
//                                                                   scores of the n input keys)
//     L = L + FFN(LN_f(L))
//   out = W_out · LN_out(L)                          [B, P, d_model]
//
// `r` (resampler_dim) is narrower than the model, which keeps it cheap enough to run for every
// training example; its output depends only on the conditioning, so inference computes it once
// per request (per MaskGIT step for the mask ratio).

/// One resampler layer: cross-attention from the latents to (input ++ latents), then an MLP.
public final class ResamplerLayer: Layer {
    public let lnLatents: LayerNorm, lnInput: LayerNorm, lnFFN: LayerNorm
    public let wq: Linear, wk: Linear, wv: Linear, wo: Linear
    public let fc1: Linear, fc2: Linear
    let heads: Int

    init(dim: Int, heads: Int, outStd: Float, rng: inout RNG) {
        lnLatents = LayerNorm(dim); lnInput = LayerNorm(dim); lnFFN = LayerNorm(dim)
        let std = 1 / Float(dim).squareRoot()
        wq = Linear(dim, dim, bias: false, std: std, rng: &rng)
        wk = Linear(dim, dim, bias: false, std: std, rng: &rng)
        wv = Linear(dim, dim, bias: false, std: std, rng: &rng)
        wo = Linear(dim, dim, bias: false, std: outStd, rng: &rng)
        fc1 = Linear(dim, 4 * dim, std: std, rng: &rng)
        fc2 = Linear(4 * dim, dim, std: outStd, rng: &rng)
        self.heads = heads
    }

    /// latents [B, P, r], input [B, n, r] → [B, P, r]. `keyBias`: additive scores [P, n + P].
    func callAsFunction(_ latents: Tensor, input: Tensor, keyBias: Tensor?) -> Tensor {
        let q = lnLatents(latents)
        let kv = Tensor.concat([lnInput(input), q], axis: 1)
        var l = latents + wo(wq(q).attention(k: wk(kv), v: wv(kv), heads: heads, mask: keyBias))
        l = l + fc2(fc1(lnFFN(l)).gelu())
        return l
    }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [("ln_latents", lnLatents), ("ln_input", lnInput), ("attn.wq", wq), ("attn.wk", wk),
                                   ("attn.wv", wv), ("attn.wo", wo), ("ln_ffn", lnFFN), ("ffn.fc1", fc1), ("ffn.fc2", fc2)])
    }
}

/// Maps a conditioning sequence [B, n, inputDim] to [B, positions, outputDim].
public final class Resampler: Layer {
    public let inputProjection: Linear
    /// Learned embedding of each input token's index [n, r] (attention alone is order-blind).
    public let inputPositions: Tensor
    /// The learned queries [positions, r].
    public let latents: Tensor
    public let layers: [ResamplerLayer]
    public let lnOut: LayerNorm
    public let outputProjection: Linear
    public let positions: Int
    public let inputDim: Int
    /// log(P/n) on the input keys' scores (`resampler_balanced_keys`); nil: plain attention.
    let keyBias: Tensor?

    public init(inputDim: Int, inputTokens: Int, positions: Int, outputDim: Int, dim: Int, depth: Int, heads: Int, outStd: Float,
                balancedKeys: Bool = false, rng: inout RNG) {
        inputProjection = Linear(inputDim, dim, std: 1 / Float(inputDim).squareRoot(), rng: &rng)
        inputPositions = Tensor.randn([inputTokens, dim], std: 0.1, rng: &rng)
        latents = Tensor.randn([positions, dim], std: 0.5, rng: &rng)
        let layerOutStd = 1 / Float(dim).squareRoot() / (2 * Float(depth)).squareRoot()
        layers = (0..<depth).map { _ in ResamplerLayer(dim: dim, heads: heads, outStd: layerOutStd, rng: &rng) }
        lnOut = LayerNorm(dim)
        outputProjection = Linear(dim, outputDim, bias: false, std: outStd, rng: &rng)
        self.positions = positions
        self.inputDim = inputDim
        if balancedKeys {
            let S = inputTokens + positions, bias = logf(Float(positions) / Float(inputTokens))
            keyBias = Tensor(shape: [positions, S], values: (0..<(positions * S)).map { $0 % S < inputTokens ? bias : 0 })
        } else {
            keyBias = nil
        }
    }

    /// input [B, n, inputDim] → [B, positions, outputDim].
    public func callAsFunction(_ input: Tensor) -> Tensor {
        let n = inputPositions.shape[0]
        precondition(input.rank == 3 && input.shape[1] == n && input.shape[2] == inputDim, "resampler: input \(input.shape), expected [B, \(n), \(inputDim)]")
        let B = input.shape[0], r = latents.shape[1]
        let x = inputProjection(input) + inputPositions
        let query = latents.reshape([1, positions, r])
        var l = B == 1 ? query : Tensor.concat([Tensor](repeating: query, count: B), axis: 0)
        for layer in layers { l = layer(l, input: x, keyBias: keyBias) }
        return outputProjection(lnOut(l))
    }

    public func parameters(prefix: String) -> [Parameter] {
        var children: [(String, Layer?)] = [("input_proj", inputProjection)]
        children += layers.enumerated().map { ("layers.\($0.offset)", $0.element) }
        children += [("ln_out", lnOut), ("output_proj", outputProjection)]
        return collectParameters(prefix, children, own: [("latents", latents), ("input_positions", inputPositions)])
    }
}

/// The sinusoidal embedding of a mask ratio m ∈ [0, 1] (a transformer position embedding of
/// 1000·m, the usual diffusion time-step embedding): [sin(1000·m·ω_i), cos(1000·m·ω_i)] with
/// ω_i = 10000^(−i/(dim/2)).
public func maskRatioEmbedding(_ ratio: Float, dim: Int) -> [Float] {
    let half = dim / 2
    var out = [Float](repeating: 0, count: dim)
    for i in 0..<half {
        let angle = 1000 * ratio * powf(10000, -Float(i) / Float(half))
        out[i] = sinf(angle)
        out[half + i] = cosf(angle)
    }
    return out
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
