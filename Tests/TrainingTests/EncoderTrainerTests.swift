import Foundation
import Testing
import Tensor
import Imaging
@testable import FaceModel
@testable import Training

/// 32 synthetic 16×16 faces: attribute "red" is a red square, "bright" a light background,
/// detail "side" where the square sits (only when it is red); captions say the same.
func syntheticEncoderData() -> EncoderDataset {
    var rng = RNG(seed: 42)
    let side = 16
    var pixels: [UInt8] = [], captions: [String] = [], labels: [FaceLabels] = []
    for i in 0..<32 {
        let red = i % 2 == 0, bright = (i / 2) % 2 == 0, left = (i / 4) % 2 == 0
        for y in 0..<side {
            for x in 0..<side {
                let inSquare = y >= 5 && y < 11 && (left ? x < 7 : x >= 9)
                let base: UInt8 = bright ? 200 : 40
                let noise = UInt8(rng.int(20))
                if red && inSquare { pixels += [230, 20 + noise, 20] } else { pixels += [base + noise, base, base + noise / 2] }
            }
        }
        captions.append("a \(bright ? "bright" : "dark") picture" + (red ? " with a red square on the \(left ? "left" : "right")" : ""))
        labels.append(FaceLabels(attributes: [red ? 1 : 0, bright ? 1 : 0], details: [red ? (left ? 0 : 1) : nil]))
    }
    return EncoderDataset(ids: (0..<32).map { "img\($0)" }, isTest: (0..<32).map { $0 >= 24 }, captions: captions, labels: labels,
                          attributes: ["red", "bright"], details: [DetailHead(field: "side", values: ["left", "right"])],
                          side: side, pixels: pixels)
}

func syntheticEncoders(_ data: EncoderDataset, seed: UInt64 = 0) throws -> ImageEncoders {
    let tokenizer = try TextTokenizer.train(texts: data.captions, vocabSize: 290, specialTokens: ["<|pad|>"])
    var c = EncoderConfig()
    c.imageSize = data.side
    c.clip.channels = [6, 8]
    c.clip.tokenDim = 6
    c.clip.embedDim = 8
    c.clip.textVocabSize = tokenizer.vocabSize
    c.clip.textDim = 8
    c.clip.textHeads = 2
    c.clip.textLayers = 1
    c.clip.maxTextTokens = 16
    c.face.channels = [6, 8]
    c.face.embedDim = 8
    c.face.attributes = data.attributes
    c.face.details = data.details
    try c.validate()
    return ImageEncoders(config: c, textTokenizer: tokenizer, seed: seed)
}

@Suite struct EncoderTrainerTests {
    func settings(steps: Int) -> EncoderTrainSettings {
        var s = EncoderTrainSettings(steps: steps, batch: 8, learningRate: 1e-2, warmupSteps: 2)
        s.seed = 3
        return s
    }

    @Test func faceEncoderLearnsTheSyntheticAttributes() throws {
        let data = syntheticEncoderData()
        let encoders = try syntheticEncoders(data)
        let trainer = try EncoderTrainer(kind: .face, encoders: encoders, data: data, settings: settings(steps: 60))
        var losses: [Float] = []
        while trainer.step < 60 { losses.append(trainer.trainStep().loss) }
        let before: Float = losses.prefix(5).reduce(0, +), after: Float = losses.suffix(5).reduce(0, +)
        #expect(after < 0.7 * before, "\(before) → \(after)")
        let report = try EncoderEvaluation.face(encoders, data: data)
        #expect(report.images == 8)
        #expect(report.attributeAccuracy["red"]! >= 0.99, "\(report.attributeAccuracy)")
        #expect(report.meanAttributeAccuracy > 0.8)
        #expect(report.detailAccuracy.keys.sorted() == ["side"])
        #expect(report.attributeBalancedAccuracy["red"]! >= 0.99, "\(report.attributeBalancedAccuracy)")
        #expect(report.attributeRecall.keys.sorted() == ["bright", "red"])
        #expect(report.blindest(1).count == 1)
    }

    @Test func positiveWeightsFollowTheTrainSplitsRarity() {
        // Attribute 0 on 1 face of 5, attribute 1 on none, attribute 2 on 4 of 5.
        let labels = (0..<5).map { i in FaceLabels(attributes: [i == 0 ? 1 : 0, 0, i == 0 ? 0 : 1], details: []) }
        #expect(EncoderTrainer.positiveWeights(labels: labels, power: 1, cap: 10) == [4, 1, 1])
        #expect(EncoderTrainer.positiveWeights(labels: labels, power: 0.5, cap: 10) == [2, 1, 1])
        #expect(EncoderTrainer.positiveWeights(labels: labels, power: 1, cap: 3) == [3, 1, 1])
    }

    @Test func balancedAccuracyShowsABlindDetector() {
        // Never detecting an attribute 5% of faces have: accuracy 0.95, balanced accuracy 0.5.
        var blind = BinaryTally()
        for i in 0..<100 { blind.add(predicted: false, actual: i < 5) }
        #expect(blind.accuracy == 0.95)
        #expect(blind.recall == 0)
        #expect(blind.balancedAccuracy == 0.5)
        var partial = BinaryTally()
        for i in 0..<100 { partial.add(predicted: i < 3 || i == 50, actual: i < 5) }
        #expect(partial.recall == 0.6)
        #expect(Swift.abs(partial.balancedAccuracy - (0.6 + 94.0 / 95.0) / 2) < 1e-12)
        var absent = BinaryTally()
        absent.add(predicted: false, actual: false)
        #expect(absent.recall == nil && absent.balancedAccuracy == 1)
    }

    @Test func clipRetrievalReportCountsGroupsOfUpToAHundred() throws {
        let data = syntheticEncoderData()
        let encoders = try syntheticEncoders(data)
        let trainer = try EncoderTrainer(kind: .clip, encoders: encoders, data: data, settings: settings(steps: 40))
        var losses: [Float] = []
        while trainer.step < 40 { losses.append(trainer.trainStep().loss) }
        let before: Float = losses.prefix(5).reduce(0, +), after: Float = losses.suffix(5).reduce(0, +)
        #expect(after < before)
        let report = try EncoderEvaluation.clip(encoders, data: data, indices: Array(0..<32))
        #expect(report.images == 32)
        for figure in [report.imageToCaptionTop1Of100, report.captionToImageTop1Of100, report.imageToCaptionTop1All] {
            #expect(figure >= 0 && figure <= 1)
        }
        #expect(report.imageToCaptionTop5All >= report.imageToCaptionTop1All)
        // Far better than chance (1/32 for top-1 of all).
        #expect(report.imageToCaptionTop5All > 0.3, "\(report)")
    }

    /// 4 steps, save, resume for 4 more equals 8 uninterrupted steps.
    @Test(arguments: [EncoderKind.face, .clip])
    func resumeContinuesBitForBit(kind: EncoderKind) throws {
        let data = syntheticEncoderData()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-enc-resume-\(kind.rawValue)-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/ckpt.safetensors"

        let straight = try EncoderTrainer(kind: kind, encoders: try syntheticEncoders(data, seed: 1), data: data, settings: settings(steps: 8))
        let straightLosses = (0..<8).map { _ in straight.trainStep().loss }
        let first = try EncoderTrainer(kind: kind, encoders: try syntheticEncoders(data, seed: 1), data: data, settings: settings(steps: 8))
        var resumed = (0..<4).map { _ in first.trainStep().loss }
        try first.save(path: path)
        let second = try EncoderTrainer(kind: kind, encoders: try syntheticEncoders(data, seed: 9), data: data, settings: settings(steps: 8))
        try second.restore(path: path)
        #expect(second.step == 4)
        resumed += (0..<4).map { _ in second.trainStep().loss }
        #expect(resumed == straightLosses)
        for (a, b) in zip(straight.encoders.parameters(kind), second.encoders.parameters(kind)) {
            #expect(a.tensor.values == b.tensor.values, "\(a.name)")
        }
        // The other encoder's trainer refuses this checkpoint.
        let other: EncoderKind = kind == .face ? .clip : .face
        let wrong = try EncoderTrainer(kind: other, encoders: try syntheticEncoders(data), data: data, settings: settings(steps: 8))
        #expect(throws: (any Error).self) { try wrong.restore(path: path) }
    }

    @Test func augmentationKeepsPixelsAndFlipsAndShifts() {
        let data = syntheticEncoderData()
        let plain = data.batch([0])
        #expect(plain.values == data.batch([0], transforms: [ImageTransform(flip: false, dx: 0, dy: 0)]).values)
        let flipped = data.batch([0], transforms: [ImageTransform(flip: true, dx: 0, dy: 0)])
        // Pixel (x, y) of the flip is pixel (15 − x, y) of the original, in every channel.
        for c in 0..<3 { for y in 0..<16 { for x in 0..<16 {
            #expect(flipped.data[c * 256 + y * 16 + x] == plain.data[c * 256 + y * 16 + 15 - x])
        } } }
        let shifted = data.batch([0], transforms: [ImageTransform(flip: false, dx: 2, dy: 0)])
        #expect(shifted.data[3] == plain.data[5] && shifted.data[15] == plain.data[15])
    }

    @Test func embeddingCacheRoundTripsAndChecksTheFingerprint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-emb-cache-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/emb.safetensors"
        let clip: [Float] = [0.5, -1, 2, 0.25, 0, 1], face: [Float] = [1, 2, -0.5, 0.125]
        try EmbeddingCache.write(path: path, fingerprint: "abc", ids: ["x", "y"], clip: clip, face: face, clipWidth: 3, faceWidth: 2)
        let back = try #require(try EmbeddingCache.read(path: path, fingerprint: "abc", clipWidth: 3, faceWidth: 2))
        #expect(back["x"] == ImageEmbeddings(clip: [0.5, -1, 2], face: [1, 2]))
        #expect(back["y"] == ImageEmbeddings(clip: [0.25, 0, 1], face: [-0.5, 0.125]))
        #expect(try EmbeddingCache.read(path: path, fingerprint: "other", clipWidth: 3, faceWidth: 2) == nil)
        #expect(try EmbeddingCache.read(path: path, fingerprint: "abc", clipWidth: 4, faceWidth: 2) == nil)
    }

    /// The cache keeps the embeddings only; the readout is filled from them, equal to what the
    /// encoders give directly.
    @Test func cachedEmbeddingsGetTheFaceReadout() throws {
        let data = syntheticEncoderData()
        let encoders = try syntheticEncoders(data, seed: 2)
        let pixels = data.side * data.side * 3
        let images = (0..<3).map { i in RGBImage(width: data.side, height: data.side, pixels: Array(data.pixels[(i * pixels)..<((i + 1) * pixels)])) }
        let direct = try encoders.embeddings(images)
        let stored = Dictionary(uniqueKeysWithValues: direct.enumerated().map { ("i\($0.offset)", ImageEmbeddings(clip: $0.element.clip, face: $0.element.face)) })
        let filled = CorpusBuilder.withReadouts(stored, face: encoders.face)
        for (i, e) in direct.enumerated() {
            let r = try #require(filled["i\(i)"]).readout
            #expect(r.count == e.readout.count && zip(r, e.readout).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
        }
    }
}

@Suite struct SequenceMoETrainerTests {
    /// The tiny trainer setup with the sequence-level MoE on and embeddings on every MMU example.
    func setup(seed: UInt64) -> (ModelConfig, TrainConfig, TrainingCorpus) {
        var (c, t, corpus) = tinySetup(seed: seed)
        c.sequenceMoE = true
        c.resamplerDim = 8; c.resamplerHeads = 2; c.resamplerDepth = 1; c.noiseEmbeddingDim = 4
        c.clipTokens = 2; c.clipDim = 3; c.faceTokens = 1; c.faceDim = 4
        for i in corpus.mmu.indices {
            corpus.mmu[i].embeddings = ImageEmbeddings(clip: (0..<6).map { Float(i + $0) / 10 }, face: (0..<4).map { Float(i - $0) / 5 })
        }
        return (c, t, corpus)
    }

    @Test func missingEmbeddingsAreRefusedWithTheExampleIndex() throws {
        var (c, t, corpus) = setup(seed: 0)
        corpus.mmu[1].embeddings = nil
        #expect { try UnifiedTrainer(model: UnifiedModel(config: c), config: t, corpus: corpus) } throws: { "\($0)".contains("example 1") }
        corpus.mmu[1].embeddings = ImageEmbeddings(clip: [1], face: [1])
        #expect { try UnifiedTrainer(model: UnifiedModel(config: c), config: t, corpus: corpus) } throws: { "\($0)".contains("example 1") }
        c.sequenceMoE = false
        _ = try UnifiedTrainer(model: UnifiedModel(config: c), config: t, corpus: corpus)
    }

    @Test func lossFallsAndResumeIsBitForBit() throws {
        let (c, t, corpus) = setup(seed: 5)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-seq-resume-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let straight = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 1), config: t, corpus: corpus)
        let straightLosses = (0..<12).map { _ in straight.trainStep().loss }
        #expect(straightLosses.allSatisfy { $0.isFinite })
        let first = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 1), config: t, corpus: corpus)
        var resumed = (0..<6).map { _ in first.trainStep().loss }
        try first.save(path: dir + "/ckpt.safetensors", configJSON: "{}")
        let second = try UnifiedTrainer(model: UnifiedModel(config: c, seed: 99), config: t, corpus: corpus)
        try second.restore(path: dir + "/ckpt.safetensors")
        resumed += (0..<6).map { _ in second.trainStep().loss }
        #expect(resumed == straightLosses)
        // The sequence level trains: its routers and resamplers moved.
        let fresh = UnifiedModel(config: c, seed: 1)
        for name in ["layers.0.seq_moe.t2i.router.weight", "resampler.noise.latents", "resampler.clip.output_proj.weight"] {
            let trained = straight.model.allParameters.first { $0.name == name }!.tensor.values
            #expect(trained != fresh.allParameters.first { $0.name == name }!.tensor.values, "\(name)")
        }
        var more = straightLosses
        while more.count < t.steps { more.append(straight.trainStep().loss) }
        let before: Float = more.prefix(5).reduce(0, +), after: Float = more.suffix(5).reduce(0, +)
        #expect(after < before)
    }
}
