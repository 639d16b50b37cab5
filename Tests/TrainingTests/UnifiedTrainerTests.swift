import Foundation
import Testing
import Tensor
@testable import FaceModel
@testable import Training

/// A tiny model and a synthetic corpus where each prompt word fixes the image's codes and each
/// question has one answer, so the loss can fall quickly.
func tinySetup(seed: UInt64 = 0) -> (ModelConfig, TrainConfig, TrainingCorpus) {
    var c = ModelConfig()
    c.textVocabSize = 24
    c.imageCodebookSize = 8
    c.imageTokens = 4
    c.dModel = 16
    c.layers = 2
    c.heads = 2
    c.rotaryDims = 4
    c.maxPromptTokens = 6
    c.maxSequenceLength = 32
    c.routedExperts = 3
    c.expertHidden = 8
    c.sequenceMoE = false
    var t = TrainConfig()
    t.steps = 60
    t.warmupSteps = 5
    t.learningRate = 1e-2
    t.t2iBatch = 4
    t.mmuBatch = 2
    t.mmuTurns = 2
    t.seed = seed
    var t2i: [T2IExample] = [], mmu: [MMUExample] = []
    for k in 0..<4 {
        let codes = (0..<4).map { (k + $0 * 3) % 8 }
        t2i.append(T2IExample(prompt: [10 + k, 3], codes: codes))
        mmu.append(MMUExample(codes: codes, turns: [.init(user: [4], assistant: [14 + k]), .init(user: [5], assistant: [18 + k % 2, 6])]))
    }
    return (c, t, TrainingCorpus(t2i: t2i, mmu: mmu, userPrefix: [1], assistantPrefix: [2]))
}

@Suite struct UnifiedTrainerTests {
    @Test(arguments: [false, true]) func lossFallsOnASmallCorpus(isolatedTurns: Bool) throws {
        let (c, defaults, corpus) = tinySetup()
        var t = defaults
        t.mmuIsolatedTurns = isolatedTurns
        let trainer = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 1), config: t, corpus: corpus)
        var first: [Float] = [], last: [Float] = []
        for i in 0..<t.steps {
            let m = trainer.trainStep()
            #expect(m.loss.isFinite)
            if i < 5 { first.append(m.ntp! + m.t2iMask!) }
            if i >= t.steps - 5 { last.append(m.ntp! + m.t2iMask!) }
        }
        let before = first.reduce(0, +) / 5, after = last.reduce(0, +) / 5
        #expect(after < 0.5 * before, "loss \(before) → \(after)")
    }

    @Test func badCorpusIsRefusedWithTheExampleIndex() throws {
        let (c, t, corpus) = tinySetup()
        var broken = corpus
        broken.t2i[2].codes = [0, 1]
        #expect { try UnifiedTrainer(model: UnifiedModel(config: c), config: t, corpus: broken) } throws: { error in
            "\(error)".contains("example 2")
        }
    }

    /// Training 6 steps, saving, and resuming for 6 more gives the same weights and losses as
    /// 12 uninterrupted steps.
    @Test func resumeContinuesBitForBit() throws {
        let (c, t, corpus) = tinySetup(seed: 5)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-resume-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }

        let straight = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 1), config: t, corpus: corpus)
        let straightLosses = (0..<12).map { _ in straight.trainStep().loss }

        let first = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 1), config: t, corpus: corpus)
        var resumedLosses = (0..<6).map { _ in first.trainStep().loss }
        try first.save(path: dir + "/ckpt.safetensors", configJSON: "{}")
        let second = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 99), config: t, corpus: corpus)
        try second.restore(path: dir + "/ckpt.safetensors")
        #expect(second.step == 6)
        resumedLosses += (0..<6).map { _ in second.trainStep().loss }

        #expect(resumedLosses == straightLosses)
        for (a, b) in zip(straight.model.allParameters, second.model.allParameters) {
            #expect(a.tensor.values == b.tensor.values, "\(a.name)")
        }
    }

    /// Held-out losses are repeatable, fall as the model learns, and leave training untouched:
    /// a run that measures them between steps takes the same steps as one that does not.
    @Test func heldOutLossesAreRepeatableAndDoNotDisturbTraining() throws {
        let (c, t, corpus) = tinySetup(seed: 2)
        let plain = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 1), config: t, corpus: corpus)
        let watched = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 1), config: t, corpus: corpus)
        let before = watched.heldOutLosses(corpus)
        #expect(watched.heldOutLosses(corpus).heldOutT2IMask == before.heldOutT2IMask)
        #expect(before.heldOutNTP != nil && before.step == 0)
        var plainLosses: [Float] = [], watchedLosses: [Float] = []
        for _ in 0..<t.steps {
            plainLosses.append(plain.trainStep().loss)
            watchedLosses.append(watched.trainStep().loss)
            _ = watched.heldOutLosses(corpus)
        }
        #expect(plainLosses == watchedLosses)
        let after = watched.heldOutLosses(corpus)
        #expect(after.step == t.steps)
        #expect(after.heldOutT2IMask! < before.heldOutT2IMask! && after.heldOutNTP! < before.heldOutNTP!)
        // Each answer here depends on the image alone, so the trained model does far worse when
        // given another face's image...
        #expect(after.heldOutNTPOtherImage! > after.heldOutNTP! + 0.1)
        // ...and when every conversation has the same image, "another face's image" is no change.
        var sameImage = corpus
        for i in sameImage.mmu.indices { sameImage.mmu[i].codes = corpus.mmu[0].codes }
        let same = watched.heldOutLosses(sameImage)
        #expect(same.heldOutNTPOtherImage == same.heldOutNTP)
    }

    /// A one-task stage: only that task's own weights move, the other task's outputs stay bit for
    /// bit the same, its loss still falls, and its checkpoint (every weight, moments of the
    /// trained ones) resumes exactly.
    @Test(arguments: [TrainedWeights.understanding, .generation])
    func oneTaskStageLeavesTheOtherTaskUntouched(_ part: TrainedWeights) throws {
        var (c, t, corpus) = tinySetup(seed: 3)
        c.sequenceMoE = true
        c.resamplerDim = 8; c.resamplerHeads = 2; c.resamplerDepth = 1; c.noiseEmbeddingDim = 4
        c.clipTokens = 2; c.clipDim = 3; c.faceTokens = 1; c.faceDim = 5
        for i in corpus.mmu.indices {
            corpus.mmu[i].embeddings = ImageEmbeddings(clip: (0..<6).map { Float(($0 + i) % 3) - 1 }, face: (0..<5).map { Float(i) - Float($0) / 4 })
        }
        // A one-task stage continues a model trained on both tasks.
        let model = UnifiedModel(config: c, seed: 1)
        let warm = try UnifiedTrainer(model: model, config: t, corpus: corpus)
        for _ in 0..<40 { _ = warm.trainStep() }
        t.trainedWeights = part
        if part == .understanding { t.t2iBatch = 0 } else { t.mmuBatch = 0 }
        let builder = SequenceBuilder(config: c)
        let v = model.vocab
        let t2i = builder.t2i(text: [10, 3], imageIDs: [v.mask, v.imageOffset + 2, v.mask, v.imageOffset + 5]).0
        let mmu = builder.mmu(imageIDs: corpus.mmu[1].codes.map { v.imageOffset + $0 }, turns: corpus.mmu[1].turns,
                              userPrefix: corpus.userPrefix, assistantPrefix: corpus.assistantPrefix).0
        func outputs(_ layout: SequenceLayout, _ conditioning: SequenceConditioning) -> [Float] {
            GradMode.withoutGrad { model.forward([layout], conditioning: [conditioning]).0.values }
        }
        let untouched = part == .understanding ? { outputs(t2i, .maskRatio(0.5)) } : { outputs(mmu, .image(corpus.mmu[1].embeddings!)) }
        let before = Dictionary(uniqueKeysWithValues: model.allParameters.map { ($0.name, $0.tensor.values) })
        let otherBefore = untouched()
        let own = Set(model.taskParameters(part == .understanding ? .mmu : .t2i).map(\.name))
        #expect(!own.isEmpty && own.count < before.count)

        let trainer = try UnifiedTrainer(model: model, config: t, corpus: corpus)
        func heldOut() -> Float {
            let h = trainer.heldOutLosses(corpus, batches: 4)
            return part == .understanding ? h.heldOutNTP! : h.heldOutT2IMask!
        }
        let lossBefore = heldOut()
        for _ in 0..<40 { _ = trainer.trainStep() }
        let lossAfter = heldOut()
        #expect(lossAfter < 0.95 * lossBefore, "held-out loss \(lossBefore) → \(lossAfter)")
        var moved = 0
        for p in model.allParameters {
            if own.contains(p.name) { if p.tensor.values != before[p.name] { moved += 1 } }
            else { #expect(p.tensor.values == before[p.name], "\(p.name) changed") }
        }
        #expect(moved > own.count / 2)
        #expect(untouched() == otherBefore)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-one-task-\(getpid())-\(part)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try trainer.save(path: dir + "/ckpt.safetensors", configJSON: "{}")
        let resumed = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 99), config: t, corpus: corpus)
        try resumed.restore(path: dir + "/ckpt.safetensors")
        let next = [trainer.trainStep().loss, trainer.trainStep().loss], resumedNext = [resumed.trainStep().loss, resumed.trainStep().loss]
        #expect(next == resumedNext)
    }

    /// `face_projection_lr_scale` applies to the zero-initialised face projections only: on the
    /// first step (Adam moves every weight by the rate where its gradient is not zero) they
    /// move by the scaled rate, everything else by at most the plain one.
    @Test func faceProjectionsTrainAtTheirOwnRate() throws {
        var (c, t, corpus) = tinySetup(seed: 2)
        c.mmuFaceContext = true; c.mmuFaceReadout = true
        c.faceTokens = 1; c.faceDim = 5; c.faceReadoutDim = 3
        for i in corpus.mmu.indices {
            corpus.mmu[i].embeddings = ImageEmbeddings(clip: [], face: (0..<5).map { Float(i) - Float($0) / 4 },
                                                       readout: (0..<3).map { Float(($0 + i) % 3) / 2 })
        }
        t.faceProjectionRateScale = 4
        let model = UnifiedModel(config: c, seed: 1)
        let trainer = try UnifiedTrainer(model: model, config: t, corpus: corpus)
        let face = model.neutralAtInitParameterNames
        #expect(face.count == 6 && face.allSatisfy { $0.hasPrefix("mmu_face_") })
        #expect(zip(trainer.optimizer.parameters, trainer.optimizer.rateScales).allSatisfy { p, s in s == (face.contains(p.name) ? 4 : 1) })
        let before = Dictionary(uniqueKeysWithValues: model.allParameters.map { ($0.name, $0.tensor.values) })
        let lr = trainer.trainStep().learningRate
        func largestMove(_ p: Parameter) -> Float { zip(p.tensor.values, before[p.name]!).map { Swift.abs($0 - $1) }.max()! }
        for p in model.allParameters {
            if face.contains(p.name) && p.name.hasSuffix("proj.weight") {
                #expect(Swift.abs(largestMove(p) - 4 * lr) < 1e-3 * lr, "\(p.name)")
            } else {
                #expect(largestMove(p) <= lr * 1.01, "\(p.name)")
            }
        }
        var bad = t
        bad.faceProjectionRateScale = 0
        #expect { try UnifiedTrainer(model: model, config: bad, corpus: corpus) } throws: { "\($0)".contains("face_projection_lr_scale") }
        let decoded = try JSONDecoder().decode(TrainingFile.self, from: Data(#"{"training": {"face_projection_lr_scale": 2.5}}"#.utf8))
        #expect(decoded.training.faceProjectionRateScale == 2.5 && TrainConfig().faceProjectionRateScale == 1)
    }

    @Test func oneTaskStageRefusesTheOtherTasksBatches() {
        let (c, defaults, corpus) = tinySetup()
        var t = defaults
        t.trainedWeights = .understanding
        #expect { try UnifiedTrainer(model: UnifiedModel(config: c), config: t, corpus: corpus) } throws: { error in
            "\(error)" == "training.trained_weights: \"understanding\" trains only the understanding weights: set t2i_batch to 0"
        }
        var decoded = try? JSONDecoder().decode(TrainingFile.self, from: Data(#"{"training": {"trained_weights": "generation", "mmu_batch": 0}}"#.utf8))
        #expect(decoded?.training.trainedWeights == .generation)
        decoded = try? JSONDecoder().decode(TrainingFile.self, from: Data(#"{"training": {"mmu_isolated_turns": true}}"#.utf8))
        #expect(decoded?.training.mmuIsolatedTurns == true && TrainConfig().mmuIsolatedTurns == false)
        decoded = try? JSONDecoder().decode(TrainingFile.self, from: Data(#"{"training": {"trained_weights": "text"}}"#.utf8))
        #expect(decoded == nil)
    }

    /// `mmu_token_weights` names words or phrases; each weights the first token of its last word
    /// where the words before it come right before that token, and nowhere else.
    @Test func answerTokenWeightsMatchTheLastWordInItsContext() throws {
        let text = "Her hair is blond, so yes. His hair is gray, so no. He wears no jewelry."
        let tokenizer = try TextTokenizer.train(texts: Array(repeating: text, count: 20), vocabSize: 300)
        let weights = try AnswerTokenWeights(["so yes": 8, "so no": 4], tokenizer: tokenizer)
        let ids = tokenizer.encode(text)
        let yes = tokenizer.encode(" yes")[0], no = tokenizer.encode(" no")[0]
        let weighted = ids.indices.map { weights.weight(ids: ids, index: $0) }
        // Exactly two tokens are weighted: the verdicts, not the "no" of "no jewelry".
        #expect(weighted.filter { $0 != 1 }.count == 2)
        #expect(zip(ids, weighted).contains { $0 == yes && $1 == 8 } && zip(ids, weighted).contains { $0 == no && $1 == 4 })
        #expect(ids.filter { $0 == no }.count == 2)
        // The context is not matched across the start of the text.
        let verdict = ids.firstIndex(of: yes)!
        #expect(weights.weight(ids: ids, index: verdict, start: verdict) == 1)
        // A bare word weights the token anywhere.
        let anyNo = try AnswerTokenWeights(["no": 3], tokenizer: tokenizer)
        #expect(ids.indices.filter { anyNo.weight(ids: ids, index: $0) == 3 }.count == 2)
        #expect(weights.summary(tokenizer: tokenizer).contains("×8"))
        // A word whose space is a token of its own is weighted at the token after the space.
        let spaced = tokenizer.encode(" Zq")
        #expect(tokenizer.decode([spaced[0]]) == " ")
        let zq = try AnswerTokenWeights(["Zq": 2], tokenizer: tokenizer)
        #expect(zq.rules == [.init(context: [spaced[0]], token: spaced[1], weight: 2)])
        #expect { try AnswerTokenWeights(["so yes": 8, " so  yes ": 2], tokenizer: tokenizer) } throws: { error in
            "\(error)".contains("weight the same token") && "\(error)".contains("so yes")
        }
        var t = TrainConfig()
        t.mmuTokenWeights = ["so yes": 0]
        #expect { try t.validate() } throws: { "\($0)".contains("training.mmu_token_weights.so yes") }
    }

    /// Weighted answer tokens change what is minimised, not what is logged: the first step of a
    /// weighted run logs the same next-token loss as an unweighted one (same model, same draws)
    /// and a larger objective; a config that names words without their token ids is refused.
    @Test func tokenWeightsChangeTheObjectiveNotTheLoggedLoss() throws {
        let (c, t, corpus) = tinySetup(seed: 4)
        var weighted = t
        weighted.mmuTokenWeights = ["x": 5]
        let plain = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 1), config: t, corpus: corpus)
        // The second turn's answers (18, 19) depend on the image's parity.
        let answers = AnswerTokenWeights(rules: [.init(token: 18, weight: 5), .init(token: 19, weight: 5)])
        let heavy = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 1), config: weighted, corpus: corpus,
                                       targetWeights: answers)
        let a = plain.trainStep(), b = heavy.trainStep()
        #expect(a.ntp == b.ntp && a.t2iMask == b.t2iMask)
        #expect(b.loss > a.loss, "\(a.loss) vs \(b.loss)")
        #expect(plain.heldOutLosses(corpus).heldOutNTP != nil)
        #expect { try UnifiedTrainer(model: UnifiedModel(config: c), config: weighted, corpus: corpus) } throws: { error in
            "\(error)".contains("mmu_token_weights")
        }
    }
}
