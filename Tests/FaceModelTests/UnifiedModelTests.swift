import Foundation
import Testing
import Tensor
import TestSupport
@testable import FaceModel

/// A model small enough for finite differences: 2 layers, 3 routed experts, 4 image tokens.
func tinyConfig(tokenMoE: Bool = true) -> ModelConfig {
    var c = ModelConfig()
    c.textVocabSize = 20
    c.imageCodebookSize = 8
    c.imageTokens = 4
    c.dModel = 16
    c.layers = 2
    c.heads = 2
    c.rotaryDims = 4
    c.maxPromptTokens = 6
    c.maxSequenceLength = 24
    c.routedExperts = 3
    c.expertsPerToken = 2
    c.expertHidden = 8
    c.tokenMoE = tokenMoE
    c.sequenceMoE = false
    c.initStd = 0.2
    return c
}

@Suite struct SequenceTests {
    let builder = SequenceBuilder(config: tinyConfig())
    var vocab: TokenIDs { builder.vocab }

    @Test func t2iLayoutPadsAndTruncates() {
        let image = (0..<4).map { vocab.imageOffset + $0 }
        let (short, cut1) = builder.t2i(text: [1, 2], imageIDs: image)
        #expect(!cut1)
        #expect(short.count == builder.t2iLength)
        #expect(short.ids.prefix(5) == [vocab.t2i, vocab.bos, 1, 2, vocab.eos])
        #expect(short.ids[short.imageRange] == ArraySlice(image))
        #expect(short.ids[short.imageRange.lowerBound - 1] == vocab.soi)
        #expect(short.ids.last == vocab.eoi)
        #expect(short.isPad.filter { $0 }.count == builder.promptLength - 4)
        let (long, cut2) = builder.t2i(text: Array(0..<10), imageIDs: image)
        #expect(cut2)
        #expect(long.count == builder.t2iLength)
    }

    @Test func mmuTargetsAreTheAssistantTokensAndEos() {
        let image = [Int](repeating: vocab.imageOffset, count: 4)
        let turns = [SequenceBuilder.Turn(user: [3], assistant: [4, 5]), .init(user: [6], assistant: [7])]
        let (l, _) = builder.mmu(imageIDs: image, turns: turns, userPrefix: [1], assistantPrefix: [2])
        let predicted = l.textTargets.map { l.ids[$0 + 1] }
        #expect(predicted == [4, 5, vocab.eos, 7, vocab.eos])
    }

    @Test func omniAttentionMask() {
        let image = (0..<4).map { vocab.imageOffset + $0 }
        let (t2i, _) = builder.t2i(text: [1], imageIDs: image)
        let T = t2i.count
        let m = SequenceBuilder.attentionMask(t2i)
        func open(_ t: Int, _ s: Int) -> Bool { m[t * T + s] == 0 }
        // Text is causal; image rows see everything but pads, including later image tokens.
        #expect(open(2, 1) && !open(1, 2))
        let img = t2i.imageRange
        #expect(open(img.lowerBound, img.upperBound - 1))
        #expect(open(img.upperBound - 1, img.lowerBound))
        for s in 0..<T where t2i.isPad[s] { #expect(!open(img.lowerBound, s)) }

        let (mmu, _) = builder.mmu(imageIDs: image, turns: [.init(user: [3], assistant: [4])], userPrefix: [1], assistantPrefix: [2])
        let U = mmu.count
        let mm = SequenceBuilder.attentionMask(mmu)
        // The prefix is bidirectional; text after it sees the prefix and is causal.
        #expect(mm[0 * U + (mmu.textStart - 1)] == 0)
        #expect(mm[mmu.textStart * U + (mmu.textStart - 1)] == 0)
        #expect(mm[mmu.textStart * U + mmu.textStart + 1] == -.infinity)
        #expect(mm[(mmu.textStart - 1) * U + mmu.textStart] == -.infinity)
    }

    @Test func configRoundTripsAndValidationNamesTheField() throws {
        var c = tinyConfig()
        c.renormalizeGates = true
        let data = try c.jsonData()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"d_model\""))
        let back = try JSONDecoder().decode(ModelConfig.self, from: data)
        #expect(back == c)
        // Missing keys take defaults.
        let partial = try JSONDecoder().decode(ModelConfig.self, from: Data("{\"layers\": 3}".utf8))
        #expect(partial.layers == 3 && partial.dModel == ModelConfig().dModel)
        c.heads = 5
        #expect(throws: ModelConfigError.self) { try c.validate() }
        do { try c.validate() } catch let e as ModelConfigError { #expect(e.field == "heads") }
    }
}

@Suite struct UnifiedModelTests {
    /// Loss over both tasks: image-code CE at every image position of a T2I batch, text CE at
    /// the MMU targets, plus balance losses.
    func loss(_ model: UnifiedModel) -> Tensor {
        let builder = SequenceBuilder(config: model.config)
        let v = model.vocab
        let image = [0, 3, 5, 7].map { v.imageOffset + $0 }
        var masked = image; masked[1] = v.mask; masked[2] = v.mask
        let (t2i, _) = builder.t2i(text: [1, 2, 3], imageIDs: masked)
        let (h, rec) = model.forward([t2i], balanceRows: Array(0..<t2i.count))
        let rows = [t2i.imageRange.lowerBound + 1, t2i.imageRange.lowerBound + 2]
        let imageLoss = model.imageLogits(h.indexSelect(rows: rows)).crossEntropy(targets: [3, 5])
        let (mmu, _) = builder.mmu(imageIDs: image, turns: [.init(user: [4], assistant: [5, 6])], userPrefix: [1], assistantPrefix: [2])
        let (h2, rec2) = model.forward([mmu], balanceRows: Array(0..<mmu.count))
        let textLoss = model.textLogits(h2.indexSelect(rows: mmu.textTargets)).crossEntropy(targets: mmu.textTargets.map { mmu.ids[$0 + 1] })
        var total = imageLoss + textLoss
        if let b = rec.balanceLoss { total = total + b }
        if let b = rec2.balanceLoss { total = total + b }
        return total
    }

    @Test(arguments: [true, false])
    func wholeModelGradientsMatchFiniteDifferences(tokenMoE: Bool) {
        let model = UnifiedModel(config: tinyConfig(tokenMoE: tokenMoE), seed: 1)
        let params = model.allParameters
        // A parameter from every kind of layer: embedding, attention, router, experts, norms, head.
        let picked = params.filter { p in
            ["embed.weight", "layers.0.attn.wq.weight", "layers.1.attn.wo.weight", "layers.0.moe.t2i.router.weight",
             "layers.1.moe.mmu.experts.0.fc1.weight", "layers.0.moe.t2i.shared.0.fc2.weight", "layers.1.ln2.weight",
             "ln_f.bias", "head.weight"].contains(p.name)
        }
        #expect(picked.count >= (tokenMoE ? 9 : 6))
        GradCheck(eps: 1e-3, maxNMSE: 1e-3, samplesPerInput: 16).run(picked.map(\.tensor)) { _ in
            self.loss(model).reshape([1])
        }
    }

    @Test func overfitsOneBatch() {
        let model = UnifiedModel(config: tinyConfig(), seed: 2)
        let opt = AdamW(parameters: model.allParameters, learningRate: 1e-2, weightDecay: 0)
        let first = loss(model).item
        var last = first
        for _ in 0..<150 {
            opt.zeroGrad()
            let l = loss(model)
            l.backward()
            opt.update()
            last = l.item
        }
        #expect(last < 0.1 * first, "loss \(first) → \(last)")
    }

    @Test func routingTraceCoversEveryLayerAndToken() {
        let model = UnifiedModel(config: tinyConfig(), seed: 3)
        let builder = SequenceBuilder(config: model.config)
        let (t2i, _) = builder.t2i(text: [1], imageIDs: [Int](repeating: model.vocab.mask, count: 4))
        let (_, rec) = GradMode.withoutGrad { model.forward([t2i, t2i]) }
        #expect(rec.tokenRouting.count == 2)
        for r in rec.tokenRouting {
            let r = try! #require(r)
            #expect(r.tokens == 2 * t2i.count && r.chosen.count == r.tokens * 2)
            #expect(r.frequencies().reduce(0, +) > 1.99)
            #expect(r.gates.allSatisfy { $0 > 0 && $0 < 1 })
        }
    }

    /// Decoding token by token with a KV cache gives the same hidden states as running the
    /// whole sequence at once.
    @Test func kvCachedDecodingEqualsFullRecompute() {
        let model = UnifiedModel(config: tinyConfig(), seed: 4)
        let builder = SequenceBuilder(config: model.config)
        let v = model.vocab
        let image = [1, 2, 3, 4].map { v.imageOffset + $0 }
        let (full, _) = builder.mmu(imageIDs: image, turns: [.init(user: [5, 6], assistant: [7, 8, 9])], userPrefix: [1], assistantPrefix: [2])
        let (hFull, _) = GradMode.withoutGrad { model.forward([full]) }
        let prefixLength = full.textStart + 2
        var prefix = full
        prefix.ids = Array(full.ids.prefix(prefixLength))
        prefix.isPad = Array(full.isPad.prefix(prefixLength))
        prefix.textTargets = []
        let cache = KVCache(layers: model.config.layers)
        let (hPrefix, _) = GradMode.withoutGrad { model.forward([prefix], cache: cache) }
        #expect(maxDiff(hPrefix, hFull.slice(axis: 0, 0..<prefixLength)) < 1e-5)
        let d = model.config.dModel
        for t in prefixLength..<full.count {
            let step = SequenceLayout(task: .mmu, ids: [full.ids[t]], imageRange: full.imageRange, isPad: [false],
                                      textTargets: [], textStart: 0)
            let mask = Tensor(shape: [1, 1, t + 1], values: [Float](repeating: 0, count: t + 1))
            let (h, _) = GradMode.withoutGrad { model.forward([step], mask: mask, cache: cache, positionOffset: t) }
            #expect(maxDiff(h, hFull.slice(axis: 0, t..<(t + 1)).reshape([1, d])) < 1e-5, "position \(t)")
        }
        #expect(cache.length == full.count)
    }
}

@Suite struct TokenMoEDispatchTests {
    /// Inference runs each expert whole on one worker (one region for all of them); training
    /// runs them one after another with every op split. Both give the same mixture.
    @Test func expertsOnWorkersMatchExpertsInTurn() {
        var c = tinyConfig()
        c.routedExperts = 8
        var rng = RNG(seed: 21)
        let moe = TokenMoE(config: c, outStd: 0.2, rng: &rng)
        let u = rand([300, c.dModel], seed: 22)
        let inTurn = moe(u)
        let onWorkers = GradMode.withoutGrad { moe(u) }
        #expect(inTurn.routing?.chosen == onWorkers.routing?.chosen)
        #expect(maxDiff(inTurn.out, onWorkers.out) < 1e-5)
        #expect(Set(inTurn.routing!.chosen).count == 8)
    }
}
