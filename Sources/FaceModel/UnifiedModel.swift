import Tensor

// The unified UniF²ace-style transformer, readable top to bottom:
//   ids → embedding → L × Block → final LayerNorm → head (logits over the unified vocabulary)
//   Block: h = x + Attn(LN(x)); h = h + TokenMoE_g(LN(h)); out = SeqMoE_g(h)
// where g is the task group of the batch (T2I or MMU), each with its own experts, and SeqMoE
// mixes whole-sequence experts (SequenceMoE.swift) fed by resamplers shared by all layers.

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

    /// The rotary angles for `positions` (T entries, or B·T: one list per sequence), shared by
    /// every layer of a forward pass; nil when the model has no rotary dimensions.
    func rotaryTable(_ positions: [Int]) -> RotaryTable? {
        rotaryDims > 0 ? RotaryTable(positions: positions, rotaryDims: rotaryDims, base: ropeBase) : nil
    }

    /// x [B, T, d] at the positions of `rotary`; `mask` additive [B, T, S]. With a cache, the
    /// new keys/values are appended to it and attention covers cached + new positions.
    func callAsFunction(_ x: Tensor, rotary: RotaryTable?, mask: Tensor, cache: LayerKVCache? = nil) -> Tensor {
        var q = wq(x), k = wk(x)
        let v = wv(x)
        if let rotary {
            q = q.rope(rotary, heads: heads)
            k = k.rope(rotary, heads: heads)
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
///
/// With the sequence-level MoE it also keeps the prefill's sequence context: the conditioning,
/// its resampled form, and each layer's routing, which later (incremental) calls reuse — the
/// routing is decided once from the prefix (see SequenceMoE.swift). Truncating keeps it while
/// any of the prefix remains.
public final class KVCache {
    public let layers: [LayerKVCache]
    var sequenceContext: SequenceContext?
    /// `mmu_face_context` / `mmu_face_readout`: the prefill's projected face per sequence
    /// [B, d], added to every later text row.
    var faceContext: Tensor?
    public init(layers: Int) { self.layers = (0..<layers).map { _ in LayerKVCache() } }
    public var length: Int { layers.first?.length ?? 0 }
    public func truncate(to length: Int) {
        layers.forEach { $0.truncate(to: length) }
        if length == 0 { sequenceContext = nil; faceContext = nil }
    }
}

/// One transformer block with grouped token-level MoE and grouped sequence-level MoE.
public final class Block: Layer {
    public let ln1: LayerNorm, ln2: LayerNorm
    public let attn: Attention
    public let t2iMoE: TokenMoE, mmuMoE: TokenMoE
    /// nil when `sequence_moe` is off.
    public let t2iSequenceMoE: SequenceMoE?, mmuSequenceMoE: SequenceMoE?

    /// `sequenceRNG` initialises the sequence-level MoE from its own stream, so switching it
    /// off leaves every other weight of a seeded model unchanged.
    init(config c: ModelConfig, rng: inout RNG, sequenceRNG: inout RNG) {
        // GPT-2 style: residual output projections scaled down by √(2L).
        let outStd = c.initStd / (2 * Float(c.layers)).squareRoot()
        ln1 = LayerNorm(c.dModel, eps: c.layerNormEps)
        ln2 = LayerNorm(c.dModel, eps: c.layerNormEps)
        attn = Attention(config: c, outStd: outStd, rng: &rng)
        t2iMoE = TokenMoE(config: c, outStd: outStd, rng: &rng)
        mmuMoE = TokenMoE(config: c, outStd: outStd, rng: &rng)
        t2iSequenceMoE = c.sequenceMoE ? SequenceMoE(task: .t2i, dim: c.dModel, rng: &sequenceRNG) : nil
        mmuSequenceMoE = c.sequenceMoE ? SequenceMoE(task: .mmu, dim: c.dModel, rng: &sequenceRNG) : nil
    }

    func moe(_ task: SequenceLayout.Task) -> TokenMoE { task == .t2i ? t2iMoE : mmuMoE }
    func sequenceMoE(_ task: SequenceLayout.Task) -> SequenceMoE? { task == .t2i ? t2iSequenceMoE : mmuSequenceMoE }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [("ln1", ln1), ("attn", attn), ("ln2", ln2), ("moe.t2i", t2iMoE), ("moe.mmu", mmuMoE),
                                   ("seq_moe.t2i", t2iSequenceMoE), ("seq_moe.mmu", mmuSequenceMoE)])
    }
}

/// Everything a forward pass decided and produced besides the hidden states.
public struct ForwardRecord {
    /// Per layer: the token-level routing of every row (B·T rows), or nil for dense layers.
    public var tokenRouting: [TokenRouting?] = []
    /// Per layer: the sequence-level routing of every sequence (empty when the sequence-level
    /// MoE is off).
    public var sequenceRouting: [SequenceRouting] = []
    /// Balance loss summed over layers (token and sequence level) for this batch's group (nil
    /// without routing or when not requested).
    public var balanceLoss: Tensor?
}

/// The unified model.
public final class UnifiedModel: Layer {
    public let config: ModelConfig
    public let vocab: TokenIDs
    public let embed: Embedding
    public let blocks: [Block]
    public let lnFinal: LayerNorm
    public let head: Linear
    /// The conditioning experts' resamplers (noise, clip, face), shared by all layers; empty
    /// when the sequence-level MoE is off.
    public let resamplers: [SequenceExpert: Resampler]
    /// `mmu_face_token`: face embedding → d_model, added to the `<|eoi|>` row of MMU sequences.
    public let faceToken: FaceToken?
    /// `mmu_face_context`: face embedding → d_model, added to every text row after `<|eoi|>`.
    public let faceContext: FaceToken?
    /// `mmu_face_readout`: the face encoder's attribute and detail probabilities → d_model,
    /// added to the same rows.
    public let faceReadout: FaceToken?

    /// Weights a warm start may lack: a model trained without them computes exactly the same
    /// function with them at their initial values (the face projections start at zero).
    public var neutralAtInitParameterNames: Set<String> {
        Set(faceParameters.map(\.name))
    }

    private var faceParameters: [Parameter] {
        collectParameters("", faceLayers)
    }

    private var faceLayers: [(String, Layer?)] {
        [("mmu_face_token", faceToken), ("mmu_face_context", faceContext), ("mmu_face_readout", faceReadout)]
    }

    public init(config: ModelConfig, seed: UInt64 = 0) {
        self.config = config
        vocab = TokenIDs(config)
        var rng = RNG(seed: seed)
        var sequenceRNG = RNG(seed: seed).derived(0x5E9_0E)
        embed = Embedding(vocab.size, config.dModel, std: config.initStd, rng: &rng)
        blocks = (0..<config.layers).map { _ in Block(config: config, rng: &rng, sequenceRNG: &sequenceRNG) }
        lnFinal = LayerNorm(config.dModel, eps: config.layerNormEps)
        head = Linear(config.dModel, vocab.size, bias: false, std: config.initStd, rng: &rng)
        var resamplers: [SequenceExpert: Resampler] = [:]
        if config.sequenceMoE {
            for (expert, inputDim, inputTokens) in [(SequenceExpert.noise, config.noiseEmbeddingDim, 1), (.clip, config.clipDim, config.clipTokens),
                                                    (.face, config.faceDim, config.faceTokens)] {
                resamplers[expert] = Resampler(inputDim: inputDim, inputTokens: inputTokens, positions: config.imageTokens, outputDim: config.dModel,
                                               dim: config.resamplerDim, depth: config.resamplerDepth, heads: config.resamplerHeads,
                                               outStd: config.initStd, balancedKeys: config.resamplerBalancedKeys, rng: &sequenceRNG)
            }
        }
        self.resamplers = resamplers
        faceToken = config.mmuFaceToken ? FaceToken(inputDim: config.faceTokens * config.faceDim, dim: config.dModel) : nil
        faceContext = config.mmuFaceContext ? FaceToken(inputDim: config.faceTokens * config.faceDim, dim: config.dModel) : nil
        faceReadout = config.mmuFaceReadout ? FaceToken(inputDim: config.faceReadoutDim, dim: config.dModel) : nil
    }

    public func parameters(prefix: String) -> [Parameter] {
        var children: [(String, Layer?)] = [("embed", embed)]
        children += blocks.enumerated().map { ("layers.\($0.offset)", $0.element) }
        children += [("ln_f", lnFinal), ("head", head)]
        children += [SequenceExpert.noise, .clip, .face].map { ("resampler.\($0.rawValue)", resamplers[$0]) }
        children += faceLayers
        return collectParameters(prefix, children)
    }

    /// The weights only `task`'s sequences read: its token-level experts and router, its
    /// sequence-level router and β logits, and the resamplers of its conditioning experts (named
    /// as in `allParameters`). Everything else — embedding, attention, norms, head — is shared,
    /// so training only these leaves the other task's outputs bit for bit unchanged.
    public func taskParameters(_ task: SequenceLayout.Task) -> [Parameter] {
        let group = task == .t2i ? "t2i" : "mmu"
        var children: [(String, Layer?)] = []
        for (i, block) in blocks.enumerated() {
            children += [("layers.\(i).moe.\(group)", block.moe(task)), ("layers.\(i).seq_moe.\(group)", block.sequenceMoE(task))]
        }
        children += SequenceExpert.group(task).filter(\.isConditioning).map { ("resampler.\($0.rawValue)", resamplers[$0]) }
        return collectParameters("", children) + (task == .mmu ? faceParameters : [])
    }

    /// Runs `layouts` (same task, same length) and returns final hidden states [B·T, d].
    ///
    /// - `balanceRows`: rows (in B·T) whose routing counts for the balance loss; nil skips it.
    /// - `cache`/`positionOffset`: incremental decoding (the layouts then hold only new tokens,
    ///   and `mask` must be given as [B, T, cached + T]). The call that fills an empty cache
    ///   decides the sequence-level routing; later calls reuse it.
    /// - `conditioning`: one per sequence, for the sequence-level MoE. T2I defaults to each
    ///   layout's mask ratio (masked image tokens / image tokens); MMU without it reads zero
    ///   embeddings (benchmarks only: real chats pass the image's embeddings).
    public func forward(_ layouts: [SequenceLayout], mask explicitMask: Tensor? = nil, balanceRows: [Int]? = nil,
                        cache: KVCache? = nil, positionOffset: Int = 0,
                        conditioning: [SequenceConditioning]? = nil) -> (hidden: Tensor, record: ForwardRecord) {
        forward(layouts, mask: explicitMask, balanceRows: balanceRows, cache: cache, positionOffset: positionOffset,
                conditioning: conditioning, forcedSequenceRouting: nil)
    }

    /// `forward` with every layer's sequence-level routing given instead of decided (tests).
    func forward(_ layouts: [SequenceLayout], mask explicitMask: Tensor?, balanceRows: [Int]?, cache: KVCache?,
                 positionOffset: Int, conditioning: [SequenceConditioning]?,
                 forcedSequenceRouting: [SequenceRouting]?) -> (hidden: Tensor, record: ForwardRecord) {
        let B = layouts.count, T = layouts[0].count, d = config.dModel
        let task = layouts[0].task
        precondition(layouts.allSatisfy { $0.count == T && $0.task == task }, "forward: a batch must share task and length")
        precondition(conditioning == nil || conditioning!.count == B, "forward: \(conditioning!.count) conditionings for \(B) sequences")
        let mask = explicitMask ?? Tensor(shape: [B, T, T], values: layouts.flatMap(SequenceBuilder.attentionMask))
        // Rotary positions: the layouts' own when they carry them (one list per sequence), else
        // consecutive from the cache's length.
        let positions: [Int]
        if layouts.contains(where: { $0.positions != nil }) {
            precondition(positionOffset == 0, "forward: explicit positions with a filled cache")
            positions = layouts.flatMap { $0.positions ?? Array(0..<T) }
        } else {
            positions = Array(positionOffset..<(positionOffset + T))
        }
        // Incremental when the cache already holds positions: routing then comes from the cache.
        let incremental = (cache?.length ?? 0) > 0
        var sequence: SequenceContext? = nil
        if config.sequenceMoE {
            if incremental {
                guard let context = cache?.sequenceContext else { preconditionFailure("forward: the KV cache was filled without its sequence context") }
                sequence = context
            } else {
                sequence = SequenceContext(model: self, layouts: layouts, conditioning: conditioning)
                cache?.sequenceContext = sequence
            }
        }
        let sequenceRows = layouts.enumerated().map { b, layout in
            SequenceRows(rows: (b * T)..<((b + 1) * T),
                         image: (0..<T).compactMap { t in
                             let p = positionOffset + t
                             return layout.imageRange.contains(p) ? (b * T + t, p - layout.imageRange.lowerBound) : nil
                         })
        }
        let decided = incremental ? sequence?.routing : forcedSequenceRouting
        let pooling = sequence != nil && decided == nil ? UnifiedModel.poolingMatrix(layouts) : nil
        let rotary = blocks.first?.attn.rotaryTable(positions)
        var embedded = embed(layouts.flatMap(\.ids))
        if task == .mmu, let faceToken, let images = conditioning ?? sequence?.conditioning {
            // A KV-cached step that does not hold `<|eoi|>` has nothing to add.
            let eoiRows = layouts.enumerated().compactMap { b, layout in layout.ids.firstIndex(of: vocab.eoi).map { (row: b * T + $0, sequence: b) } }
            if !eoiRows.isEmpty, let vectors = faceVectors(faceToken, conditioning: images, input: \.face) {
                embedded = Self.add(vectors, to: embedded, rows: eoiRows)
            }
        }
        if task == .mmu, faceContext != nil || faceReadout != nil {
            // The prefill projects each sequence's face once; incremental steps reuse it.
            let vectors = incremental ? cache?.faceContext : (conditioning ?? sequence?.conditioning).flatMap(contextVectors)
            if !incremental { cache?.faceContext = vectors }
            if let vectors { embedded = Self.add(vectors, to: embedded, rows: Self.textRows(layouts, positionOffset: positionOffset)) }
        }
        var x = embedded.reshape([B, T, d])
        var record = ForwardRecord()
        func addBalance(_ loss: Tensor) { record.balanceLoss = record.balanceLoss.map { $0 + loss } ?? loss }
        for (l, block) in blocks.enumerated() {
            x = x + block.attn(block.ln1(x), rotary: rotary, mask: mask, cache: cache?.layers[l])
            let (mixed, routing, scores) = block.moe(task)(block.ln2(x).reshape([B * T, d]))
            x = x + mixed.reshape([B, T, d])
            record.tokenRouting.append(routing)
            if let balanceRows, let routing, let scores {
                addBalance(TokenMoE.balanceLoss(scores: scores, routing: routing, rows: balanceRows, weight: config.balanceLossWeight))
            }
            if let sequence, let sequenceMoE = block.sequenceMoE(task) {
                let forced = decided?[l]
                let (out, routing, scores) = sequenceMoE(x.reshape([B * T, d]), sequences: sequenceRows, pooling: pooling,
                                                         forced: forced, resampled: { sequence.resampled($0) })
                x = out.reshape([B, T, d])
                record.sequenceRouting.append(routing)
                if !incremental { sequence.routing.append(routing) }
                if balanceRows != nil, let scores, config.sequenceBalanceLossWeight > 0 {
                    addBalance(SequenceMoE.balanceLoss(scores: scores, routing: routing, weight: config.sequenceBalanceLossWeight))
                }
            }
        }
        return (lnFinal(x).reshape([B * T, d]), record)
    }

    /// Each sequence's projected face (its `input`: the embedding or the readout) → [B, d];
    /// nil when a sequence has no image embeddings (then no row gets a face).
    func faceVectors(_ projection: FaceToken, conditioning: [SequenceConditioning], input: KeyPath<ImageEmbeddings, [Float]>) -> Tensor? {
        let width = projection.inputDim
        var faces: [Float] = []
        for c in conditioning {
            guard case let .image(e) = c else { return nil }
            precondition(e[keyPath: input].count == width, "forward: face input of \(e[keyPath: input].count) values, expected \(width)")
            faces += e[keyPath: input]
        }
        return projection(Tensor(shape: [conditioning.count, width], values: faces))
    }

    /// What every text row gets: the face context plus the face readout, whichever are on.
    func contextVectors(_ conditioning: [SequenceConditioning]) -> Tensor? {
        var sum: Tensor? = nil
        for (projection, input) in [(faceContext, \ImageEmbeddings.face), (faceReadout, \ImageEmbeddings.readout)] {
            guard let projection, let v = faceVectors(projection, conditioning: conditioning, input: input) else { continue }
            sum = sum.map { $0 + v } ?? v
        }
        return sum
    }

    /// Every sequence's non-pad text rows in B·T: at or after `textStart`, counting the cache's
    /// positions.
    static func textRows(_ layouts: [SequenceLayout], positionOffset: Int) -> [(row: Int, sequence: Int)] {
        let T = layouts[0].count
        return layouts.enumerated().flatMap { b, layout in
            (0..<T).filter { positionOffset + $0 >= layout.textStart && !layout.isPad[$0] }.map { (row: b * T + $0, sequence: b) }
        }
    }

    /// Adds row `sequence` of `vectors` [B, d] to row `row` of `x` [B·T, d], for each pair.
    static func add(_ vectors: Tensor, to x: Tensor, rows: [(row: Int, sequence: Int)]) -> Tensor {
        rows.isEmpty ? x : x.indexAdd([(rows.map(\.row), vectors.indexSelect(rows: rows.map(\.sequence)))])
    }

    /// The rows whose mean feeds the sequence router: T2I every non-pad position, MMU the image
    /// prefix up to `<|eoi|>` (independent of the conversation, see SequenceMoE.swift).
    public static func routingRows(_ layout: SequenceLayout) -> [Int] {
        switch layout.task {
        case .t2i: return (0..<layout.count).filter { !layout.isPad[$0] }
        case .mmu: return (0..<min(layout.textStart, layout.count)).filter { !layout.isPad[$0] }
        }
    }

    /// [B, B·T]: row b averages sequence b's routing rows.
    static func poolingMatrix(_ layouts: [SequenceLayout]) -> Tensor {
        let B = layouts.count, T = layouts[0].count
        var values = [Float](repeating: 0, count: B * B * T)
        for (b, layout) in layouts.enumerated() {
            let rows = routingRows(layout)
            for t in rows { values[b * B * T + b * T + t] = 1 / Float(max(rows.count, 1)) }
        }
        return Tensor(shape: [B, B * T], values: values)
    }

    /// Resamples one conditioning expert's input for a batch → [B, image tokens, d].
    func resample(_ expert: SequenceExpert, _ conditioning: [SequenceConditioning]) -> Tensor {
        guard let resampler = resamplers[expert] else { preconditionFailure("no resampler for the \(expert.rawValue) expert") }
        let B = conditioning.count
        switch expert {
        case .noise:
            // CFG's conditional and unconditional rows share a ratio: resample each ratio once.
            var ratios: [Float] = [], index: [Int] = []
            for c in conditioning {
                guard case let .maskRatio(m) = c else { preconditionFailure("forward: a T2I sequence needs a mask-ratio conditioning") }
                if let i = ratios.firstIndex(of: m) { index.append(i) } else { index.append(ratios.count); ratios.append(m) }
            }
            let D = config.noiseEmbeddingDim
            let input = Tensor(shape: [ratios.count, 1, D], values: ratios.flatMap { maskRatioEmbedding($0, dim: D) })
            let out = resampler(input)
            if ratios.count == B { return out }
            let P = out.shape[1], d = out.shape[2]
            return out.reshape([ratios.count, P * d]).indexSelect(rows: index).reshape([B, P, d])
        case .clip, .face:
            let tokens = expert == .clip ? config.clipTokens : config.faceTokens
            let dim = expert == .clip ? config.clipDim : config.faceDim
            var values: [Float] = []
            values.reserveCapacity(B * tokens * dim)
            for c in conditioning {
                guard case let .image(e) = c else { preconditionFailure("forward: an MMU sequence needs image embeddings") }
                let v = expert == .clip ? e.clip : e.face
                precondition(v.count == tokens * dim, "forward: \(expert.rawValue) embedding of \(v.count) values, expected \(tokens)×\(dim)")
                values += v
            }
            return resampler(Tensor(shape: [B, tokens, dim], values: values))
        case .copy, .zero:
            preconditionFailure("the \(expert.rawValue) expert has no conditioning")
        }
    }

    /// How much `expert`'s resampled output varies over `conditioning` (two or more): the mean
    /// standard deviation across the inputs of each output value, over the RMS of the mean output.
    /// Training watches it: a resampler whose output no longer depends on its input reads ~0.
    public func resamplerSensitivity(_ expert: SequenceExpert, _ conditioning: [SequenceConditioning]) -> Float {
        let out = GradMode.withoutGrad { resample(expert, conditioning) }
        let n = conditioning.count, width = out.count / max(n, 1), v = out.values
        var spread: Float = 0, meanSquare: Float = 0
        for j in 0..<width {
            var mean: Float = 0
            for i in 0..<n { mean += v[i * width + j] }
            mean /= Float(n)
            var variance: Float = 0
            for i in 0..<n { variance += (v[i * width + j] - mean) * (v[i * width + j] - mean) }
            spread += (variance / Float(n)).squareRoot()
            meanSquare += mean * mean
        }
        return (spread / Float(width)) / max((meanSquare / Float(width)).squareRoot(), 1e-12)
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

/// A direct face projection (`mmu_face_token` onto `<|eoi|>`, `mmu_face_context` and
/// `mmu_face_readout` onto every text row): LayerNorm over the face embedding (or readout),
/// then a linear map to d_model that starts at zero. The norm matters: the face encoder's
/// embedding (ReLU features) has a norm near 170, mostly shared by every face, and an
/// unnormalised projection trained by Adam put a vector a hundred times the size of a token
/// embedding on the `<|eoi|>` row within 600 steps.
public final class FaceToken: Layer {
    public let norm: LayerNorm
    public let proj: Linear
    public let inputDim: Int

    init(inputDim: Int, dim: Int) {
        self.inputDim = inputDim
        norm = LayerNorm(inputDim)
        var unused = RNG(seed: 0)
        proj = Linear(inputDim, dim, bias: false, std: 0, rng: &unused)
    }

    func callAsFunction(_ face: Tensor) -> Tensor { proj(norm(face)) }

    public func parameters(prefix: String) -> [Parameter] {
        collectParameters(prefix, [("norm", norm), ("proj", proj)])
    }
}

/// The sequence-level state of one forward pass (or of a KV-cached conversation): the
/// conditioning, its resampled form computed on first use, and each layer's routing.
final class SequenceContext {
    let model: UnifiedModel
    let conditioning: [SequenceConditioning]
    private var resampledByExpert: [SequenceExpert: Tensor] = [:]
    var routing: [SequenceRouting] = []

    init(model: UnifiedModel, layouts: [SequenceLayout], conditioning: [SequenceConditioning]?) {
        self.model = model
        self.conditioning = conditioning ?? layouts.map { layout in
            switch layout.task {
            case .t2i:
                let masked = layout.ids[layout.imageRange].filter { $0 == model.vocab.mask }.count
                return .maskRatio(Float(masked) / Float(max(layout.imageRange.count, 1)))
            case .mmu:
                return .image(.zeros(for: model.config))
            }
        }
    }

    /// [B, image tokens, d] for a conditioning expert, computed once.
    func resampled(_ expert: SequenceExpert) -> Tensor {
        if let r = resampledByExpert[expert] { return r }
        let r = model.resample(expert, conditioning)
        resampledByExpert[expert] = r
        return r
    }
}
