import Foundation
import Testing
import Tensor
import TestSupport
@testable import FaceModel

/// `tinyConfig` with the sequence-level MoE on and a small resampler and encoder widths.
func tinySequenceConfig(tokenMoE: Bool = true) -> ModelConfig {
    var c = tinyConfig(tokenMoE: tokenMoE)
    c.sequenceMoE = true
    c.resamplerDim = 8
    c.resamplerHeads = 2
    c.resamplerDepth = 2
    c.noiseEmbeddingDim = 4
    c.clipTokens = 2
    c.clipDim = 3
    c.faceTokens = 1
    c.faceDim = 5
    c.faceReadoutDim = 4
    return c
}

/// Deterministic random embeddings of the tiny shapes.
func tinyEmbeddings(_ c: ModelConfig, seed: UInt64) -> ImageEmbeddings {
    ImageEmbeddings(clip: rand([c.clipTokens * c.clipDim], seed: seed).values, face: rand([c.faceTokens * c.faceDim], seed: seed + 1).values,
                    readout: rand([c.faceReadoutDim], seed: seed + 2).values)
}

/// Rows of B sequences of length T whose positions `image` are image slots 0, 1, ….
func rows(B: Int, T: Int, image: Range<Int>) -> [SequenceRows] {
    (0..<B).map { b in SequenceRows(rows: (b * T)..<((b + 1) * T), image: image.enumerated().map { (b * T + $0.element, $0.offset) }) }
}

/// Pooling over every row of each sequence.
func meanPooling(B: Int, T: Int) -> Tensor {
    var v = [Float](repeating: 0, count: B * B * T)
    for b in 0..<B { for t in 0..<T { v[b * B * T + b * T + t] = 1 / Float(T) } }
    return Tensor(shape: [B, B * T], values: v)
}

@Suite struct ResamplerTests {
    @Test(arguments: [false, true]) func gradientsMatchFiniteDifferences(balancedKeys: Bool) {
        var rng = RNG(seed: 3)
        let r = Resampler(inputDim: 3, inputTokens: 3, positions: 4, outputDim: 5, dim: 8, depth: 2, heads: 2, outStd: 0.5,
                          balancedKeys: balancedKeys, rng: &rng)
        let input = rand([2, 3, 3], seed: 4)
        let picked = [input, r.latents, r.inputPositions, r.inputProjection.weight, r.layers[0].wq.weight, r.layers[1].wk.weight,
                      r.layers[0].fc1.weight, r.layers[1].lnLatents.weight, r.outputProjection.weight]
        GradCheck(eps: 1e-3, maxNMSE: 1e-3, samplesPerInput: 16).run(picked) { _ in r(input) }
        #expect(r(input).shape == [2, 4, 5])
    }

    @Test func outputDependsOnTheInputAndNotOnOtherBatchRows() {
        var rng = RNG(seed: 5)
        let r = Resampler(inputDim: 2, inputTokens: 2, positions: 3, outputDim: 4, dim: 8, depth: 1, heads: 2, outStd: 0.5, rng: &rng)
        let a = rand([1, 2, 2], seed: 1), b = rand([1, 2, 2], seed: 2)
        let both = GradMode.withoutGrad { r(Tensor.concat([a, b], axis: 0)) }
        let alone = GradMode.withoutGrad { r(a) }
        #expect(maxDiff(both.slice(axis: 0, 0..<1), alone) < 1e-5)
        #expect(maxDiff(both.slice(axis: 0, 0..<1), both.slice(axis: 0, 1..<2)) > 1e-3)
    }

    /// One conditioning token among 64 latents: plain attention gives it 1/65 of the weight, so
    /// the output hardly depends on it; balanced keys give it half, and the output follows it.
    @Test func balancedKeysLetOneInputTokenThrough() {
        func sensitivity(_ balanced: Bool) -> Float {
            var rng = RNG(seed: 9)
            let r = Resampler(inputDim: 6, inputTokens: 1, positions: 64, outputDim: 4, dim: 16, depth: 2, heads: 2, outStd: 0.5,
                              balancedKeys: balanced, rng: &rng)
            let a = GradMode.withoutGrad { r(rand([1, 1, 6], seed: 1)) }, b = GradMode.withoutGrad { r(rand([1, 1, 6], seed: 2)) }
            let scale = a.values.map { $0 * $0 }.reduce(0, +).squareRoot()
            return zip(a.values, b.values).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / scale
        }
        let plain = sensitivity(false), balanced = sensitivity(true)
        #expect(balanced > 5 * plain, "relative change of the output between two inputs: plain \(plain), balanced \(balanced)")
    }

    @Test func maskRatioEmbeddingSeparatesRatios() {
        let a = maskRatioEmbedding(0.25, dim: 8), b = maskRatioEmbedding(0.3, dim: 8)
        #expect(a.count == 8 && a != b)
        #expect(maskRatioEmbedding(0, dim: 4) == [0, 0, 1, 1])
    }
}

@Suite struct SequenceMoELayerTests {
    let B = 3, T = 5, d = 6
    let image = 2..<4

    /// A layer, hidden states and resampled conditioning where the router's top-2 is clear
    /// (no near-ties a finite difference could flip) and both `must` experts are chosen.
    func clearSetup(_ task: SequenceLayout.Task, must: [SequenceExpert]) throws -> (SequenceMoE, Tensor, Tensor) {
        for seed in UInt64(0)..<300 {
            var rng = RNG(seed: seed)
            let moe = SequenceMoE(task: task, dim: d, rng: &rng)
            moe.router.weight.copyValues(from: rand([3, d], seed: seed + 1000, scale: 3))
            for (_, beta) in moe.betaLogits { beta.data[0] = 0.3 }
            let h = rand([B * T, d], seed: seed + 2000)
            let s = GradMode.withoutGrad { moe.router(meanPooling(B: B, T: T).matmul(h)).softmax() }.values
            var chosen = Set<SequenceExpert>(), gap: Float = 1
            for b in 0..<B {
                let sorted = s[(b * 3)..<(b * 3 + 3)].sorted(by: >)
                gap = min(gap, sorted[1] - sorted[2], sorted[0] - sorted[1])
                let order = (0..<3).sorted { s[b * 3 + $0] > s[b * 3 + $1] }
                chosen.insert(moe.experts[order[0]]); chosen.insert(moe.experts[order[1]])
            }
            if gap > 0.03 && must.allSatisfy(chosen.contains) {
                return (moe, h, rand([B, image.count, d], seed: seed + 3000))
            }
        }
        throw CancellationError()
    }

    @Test(arguments: [SequenceLayout.Task.t2i, .mmu])
    func routerAndExpertGradientsMatchFiniteDifferences(task: SequenceLayout.Task) throws {
        let must: [SequenceExpert] = task == .t2i ? [.zero, .noise] : [.clip, .face]
        let (moe, h, r) = try clearSetup(task, must: must)
        let sequences = rows(B: B, T: T, image: image)
        let pooling = meanPooling(B: B, T: T)
        let betas = moe.experts.compactMap { moe.betaLogits[$0] }
        GradCheck(eps: 1e-3, maxNMSE: 1e-3, samplesPerInput: 24).run([h, moe.router.weight, r] + betas) { _ in
            moe(h, sequences: sequences, pooling: pooling, forced: nil, resampled: { _ in r }).out
        }
        // The router's gradient is non-zero: the gates depend on it.
        #expect((moe.router.weight.grad?.values ?? []).contains { $0 != 0 })
    }

    @Test func zeroExpertContributesNothingAndCopyIsTheIdentity() {
        var rng = RNG(seed: 1)
        let moe = SequenceMoE(task: .t2i, dim: d, rng: &rng)
        let h = rand([2 * T, d], seed: 2), r = rand([2, image.count, d], seed: 3)
        let sequences = rows(B: 2, T: T, image: image)
        func run(_ chosen: [Int], _ gates: [Float]) -> Tensor {
            let forced = SequenceRouting(experts: moe.experts, sequences: 2, chosen: chosen, gates: gates, scores: [])
            return GradMode.withoutGrad { moe(h, sequences: sequences, pooling: nil, forced: forced, resampled: { _ in r }).out }
        }
        // copy + zero: the zero expert adds nothing, so the output is the copy's gate times h.
        let truncated = run([0, 1, 1, 0], [0.7, 0.3, 0.2, 0.8])
        #expect(maxDiff(truncated.slice(axis: 0, 0..<T), h.slice(axis: 0, 0..<T) * 0.7) < 1e-6)
        #expect(maxDiff(truncated.slice(axis: 0, T..<(2 * T)), h.slice(axis: 0, T..<(2 * T)) * 0.8) < 1e-6)
        // copy + noise: rows outside the image pass through bit for bit; image rows blend.
        let beta = moe.beta(.noise)
        let blended = run([0, 2, 2, 0], [0.6, 0.4, 0.4, 0.6])
        for b in 0..<2 {
            for t in 0..<T {
                let row = b * T + t
                for j in 0..<d {
                    let hv = h.data[row * d + j], got = blended.data[row * d + j]
                    if image.contains(t) {
                        let rv = r.data[(b * image.count + t - image.lowerBound) * d + j]
                        #expect(Swift.abs(got - (0.6 * hv + 0.4 * (beta * hv + (1 - beta) * rv))) < 1e-5)
                    } else {
                        #expect(got == hv)
                    }
                }
            }
        }
        // With β = 1 a conditioning expert is a copy: copy + noise is the identity, bit for bit.
        moe.betaLogits[.noise]!.data[0] = 40
        #expect(run([0, 2, 2, 0], [0.6, 0.4, 0.4, 0.6]).values == h.values)
    }
}

@Suite struct SequenceMoEModelTests {
    let builder = SequenceBuilder(config: tinySequenceConfig())

    func t2iLayout(_ model: UnifiedModel) -> SequenceLayout {
        let v = model.vocab
        var ids = [0, 3, 5, 7].map { v.imageOffset + $0 }
        ids[1] = v.mask; ids[2] = v.mask
        return builder.t2i(text: [1, 2, 3], imageIDs: ids).0
    }

    func mmuLayout(_ model: UnifiedModel) -> SequenceLayout {
        builder.mmu(imageIDs: [1, 2, 3, 4].map { model.vocab.imageOffset + $0 }, turns: [.init(user: [5, 6], assistant: [7, 8, 9])],
                    userPrefix: [1], assistantPrefix: [2]).0
    }

    /// The same loss as the token-level model test, with conditioning for both tasks.
    func loss(_ model: UnifiedModel) -> Tensor {
        let t2i = t2iLayout(model), mmu = mmuLayout(model)
        let (h, rec) = model.forward([t2i], balanceRows: Array(0..<t2i.count), conditioning: [.maskRatio(0.5)])
        let rows = [t2i.imageRange.lowerBound + 1, t2i.imageRange.lowerBound + 2]
        let imageLoss = model.imageLogits(h.indexSelect(rows: rows)).crossEntropy(targets: [3, 5])
        let (h2, rec2) = model.forward([mmu], balanceRows: Array(0..<mmu.count), conditioning: [.image(tinyEmbeddings(model.config, seed: 9))])
        let textLoss = model.textLogits(h2.indexSelect(rows: mmu.textTargets)).crossEntropy(targets: mmu.textTargets.map { mmu.ids[$0 + 1] })
        var total = imageLoss + textLoss
        if let b = rec.balanceLoss { total = total + b }
        if let b = rec2.balanceLoss { total = total + b }
        return total
    }

    /// Routers with clear preferences, conditioning experts that blend, so the finite
    /// differences never flip a top-2 choice and every part gets a gradient.
    func decisiveModel(seed: UInt64, facePath: FacePath = .none) -> UnifiedModel {
        var config = tinySequenceConfig()
        facePath.apply(&config)
        let model = UnifiedModel(config: config, seed: seed)
        // Zero-initialised; random here so that their paths carry a gradient.
        for t in [model.faceToken, model.faceContext, model.faceReadout].compactMap({ $0 }) {
            t.proj.weight.copyValues(from: rand(t.proj.weight.shape, seed: seed + 99, scale: 0.5))
            t.norm.weight.copyValues(from: rand(t.norm.weight.shape, seed: seed + 98, scale: 0.5) + 1)
        }
        for (l, block) in model.blocks.enumerated() {
            for moe in [block.t2iSequenceMoE!, block.mmuSequenceMoE!] {
                moe.router.weight.copyValues(from: rand([3, model.config.dModel], seed: seed * 31 + UInt64(l), scale: 4))
                for (_, beta) in moe.betaLogits { beta.data[0] = 0 }
            }
        }
        return model
    }

    @Test(arguments: FacePath.allCases) func wholeModelGradientsMatchFiniteDifferences(facePath: FacePath) {
        let model = decisiveModel(seed: 11, facePath: facePath)
        let names: Set = facePath != .none ? Set(model.neutralAtInitParameterNames).union(["embed.weight", "layers.0.attn.wq.weight", "head.weight"]) : ["embed.weight", "layers.0.attn.wq.weight", "layers.1.seq_moe.t2i.router.weight", "layers.0.seq_moe.mmu.router.weight",
                          "layers.0.seq_moe.t2i.noise.beta_logit", "layers.1.seq_moe.mmu.clip.beta_logit", "layers.1.seq_moe.mmu.face.beta_logit",
                          "resampler.noise.latents", "resampler.clip.input_proj.weight", "resampler.face.layers.1.attn.wv.weight",
                          "resampler.noise.output_proj.weight", "head.weight"]
        let picked = model.allParameters.filter { names.contains($0.name) }
        #expect(picked.count == names.count)
        GradCheck(eps: 1e-3, maxNMSE: 2e-3, samplesPerInput: 12).run(picked.map(\.tensor)) { _ in self.loss(model).reshape([1]) }
    }

    @Test func withTheSequenceMoEOffTheModelIsTheTokenMoEOnlyModel() {
        var offConfig = tinySequenceConfig()
        offConfig.sequenceMoE = false
        let off = UnifiedModel(config: offConfig, seed: 5)
        let on = UnifiedModel(config: tinySequenceConfig(), seed: 5)
        // Same weights under the same names; the sequence level only adds its own tensors.
        let onShared = on.allParameters.filter { !$0.name.contains("seq_moe") && !$0.name.hasPrefix("resampler.") }
        #expect(off.allParameters.map(\.name) == onShared.map(\.name))
        #expect(zip(off.allParameters, onShared).allSatisfy { $0.tensor.values == $1.tensor.values })
        #expect(on.allParameters.count > onShared.count)
        #expect(!off.allParameters.contains { $0.name.contains("seq_moe") || $0.name.hasPrefix("resampler") })
        // With β = 1 a conditioning expert is a copy: routing every sequence to copy + it gives
        // exactly the model without the sequence level, for both tasks.
        for block in on.blocks { for moe in [block.t2iSequenceMoE!, block.mmuSequenceMoE!] { for (_, b) in moe.betaLogits { b.data[0] = 40 } } }
        for (layout, conditioning) in [(t2iLayout(on), SequenceConditioning.maskRatio(0.5)), (mmuLayout(on), .image(tinyEmbeddings(on.config, seed: 2)))] {
            let experts = SequenceExpert.group(layout.task)
            let copyAndConditioning = SequenceRouting(experts: experts, sequences: 1, chosen: [0, 2], gates: [0.5, 0.5], scores: [])
            let (hOn, recOn) = GradMode.withoutGrad {
                on.forward([layout], mask: nil, balanceRows: nil, cache: nil, positionOffset: 0, conditioning: [conditioning],
                           forcedSequenceRouting: Array(repeating: copyAndConditioning, count: on.config.layers))
            }
            let (hOff, recOff) = GradMode.withoutGrad { off.forward([layout]) }
            #expect(hOn.values == hOff.values)
            #expect(recOff.sequenceRouting.isEmpty && recOn.sequenceRouting.count == on.config.layers)
        }
    }

    @Test func routingRecordHoldsBothLevels() {
        let model = UnifiedModel(config: tinySequenceConfig(), seed: 3)
        let t2i = t2iLayout(model)
        let (_, rec) = GradMode.withoutGrad { model.forward([t2i, t2i]) }
        #expect(rec.tokenRouting.count == 2 && rec.sequenceRouting.count == 2)
        for r in rec.sequenceRouting {
            #expect(r.experts == [.copy, .zero, .noise] && r.sequences == 2)
            #expect(r.chosen.count == 4 && r.chosen[0] != r.chosen[1])
            #expect(Swift.abs(r.gates[0] + r.gates[1] - 1) < 1e-6 && r.gates[0] >= r.gates[1])
            #expect(Swift.abs(r.scores.prefix(3).reduce(0, +) - 1) < 1e-5)
            #expect(Swift.abs(r.weights(sequence: 1).reduce(0, +) - 1) < 1e-6)
        }
        let mmu = mmuLayout(model)
        let (_, rec2) = GradMode.withoutGrad { model.forward([mmu], conditioning: [.image(tinyEmbeddings(model.config, seed: 1))]) }
        #expect(rec2.sequenceRouting.allSatisfy { $0.experts == [.copy, .clip, .face] })
    }

    /// Isolated turns: every turn of the packed sequence computes what a sequence holding that
    /// turn alone computes (a chat cleared before the question), padding included.
    @Test func isolatedTurnsEachMatchTheTurnAlone() {
        var c = tinySequenceConfig()
        c.maxSequenceLength = 48
        let model = UnifiedModel(config: c, seed: 6)
        let builder = SequenceBuilder(config: c)
        let image = [1, 2, 3, 4].map { model.vocab.imageOffset + $0 }
        let turns: [SequenceBuilder.Turn] = [.init(user: [5, 6], assistant: [7, 8, 9]), .init(user: [10], assistant: [11]),
                                             .init(user: [12, 13, 14], assistant: [15, 16])]
        let conditioning = SequenceConditioning.image(tinyEmbeddings(c, seed: 2))
        let packed = builder.padded(builder.mmu(imageIDs: image, turns: turns, userPrefix: [1], assistantPrefix: [2], isolatedTurns: true).0, to: 40)
        let (packedHidden, _) = GradMode.withoutGrad { model.forward([packed], conditioning: [conditioning]) }
        var targetsSeen = 0, start = packed.textStart
        for turn in turns {
            let alone = builder.mmu(imageIDs: image, turns: [turn], userPrefix: [1], assistantPrefix: [2]).0
            let (hidden, _) = GradMode.withoutGrad { model.forward([alone], conditioning: [conditioning]) }
            let length = alone.count - alone.textStart
            #expect(Array(packed.ids[start..<(start + length)]) == Array(alone.ids[alone.textStart...]))
            #expect(Array(packed.positions![start..<(start + length)]) == Array(alone.textStart..<alone.count))
            for j in 0..<length {
                let a = packedHidden.slice(axis: 0, (start + j)..<(start + j + 1)).values
                let b = hidden.slice(axis: 0, (alone.textStart + j)..<(alone.textStart + j + 1)).values
                #expect(zip(a, b).allSatisfy { Swift.abs($0 - $1) < 1e-4 }, "turn at \(start), offset \(j)")
            }
            targetsSeen += alone.textTargets.count
            start += length
        }
        #expect(packed.textTargets.count == targetsSeen && start == packed.count - packed.isPad.filter { $0 }.count)
        // Without isolation a later turn sees the earlier ones, so its states differ.
        let chained = builder.mmu(imageIDs: image, turns: turns, userPrefix: [1], assistantPrefix: [2]).0
        #expect(chained.positions == nil && chained.turnOfText == nil)
    }

    /// T2I without explicit conditioning reads each layout's mask ratio (2 of 4 masked here).
    @Test func t2iConditioningDefaultsToTheMaskRatio() {
        let model = decisiveModel(seed: 4)
        let t2i = t2iLayout(model)
        let (implicit, _) = GradMode.withoutGrad { model.forward([t2i]) }
        let (explicit, _) = GradMode.withoutGrad { model.forward([t2i], conditioning: [.maskRatio(0.5)]) }
        let (other, _) = GradMode.withoutGrad { model.forward([t2i], conditioning: [.maskRatio(0.9)]) }
        #expect(implicit.values == explicit.values)
        #expect(maxDiff(implicit, other) > 0)
    }

    /// A T2I batch whose text segment is only as long as its longest prompt gives the same
    /// hidden states at every non-pad position, and the same routing, as the full-length batch.
    @Test func shortTextSegmentEqualsTheFullLengthSequence() {
        let model = decisiveModel(seed: 8)
        let v = model.vocab
        var ids = [2, 4, 6, 1].map { v.imageOffset + $0 }
        ids[0] = v.mask
        let texts = [[3, 4], []]  // a prompt and CFG's empty one
        let slots = builder.promptSlots(texts)
        #expect(slots == 4 && builder.promptLength == 6)
        let full = texts.map { builder.t2i(text: $0, imageIDs: ids).0 }
        let short = texts.map { builder.t2i(text: $0, imageIDs: ids, promptSlots: slots).0 }
        #expect(short[0].count == full[0].count - 2)
        #expect(short[0].positions![short[0].imageRange] == ArraySlice(full[0].imageRange))
        let ratio = SequenceConditioning.maskRatio(0.25)
        let (hf, rf) = GradMode.withoutGrad { model.forward(full, conditioning: [ratio, ratio]) }
        let (hs, rs) = GradMode.withoutGrad { model.forward(short, conditioning: [ratio, ratio]) }
        #expect(rf.sequenceRouting.map(\.chosen) == rs.sequenceRouting.map(\.chosen))
        for (a, b) in zip(rf.sequenceRouting, rs.sequenceRouting) {
            #expect(zip(a.gates, b.gates).allSatisfy { abs($0 - $1) < 1e-5 })
        }
        let d = model.config.dModel, Tf = full[0].count, Ts = short[0].count
        for b in 0..<2 {
            for i in 0..<Tf where !full[b].isPad[i] {
                let j = i < 1 + slots ? i : i - (Tf - Ts)
                #expect(!short[b].isPad[j] && short[b].ids[j] == full[b].ids[i])
                for c in 0..<d {
                    #expect(abs(hf.data[(b * Tf + i) * d + c] - hs.data[(b * Ts + j) * d + c]) < 1e-5, "sequence \(b) position \(i)")
                }
            }
        }
    }

    /// Decoding token by token with a KV cache equals the full recompute with the sequence MoE
    /// on: the routing is decided from the image prefix, which the conversation cannot change.
    @Test(arguments: FacePath.allCases) func kvCachedDecodingEqualsFullRecompute(facePath: FacePath) {
        let model = decisiveModel(seed: 6, facePath: facePath)
        let full = mmuLayout(model)
        let conditioning: [SequenceConditioning] = [.image(tinyEmbeddings(model.config, seed: 4))]
        let (hFull, recFull) = GradMode.withoutGrad { model.forward([full], conditioning: conditioning) }
        let prefixLength = full.textStart + 2
        var prefix = full
        prefix.ids = Array(full.ids.prefix(prefixLength))
        prefix.isPad = Array(full.isPad.prefix(prefixLength))
        prefix.textTargets = []
        let cache = KVCache(layers: model.config.layers)
        let (hPrefix, recPrefix) = GradMode.withoutGrad { model.forward([prefix], cache: cache, conditioning: conditioning) }
        #expect(maxDiff(hPrefix, hFull.slice(axis: 0, 0..<prefixLength)) < 1e-5)
        #expect(recPrefix.sequenceRouting.map(\.chosen) == recFull.sequenceRouting.map(\.chosen))
        let d = model.config.dModel
        for t in prefixLength..<full.count {
            let step = SequenceLayout(task: .mmu, ids: [full.ids[t]], imageRange: full.imageRange, isPad: [false], textTargets: [], textStart: 0)
            let mask = Tensor(shape: [1, 1, t + 1], values: [Float](repeating: 0, count: t + 1))
            let (h, rec) = GradMode.withoutGrad { model.forward([step], mask: mask, cache: cache, positionOffset: t) }
            #expect(maxDiff(h, hFull.slice(axis: 0, t..<(t + 1)).reshape([1, d])) < 1e-5, "position \(t)")
            #expect(rec.sequenceRouting.map(\.chosen) == recFull.sequenceRouting.map(\.chosen))
        }
        // Routing reads the image prefix only: the conversation does not move it.
        var longer = full
        longer.ids += [10, 11, 12]; longer.isPad += [false, false, false]
        let (_, recLonger) = GradMode.withoutGrad { model.forward([longer], conditioning: conditioning) }
        #expect(recLonger.sequenceRouting.map(\.chosen) == recFull.sequenceRouting.map(\.chosen))
        #expect(zip(recLonger.sequenceRouting, recFull.sequenceRouting).allSatisfy { a, b in
            zip(a.gates, b.gates).allSatisfy { Swift.abs($0 - $1) < 1e-5 }
        })
        cache.truncate(to: 0)
        #expect(cache.sequenceContext == nil && cache.faceContext == nil)
    }

    /// A face path starts at zero: a model with it computes what the model without it does,
    /// and a warm start from weights without it loads (strict loading still names it).
    @Test(arguments: [FacePath.token, .context, .readout]) func facePathStartsNeutralAndThenReadsTheFaceEmbedding(facePath: FacePath) throws {
        var config = tinySequenceConfig()
        let plain = UnifiedModel(config: config, seed: 3)
        facePath.apply(&config)
        let withToken = UnifiedModel(config: config, seed: 3)
        let names = Set(["norm.weight", "norm.bias", "proj.weight"].map { "\(facePath.parameterPrefix).\($0)" })
        #expect(withToken.neutralAtInitParameterNames == names)
        #expect(names.isSubset(of: Set(withToken.taskParameters(.mmu).map(\.name))))
        #expect(names.isDisjoint(with: Set(withToken.taskParameters(.t2i).map(\.name))))
        let layout = mmuLayout(plain)
        func hidden(_ model: UnifiedModel, face seed: UInt64) -> Tensor {
            GradMode.withoutGrad { model.forward([layout], conditioning: [.image(tinyEmbeddings(model.config, seed: seed))]).hidden }
        }
        #expect(hidden(withToken, face: 1).values == hidden(plain, face: 1).values)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("face-token-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try plain.allParameters.save(to: path)
        let file = try SafetensorsFile(path: path)
        #expect(throws: SafetensorsError.self) { try withToken.allParameters.load(from: file) }
        try withToken.allParameters.load(from: file, allowMissing: withToken.neutralAtInitParameterNames)

        // Once trained away from zero, the answer rows read the face embedding (and the
        // `<|eoi|>` row too through the token), even with the sequence-level MoE (the
        // resamplers' path) off.
        config.sequenceMoE = false
        let direct = UnifiedModel(config: config, seed: 3)
        let projection = (direct.faceToken ?? direct.faceContext ?? direct.faceReadout)!.proj.weight
        projection.copyValues(from: rand(projection.shape, seed: 5))
        FacePath.none.apply(&config)
        let blind = UnifiedModel(config: config, seed: 3)
        let eoi = layout.ids.firstIndex(of: plain.vocab.eoi)!, d = config.dModel
        func rowDiff(_ model: UnifiedModel, _ t: Int) -> Float {
            let a = hidden(model, face: 1), b = hidden(model, face: 2)
            return (0..<d).map { Swift.abs(a.values[t * d + $0] - b.values[t * d + $0]) }.max()!
        }
        #expect((rowDiff(direct, eoi) > 1e-4) == (facePath == .token) && rowDiff(direct, layout.count - 1) > 1e-4)
        #expect(rowDiff(blind, eoi) == 0 && rowDiff(blind, layout.count - 1) == 0)
        // Up to rounding: the text rows change, so the token-level experts batch other rows, and
        // OpenBLAS may then block row 0's products differently (seen on AMD EPYC: 2.4e-7).
        if facePath != .token { #expect(rowDiff(direct, 0) < 1e-5, "the image prefix does not read the face context") }

        // Without the sequence context the cache still carries the projected face to every
        // decoded token: decoding equals the full recompute.
        let conditioning: [SequenceConditioning] = [.image(tinyEmbeddings(config, seed: 1))]
        let full = hidden(direct, face: 1)
        let cache = KVCache(layers: config.layers)
        let prefixLength = layout.textStart + 1
        var prefix = layout
        prefix.ids = Array(layout.ids.prefix(prefixLength)); prefix.isPad = Array(layout.isPad.prefix(prefixLength)); prefix.textTargets = []
        _ = GradMode.withoutGrad { direct.forward([prefix], cache: cache, conditioning: conditioning) }
        for t in prefixLength..<layout.count {
            let step = SequenceLayout(task: .mmu, ids: [layout.ids[t]], imageRange: layout.imageRange, isPad: [false], textTargets: [], textStart: 0)
            let mask = Tensor(shape: [1, 1, t + 1], values: [Float](repeating: 0, count: t + 1))
            let h = GradMode.withoutGrad { direct.forward([step], mask: mask, cache: cache, positionOffset: t).hidden }
            #expect(maxDiff(h, full.slice(axis: 0, t..<(t + 1)).reshape([1, d])) < 1e-5, "position \(t)")
        }
    }

    @Test func configKeysAndValidation() throws {
        var c = tinySequenceConfig()
        let text = String(decoding: try c.jsonData(), as: UTF8.self)
        for key in ["resampler_depth", "resampler_dim", "resampler_heads", "noise_embedding_dim", "clip_tokens", "clip_dim",
                    "face_tokens", "face_dim", "sequence_balance_loss_weight", "sequence_moe", "token_moe",
                    "mmu_face_token", "mmu_face_context", "mmu_face_readout", "face_readout_dim"] {
            #expect(text.contains("\"\(key)\""), "\(key)")
        }
        #expect(try JSONDecoder().decode(ModelConfig.self, from: try c.jsonData()) == c)
        func field(_ config: ModelConfig) -> String? {
            do { try config.validate(); return nil } catch let e as ModelConfigError { return e.field } catch { return "\(error)" }
        }
        var readout = c
        readout.mmuFaceReadout = true
        #expect(field(readout) == nil && readout.readsImageEmbeddings)
        readout.faceReadoutDim = 0
        #expect(field(readout) == "face_readout_dim")
        c.resamplerHeads = 3
        #expect(field(c) == "resampler_heads")
    }

    /// A model directory whose face encoder reads out another number of values than the config
    /// names is refused, naming both.
    @Test func readoutWidthIsCheckedAgainstTheEncoders() throws {
        let encoders = try tinyEncoders()
        var c = tinySequenceConfig()
        c.clipTokens = encoders.config.clipTokens; c.clipDim = encoders.config.clipDim; c.faceDim = encoders.config.faceDim
        c.mmuFaceReadout = true
        c.faceReadoutDim = encoders.config.faceReadoutDim
        try ModelDirectory.check(encoders: encoders, against: c, path: "dir")
        c.faceReadoutDim += 1
        #expect { try ModelDirectory.check(encoders: encoders, against: c, path: "dir") } throws: { "\($0)".contains("face_readout_dim 9") && "\($0)".contains("8 values") }
    }
}

/// The direct paths from the face encoder into understanding sequences.
enum FacePath: CaseIterable, CustomTestStringConvertible {
    /// `all`: the three together, as the shipped model runs them (context and readout summed).
    case none, token, context, readout, all

    func apply(_ config: inout ModelConfig) {
        config.mmuFaceToken = self == .token || self == .all
        config.mmuFaceContext = self == .context || self == .all
        config.mmuFaceReadout = self == .readout || self == .all
    }

    var parameterPrefix: String { "mmu_face_\(self)" }
    var testDescription: String { "\(self)" }
}

@Suite struct ResamplerSensitivityTests {
    func model(balancedKeys: Bool) -> UnifiedModel {
        var c = tinyConfig()
        c.sequenceMoE = true
        c.imageTokens = 16
        c.maxSequenceLength = 40
        c.clipTokens = 2; c.clipDim = 3; c.faceTokens = 1; c.faceDim = 4
        c.resamplerDim = 8; c.resamplerHeads = 2; c.resamplerDepth = 2; c.noiseEmbeddingDim = 8
        c.resamplerBalancedKeys = balancedKeys
        return UnifiedModel(config: c, seed: 5)
    }

    func images(_ n: Int) -> [SequenceConditioning] {
        (0..<n).map { i in
            .image(ImageEmbeddings(clip: rand([6], seed: UInt64(10 + i)).values, face: rand([4], seed: UInt64(30 + i)).values))
        }
    }

    /// Zero when the conditioning is the same every time; above zero when it differs; and a
    /// one-token face embedding among 16 latents moves the output more with balanced keys.
    @Test func measuresHowMuchTheOutputFollowsTheInput() {
        let plain = model(balancedKeys: false), balanced = model(balancedKeys: true)
        let same = Array(repeating: images(1)[0], count: 4)
        #expect(plain.resamplerSensitivity(.face, same) < 1e-6)
        #expect(plain.resamplerSensitivity(.clip, images(4)) > 1e-3)
        #expect(plain.resamplerSensitivity(.noise, [.maskRatio(0.1), .maskRatio(0.9)]) > 0)
        #expect(balanced.resamplerSensitivity(.face, images(4)) > 2 * plain.resamplerSensitivity(.face, images(4)))
    }
}
