import Foundation
import Tensor
import FaceModel

/// A text-to-image training example: the prompt's text ids and the image's codes.
public struct T2IExample: Sendable {
    public var prompt: [Int]
    public var codes: [Int]
    public init(prompt: [Int], codes: [Int]) { self.prompt = prompt; self.codes = codes }
}

/// An understanding example: the image's codes, its conversation, and the frozen encoders'
/// embeddings of the image (needed when the sequence-level MoE is on).
public struct MMUExample: Sendable {
    public var codes: [Int]
    public var turns: [SequenceBuilder.Turn]
    public var embeddings: ImageEmbeddings?
    public init(codes: [Int], turns: [SequenceBuilder.Turn], embeddings: ImageEmbeddings? = nil) {
        self.codes = codes; self.turns = turns; self.embeddings = embeddings
    }
}

/// Everything the unified trainer reads, already tokenised.
public struct TrainingCorpus: Sendable {
    public var t2i: [T2IExample]
    public var mmu: [MMUExample]
    /// Token ids of "USER:" and " ASSISTANT:".
    public var userPrefix: [Int]
    public var assistantPrefix: [Int]
    public init(t2i: [T2IExample], mmu: [MMUExample], userPrefix: [Int], assistantPrefix: [Int]) {
        self.t2i = t2i; self.mmu = mmu; self.userPrefix = userPrefix; self.assistantPrefix = assistantPrefix
    }
}

/// What one optimiser step did, for the progress line and the JSONL metrics log.
public struct StepMetrics: Codable, Sendable {
    public var step: Int
    public var loss: Float
    public var t2iMask: Float?
    public var t2iScore: Float?
    public var ntp: Float?
    public var balance: Float
    public var learningRate: Float
    public var gradNorm: Float
    /// Non-padding tokens processed.
    public var tokens: Int
    public var seconds: Double
    /// Mean `−log p(x0)` of the masked image tokens per mask-ratio bucket (`MaskRatioBuckets`);
    /// nil where no image of this step fell in the bucket.
    public var t2iLossByMaskRatio: [Float?]

    enum CodingKeys: String, CodingKey {
        case step, loss, t2iMask = "t2i_mask", t2iScore = "t2i_score", ntp, balance, learningRate = "lr"
        case gradNorm = "grad_norm", tokens, seconds, t2iLossByMaskRatio = "t2i_loss_by_mask_ratio"
    }
}

/// Held-out losses at a step (one line of `heldout.jsonl`).
public struct HeldOutMetrics: Codable, Sendable {
    public var step: Int
    /// The masked-token loss (`L_mask`) and the next-token loss on held-out batches.
    public var heldOutT2IMask: Float?
    public var heldOutNTP: Float?
    /// The same next-token loss with each conversation paired with another face's image: as high
    /// as `heldOutNTP` while the model answers from the text alone, higher once it reads the image.
    public var heldOutNTPOtherImage: Float?
    /// How much each conditioning expert's resampled output changes with its input (noise: over
    /// mask ratios; clip, face: over held-out images), relative to its size. Near 0 means the
    /// expert adds the same thing whatever the conditioning: a learned constant.
    public var resamplerSensitivity: [String: Float]?
    enum CodingKeys: String, CodingKey {
        case step, heldOutT2IMask = "held_out_t2i_mask", heldOutNTP = "held_out_ntp", heldOutNTPOtherImage = "held_out_ntp_other_image"
        case resamplerSensitivity = "resampler_sensitivity"
    }
}

/// Trains the unified model on mixed T2I / MMU batches (docs/DESIGN.md "Losses"):
/// `L = L_D3Diff + λ_mmu·L_NTP + L_bal(T2I) + L_bal(MMU)`, AdamW with warmup + cosine, clipping.
///
/// All randomness (examples, masks, condition dropout, conversation windows) comes from one
/// RNG saved in checkpoints, so a resumed run repeats an uninterrupted one bit for bit.
public final class UnifiedTrainer {
    public let model: UnifiedModel
    public let config: TrainConfig
    public let optimizer: AdamW
    public private(set) var corpus: TrainingCorpus
    public private(set) var step = 0
    private(set) var rng: RNG
    let builder: SequenceBuilder
    /// Weights outside `config.trainedWeights`: they take no gradient (and cost no weight-gradient work).
    let frozen: [Tensor]

    /// Which answer tokens' next-token loss counts more than once (`training.mmu_token_weights`).
    let targetWeights: AnswerTokenWeights

    /// `targetWeights` must be given when `config.mmuTokenWeights` is not empty: the trainer
    /// sees token ids only, so the phrases are resolved with the caller's text tokenizer.
    public init(model: UnifiedModel, config: TrainConfig, corpus: TrainingCorpus,
                targetWeights: AnswerTokenWeights = AnswerTokenWeights()) throws {
        try config.validate()
        if !config.mmuTokenWeights.isEmpty && targetWeights.isEmpty {
            throw TrainingError.config("training.mmu_token_weights: no token ids given for the phrases (resolve them with AnswerTokenWeights(_:tokenizer:))")
        }
        if config.t2iBatch > 0 && corpus.t2i.isEmpty { throw TrainingError.data("no text-to-image examples to train on") }
        if config.mmuBatch > 0 && corpus.mmu.isEmpty { throw TrainingError.data("no conversation examples to train on") }
        let N = model.config.imageTokens, codes = model.config.imageCodebookSize
        for (i, e) in corpus.t2i.enumerated() where e.codes.count != N || e.codes.contains(where: { $0 < 0 || $0 >= codes }) {
            throw TrainingError.data("text-to-image example \(i): expected \(N) image codes in 0..<\(codes)")
        }
        for (i, e) in corpus.mmu.enumerated() where e.codes.count != N || e.turns.isEmpty {
            throw TrainingError.data("conversation example \(i): expected \(N) image codes and at least one turn")
        }
        if model.config.readsImageEmbeddings && config.mmuBatch > 0 {
            // The CLIP and face experts and the face paths read the frozen encoders' embeddings of every MMU image.
            let c = model.config
            let readout = c.mmuFaceReadout ? c.faceReadoutDim : 0
            for (i, e) in corpus.mmu.enumerated() {
                guard let emb = e.embeddings else {
                    throw TrainingError.data("conversation example \(i): no image embeddings, which the sequence-level MoE and the mmu_face_* paths need (build the corpus with the image encoders, or turn them off)")
                }
                // Only the sequence-level MoE reads the CLIP tokens.
                let clip = c.sequenceMoE ? c.clipTokens * c.clipDim : emb.clip.count
                guard emb.clip.count == clip, emb.face.count == c.faceTokens * c.faceDim, readout == 0 || emb.readout.count == readout else {
                    throw TrainingError.data("conversation example \(i): embeddings of \(emb.clip.count) CLIP, \(emb.face.count) face and \(emb.readout.count) readout values, the model expects \(clip), \(c.faceTokens * c.faceDim) and \(readout)")
                }
            }
        }
        self.model = model
        self.config = config
        self.targetWeights = targetWeights
        self.corpus = corpus
        let trained: [Parameter]
        switch config.trainedWeights {
        case .all: trained = model.allParameters
        case .understanding: trained = model.taskParameters(.mmu)
        case .generation: trained = model.taskParameters(.t2i)
        }
        let trainedNames = Set(trained.map(\.name))
        frozen = model.allParameters.filter { !trainedNames.contains($0.name) }.map(\.tensor)
        optimizer = AdamW(parameters: trained, learningRate: config.learningRate, beta2: config.beta2,
                          weightDecay: config.weightDecay)
        let faceProjections = model.neutralAtInitParameterNames
        optimizer.rateScales = trained.map { faceProjections.contains($0.name) ? config.faceProjectionRateScale : 1 }
        rng = RNG(seed: config.seed)
        builder = SequenceBuilder(config: model.config)
    }

    /// The training losses on `heldOut` (e.g. the test split), without gradients: `batches`
    /// batches drawn, masked and windowed exactly as in training but from a fixed seed, so
    /// every call sees the same examples and masks. Training's own RNG is left untouched.
    public func heldOutLosses(_ heldOut: TrainingCorpus, batches: Int = 2) -> HeldOutMetrics {
        let saved = (corpus, rng)
        defer { (corpus, rng) = saved }
        let seed: UInt64 = 0x4E1D_0
        let n = Float(max(batches, 1))
        var metrics = HeldOutMetrics(step: step)
        GradMode.withoutGrad {
            corpus = heldOut
            if config.t2iBatch > 0 && !heldOut.t2i.isEmpty {
                rng = RNG(seed: seed)
                metrics.heldOutT2IMask = (0..<batches).map { _ in t2iLoss().terms.mask.item }.reduce(0, +) / n
            }
            if model.config.sequenceMoE {
                var sensitivity = ["noise": model.resamplerSensitivity(.noise, (1...8).map { .maskRatio(Float($0) / 8) })]
                let images = heldOut.mmu.prefix(16).compactMap(\.embeddings).map { SequenceConditioning.image($0) }
                if images.count > 1 {
                    sensitivity["clip"] = model.resamplerSensitivity(.clip, images)
                    sensitivity["face"] = model.resamplerSensitivity(.face, images)
                }
                metrics.resamplerSensitivity = sensitivity
            }
            guard config.mmuBatch > 0 && !heldOut.mmu.isEmpty else { return }
            rng = RNG(seed: seed)
            metrics.heldOutNTP = (0..<batches).map { _ in mmuLoss().plain.item }.reduce(0, +) / n
            guard heldOut.mmu.count > 1 else { return }
            // The same draws (same seed), each conversation with the next example's image.
            var swapped = heldOut
            for i in swapped.mmu.indices {
                let other = heldOut.mmu[(i + 1) % heldOut.mmu.count]
                swapped.mmu[i].codes = other.codes
                swapped.mmu[i].embeddings = other.embeddings
            }
            corpus = swapped
            rng = RNG(seed: seed)
            metrics.heldOutNTPOtherImage = (0..<batches).map { _ in mmuLoss().plain.item }.reduce(0, +) / n
        }
        return metrics
    }

    /// One optimiser step on a freshly drawn batch.
    public func trainStep() -> StepMetrics {
        let started = Date()
        var total: Tensor? = nil
        var metrics = StepMetrics(step: step, loss: 0, balance: 0, learningRate: 0, gradNorm: 0, tokens: 0, seconds: 0,
                                  t2iLossByMaskRatio: [])
        func add(_ t: Tensor) { total = total.map { $0 + t } ?? t }
        // Listing a model's parameters marks them all trainable again (`Parameter.init`).
        for t in frozen { t.requiresGrad = false }

        if config.t2iBatch > 0 {
            let t2i = t2iLoss()
            add(t2i.terms.total)
            if let b = t2i.balance { add(b); metrics.balance += b.item }
            metrics.t2iMask = t2i.terms.mask.item
            metrics.t2iScore = t2i.terms.score.item
            metrics.tokens += t2i.tokens
            metrics.t2iLossByMaskRatio = t2i.byBucket
        }
        if config.mmuBatch > 0 {
            let mmu = mmuLoss()
            add(mmu.objective * config.mmuLossWeight)
            if let b = mmu.balance { add(b); metrics.balance += b.item }
            metrics.ntp = mmu.plain.item
            metrics.tokens += mmu.tokens
        }
        let loss = total!
        let lr: Float
        (metrics.gradNorm, lr) = optimizer.minimize(loss, clipNorm: config.clipNorm, schedule: config.schedule, step: step)
        step += 1
        metrics.loss = loss.item
        metrics.learningRate = lr
        metrics.seconds = Date().timeIntervalSince(started)
        return metrics
    }

    /// Masks a batch of images by the cosine schedule and scores the masked positions.
    private func t2iLoss() -> (terms: D3Diff.Terms, balance: Tensor?, tokens: Int, byBucket: [Float?]) {
        let v = model.vocab
        var layouts: [SequenceLayout] = [], draws: [MaskDraw] = [], conditioning: [SequenceConditioning] = []
        var rows: [Int] = [], targets: [Int] = [], imageOfRow: [Int] = [], balanceRows: [Int] = []
        // Draws first, then layouts with a text segment as long as the batch's longest prompt.
        var drawn: [(example: T2IExample, draw: MaskDraw, text: [Int])] = []
        for _ in 0..<config.t2iBatch {
            let example = corpus.t2i[rng.int(corpus.t2i.count)]
            let draw = D3Diff.drawMask(imageTokens: model.config.imageTokens, rng: &rng)
            let dropPrompt = rng.uniform() < config.conditionDropout
            drawn.append((example, draw, dropPrompt ? [] : example.prompt))
        }
        let slots = builder.promptSlots(drawn.map(\.text))
        let T = builder.t2iLength - builder.promptLength + slots
        for (b, (example, draw, text)) in drawn.enumerated() {
            var ids = example.codes.map { v.imageOffset + $0 }
            for p in draw.positions { ids[p] = v.mask }
            let layout = builder.t2i(text: text, imageIDs: ids, promptSlots: slots).0
            for p in draw.positions {
                rows.append(b * T + layout.imageRange.lowerBound + p)
                targets.append(example.codes[p])
                imageOfRow.append(b)
            }
            balanceRows += (0..<T).filter { !layout.isPad[$0] }.map { b * T + $0 }
            layouts.append(layout)
            draws.append(draw)
            // The noise expert reads this example's mask ratio.
            conditioning.append(.maskRatio(Float(draw.positions.count) / Float(model.config.imageTokens)))
        }
        let (hidden, record) = model.forward(layouts, balanceRows: balanceRows, conditioning: conditioning)
        let logits = model.imageLogits(hidden.indexSelect(rows: rows))
        let terms = D3Diff.loss(logits: logits, targets: targets, imageOfRow: imageOfRow, draws: draws,
                                alpha: config.alpha, mode: config.d3diffMode)
        // Per-bucket mean NLL, by each image's mask ratio.
        let buckets = MaskRatioBuckets.names.count
        var sum = [Float](repeating: 0, count: buckets), count = [Int](repeating: 0, count: buckets)
        for (i, nll) in terms.rowNLL.enumerated() {
            let k = MaskRatioBuckets.bucket(Float(draws[imageOfRow[i]].positions.count) / Float(model.config.imageTokens))
            sum[k] += nll; count[k] += 1
        }
        let byBucket = (0..<buckets).map { count[$0] > 0 ? sum[$0] / Float(count[$0]) : nil }
        return (terms, record.balanceLoss, balanceRows.count, byBucket)
    }

    /// Next-token loss on the assistant tokens of a batch of conversation windows: `plain`, the
    /// mean over the tokens, and `objective`, the same with `targetWeights` applied (the
    /// same tensor when there are none).
    private func mmuLoss() -> (plain: Tensor, objective: Tensor, balance: Tensor?, tokens: Int) {
        let v = model.vocab
        var layouts: [SequenceLayout] = [], conditioning: [SequenceConditioning] = []
        for _ in 0..<config.mmuBatch {
            let example = corpus.mmu[rng.int(corpus.mmu.count)]
            conditioning.append(.image(example.embeddings ?? .zeros(for: model.config)))
            let window = min(config.mmuTurns, example.turns.count)
            let start = rng.int(example.turns.count - window + 1)
            let turns = Array(example.turns[start..<(start + window)])
            layouts.append(builder.mmu(imageIDs: example.codes.map { v.imageOffset + $0 }, turns: turns,
                                       userPrefix: corpus.userPrefix, assistantPrefix: corpus.assistantPrefix,
                                       isolatedTurns: config.mmuIsolatedTurns).0)
        }
        let T = layouts.map(\.count).max()!
        layouts = layouts.map { builder.padded($0, to: T) }
        var rows: [Int] = [], targets: [Int] = [], weights: [Float] = [], balanceRows: [Int] = []
        for (b, l) in layouts.enumerated() {
            for t in l.textTargets {
                rows.append(b * T + t); targets.append(l.ids[t + 1])
                if !targetWeights.isEmpty { weights.append(targetWeights.weight(ids: l.ids, index: t + 1, start: l.textStart)) }
            }
            balanceRows += (0..<T).filter { !l.isPad[$0] }.map { b * T + $0 }
        }
        let (hidden, record) = model.forward(layouts, balanceRows: balanceRows, conditioning: conditioning)
        let logits = model.textLogits(hidden.indexSelect(rows: rows))
        guard !targetWeights.isEmpty else {
            let ntp = nextTokenLoss(logits: logits, targets: targets)
            return (ntp, ntp, record.balanceLoss, balanceRows.count)
        }
        let weighted = logits.crossEntropy(targets: targets, weights: weights)
        let plain = GradMode.withoutGrad { nextTokenLoss(logits: logits, targets: targets) }
        return (plain, weighted, record.balanceLoss, balanceRows.count)
    }

    // MARK: checkpoints

    /// Writes weights (frozen ones too), AdamW moments of the trained ones, step and RNG state atomically.
    public func save(path: String, configJSON: String) throws {
        try TrainingCheckpoint.save(path: path, parameters: model.allParameters, optimizer: optimizer,
                                    state: TrainingState(step: step, rng: rng, extra: [:]), configJSON: configJSON)
    }

    /// Restores a checkpoint written by `save`; returns its config JSON.
    @discardableResult
    public func restore(path: String) throws -> String {
        let (state, configJSON) = try TrainingCheckpoint.restore(path: path, parameters: model.allParameters, optimizer: optimizer)
        step = state.step
        rng = state.rng
        return configJSON
    }
}
