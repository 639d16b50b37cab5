import Tensor

// The unified UniF²ace-style transformer, readable top to bottom:
//   ids → embedding → L × Block → final LayerNorm → head (logits over the unified vocabulary)
//   Block: h = x + Attn(LN(x)); h = h + TokenMoE_g(LN(h)); out = SeqMoE_g(h)
// where g is the task group of the batch (T2I or MMU), each with its own experts.

/// Multi-head self-attention with rotary positions.
public final class Attention: Layer {
    public let wq: Linear, wk: Linear, wv: Linear, wo: Linear
    let heads: Int, rotaryDims: Int, ropeBase: Float

    init(config c: ModelConfig, outStd: Float, rng: inout RNG) {
        wq = Linear(c.dModel, c.dModel, bias: false, std: c.initStd, rng: &rng)
        wk = Linear(c.dModel, c.dModel, bias: false, std: c.initStd, rng: &rng)
        wv = Linear(c.dModel, c.dModel, bias: false, std: c.initStd, rng: &rng)
        wo = Linear(c.dModel, c.dModel, bias: false, std: outStd, rng: &rng)
        heads = c.heads; rotaryDims = c.rotaryDims; ropeBase = c.ropeBase
    }

    /// x [B, T, d] at `positions` (T entries); `mask` additive [B, T, S]. With a cache, the
    /// new keys/values are appended to it and attention covers cached + new positions.
    func callAsFunction(_ x: Tensor, positions: [Int], mask: Tensor, cache: LayerKVCache? = nil) -> Tensor {
        var q = wq(x), k = wk(x)
        let v = wv(x)
        if rotaryDims > 0 {
            q = q.rope(positions: positions, heads: heads, rotaryDims: rotaryDims, base: ropeBase)
            k = k.rope(positions: positions, heads: heads, rotaryDims: rotaryDims, base: ropeBase)
        }
        if let cache {
            let (kAll, vAll) = cache.append(k: k, v: v)
            return wo(q.attention(k: kAll, v: vAll, heads: heads, mask: mask))
        }
        return wo(q.attention(k: k, v: v, heads: heads, mask: mask))
    }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [("wq", wq), ("wk", wk), ("wv", wv), ("wo", wo)])
    }
}

/// Keys and values of earlier positions for one layer (inference only).
public final class LayerKVCache {
    public private(set) var keys: Tensor?
    public private(set) var values: Tensor?

    public init() {}

    /// Number of cached positions.
    public var length: Int { keys?.shape[1] ?? 0 }

    /// Appends k, v [B, T, d] and returns everything cached so far.
    func append(k: Tensor, v: Tensor) -> (Tensor, Tensor) {
        if let keys, let values {
            self.keys = Tensor.concat([keys, k], axis: 1)
            self.values = Tensor.concat([values, v], axis: 1)
        } else {
            keys = k; values = v
        }
        return (keys!, values!)
    }

    /// Drops positions from `length` on (to re-use an image prefix across chat turns).
    public func truncate(to length: Int) {
        guard let keys, let values, length < keys.shape[1] else { return }
        self.keys = length == 0 ? nil : keys.slice(axis: 1, 0..<length)
        self.values = length == 0 ? nil : values.slice(axis: 1, 0..<length)
    }
}

/// A KV cache for the whole model.
public final class KVCache {
    public let layers: [LayerKVCache]
    public init(layers: Int) { self.layers = (0..<layers).map { _ in LayerKVCache() } }
    public var length: Int { layers.first?.length ?? 0 }
    public func truncate(to length: Int) { layers.forEach { $0.truncate(to: length) } }
}

/// One transformer block with grouped token-level MoE (and, later, the sequence-level MoE).
public final class Block: Layer {
    public let ln1: LayerNorm, ln2: LayerNorm
    public let attn: Attention
    public let t2iMoE: TokenMoE, mmuMoE: TokenMoE

    init(config c: ModelConfig, rng: inout RNG) {
        // GPT-2 style: residual output projections scaled down by √(2L).
        let outStd = c.initStd / (2 * Float(c.layers)).squareRoot()
        ln1 = LayerNorm(c.dModel, eps: c.layerNormEps)
        ln2 = LayerNorm(c.dModel, eps: c.layerNormEps)
        attn = Attention(config: c, outStd: outStd, rng: &rng)
        t2iMoE = TokenMoE(config: c, outStd: outStd, rng: &rng)
        mmuMoE = TokenMoE(config: c, outStd: outStd, rng: &rng)
    }

    func moe(_ task: SequenceLayout.Task) -> TokenMoE { task == .t2i ? t2iMoE : mmuMoE }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [("ln1", ln1), ("attn", attn), ("ln2", ln2), ("moe.t2i", t2iMoE), ("moe.mmu", mmuMoE)])
    }
}

/// Everything a forward pass decided and produced besides the hidden states.
public struct ForwardRecord {
    /// Per layer: the token-level routing of every row (B·T rows), or nil for dense layers.
    public var tokenRouting: [TokenRouting?] = []
    /// Balance loss summed over layers for this batch's group (nil without routing or when
    /// not requested).
    public var balanceLoss: Tensor?
}

/// The unified model.
public final class UnifiedModel: Layer {
    public let config: ModelConfig
    public let vocab: Vocabulary
    public let embed: Embedding
    public let blocks: [Block]
    public let lnFinal: LayerNorm
    public let head: Linear

    public init(config: ModelConfig, seed: UInt64 = 0) {
        self.config = config
        vocab = Vocabulary(config)
        var rng = RNG(seed: seed)
        embed = Embedding(vocab.size, config.dModel, std: config.initStd, rng: &rng)
        blocks = (0..<config.layers).map { _ in Block(config: config, rng: &rng) }
        lnFinal = LayerNorm(config.dModel, eps: config.layerNormEps)
        head = Linear(config.dModel, vocab.size, bias: false, std: config.initStd, rng: &rng)
    }

    public func parameters(prefix: String) -> [Parameter] {
        var children: [(String, Layer?)] = [("embed", embed)]
        children += blocks.enumerated().map { ("layers.\($0.offset)", $0.element) }
        children += [("ln_f", lnFinal), ("head", head)]
        return collectParameters(prefix, children)
    }

    /// Runs `layouts` (same task, same length) and returns final hidden states [B·T, d].
    ///
    /// - `balanceRows`: rows (in B·T) whose routing counts for the balance loss; nil skips it.
    /// - `cache`/`positionOffset`: incremental decoding (the layouts then hold only new tokens,
    ///   and `mask` must be given as [B, T, cached + T]).
    public func forward(_ layouts: [SequenceLayout], mask explicitMask: Tensor? = nil, balanceRows: [Int]? = nil,
                        cache: KVCache? = nil, positionOffset: Int = 0) -> (hidden: Tensor, record: ForwardRecord) {
        let B = layouts.count, T = layouts[0].count, d = config.dModel
        let task = layouts[0].task
        precondition(layouts.allSatisfy { $0.count == T && $0.task == task }, "forward: a batch must share task and length")
        let mask = explicitMask ?? Tensor(shape: [B, T, T], values: layouts.flatMap(SequenceBuilder.attentionMask))
        let positions = Array(positionOffset..<(positionOffset + T))
        var x = embed(layouts.flatMap(\.ids)).reshape([B, T, d])
        var record = ForwardRecord()
        for (l, block) in blocks.enumerated() {
            x = x + block.attn(block.ln1(x), positions: positions, mask: mask, cache: cache?.layers[l])
            let (mixed, routing, scores) = block.moe(task)(block.ln2(x).reshape([B * T, d]))
            x = x + mixed.reshape([B, T, d])
            // Sequence-level MoE (issue 6) plugs in here: x = block.sequenceMoE(task)(x, …).
            record.tokenRouting.append(routing)
            if let balanceRows, let routing, let scores {
                let lb = TokenMoE.balanceLoss(scores: scores, routing: routing, rows: balanceRows, weight: config.balanceLossWeight)
                record.balanceLoss = record.balanceLoss.map { $0 + lb } ?? lb
            }
        }
        return (lnFinal(x).reshape([B * T, d]), record)
    }

    /// Logits over the image codes (mask excluded) for the given hidden rows → [rows, codes].
    public func imageLogits(_ hidden: Tensor) -> Tensor {
        hidden.matmul(head.weight.slice(axis: 0, vocab.imageOffset..<vocab.mask), transposeW: true)
    }

    /// Logits over text tokens and specials for the given hidden rows → [rows, imageOffset].
    public func textLogits(_ hidden: Tensor) -> Tensor {
        hidden.matmul(head.weight.slice(axis: 0, vocab.textPredictable), transposeW: true)
    }
}
