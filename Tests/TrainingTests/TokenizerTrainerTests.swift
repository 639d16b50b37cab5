import Foundation
import Testing
import Tensor
import Imaging
import FaceModel
@testable import Training

/// 16×16 noise-free test images: a vertical two-colour gradient per image.
private func gradientImages(count: Int, side: Int) -> [RGBImage] {
    var rng = RNG(seed: 21)
    return (0..<count).map { _ in
        let a = (0..<3).map { _ in rng.uniform() * 255 }, b = (0..<3).map { _ in rng.uniform() * 255 }
        var image = RGBImage(width: side, height: side)
        for y in 0..<side {
            let t = Float(y) / Float(side - 1)
            for x in 0..<side {
                image.setPixel(x: x, y: y, (UInt8(a[0] + (b[0] - a[0]) * t), UInt8(a[1] + (b[1] - a[1]) * t), UInt8(a[2] + (b[2] - a[2]) * t)))
            }
        }
        return image
    }
}

private func tinyRun() throws -> TokenizerTrainer {
    var model = ImageTokenizerConfig()
    model.imageSize = 16; model.bits = 6; model.channels = [8, 16]; model.resBlocks = [0, 1]; model.groups = 4
    var training = TokenizerTrainConfig()
    training.steps = 8; training.batchSize = 3; training.warmupSteps = 2; training.seed = 5
    let images = gradientImages(count: 7, side: 16)
    let set = try TokenizerImageSet(images: images, ids: images.indices.map { "img\($0)" }, side: 16)
    return try TokenizerTrainer(tokenizer: try ImageTokenizer(config: model, seed: 5), config: training, images: set)
}

@Suite struct TokenizerTrainerTests {
    @Test func resumedRunMatchesAnUninterruptedOneBitForBit() throws {
        let path = NSTemporaryDirectory() + "tokenizer-resume-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let straight = try tinyRun()
        for _ in 0..<8 { _ = straight.trainStep() }

        let first = try tinyRun()
        for _ in 0..<3 { _ = first.trainStep() }
        try first.save(path: path, configJSON: "{}")
        let resumed = try tinyRun()
        #expect(try resumed.restore(path: path) == "{}")
        #expect(resumed.step == 3)
        for _ in 3..<8 { _ = resumed.trainStep() }

        for (a, b) in zip(straight.tokenizer.allParameters, resumed.tokenizer.allParameters) {
            #expect(a.tensor.values == b.tensor.values, "\(a.name) differs after resuming")
        }
    }

    /// A decoder-only run (a wider decoder without norms on a trained encoder) leaves the
    /// encoder, and so every code, exactly as it was, lowers the reconstruction error, and
    /// resumes from its checkpoint in the same mode.
    @Test func decoderOnlyRunKeepsTheEncoder() throws {
        let base = try tinyRun()
        for _ in 0..<4 { _ = base.trainStep() }
        var model = base.tokenizer.config
        model.decoderChannels = [12, 24]; model.decoderNorm = .none
        let tokenizer = try ImageTokenizer(config: model, seed: 9)
        try tokenizer.adoptEncoder(of: base.tokenizer)
        var otherEncoder = model
        otherEncoder.channels = [4, 16]
        #expect(throws: ModelConfigError.self) { try tokenizer.adoptEncoder(of: try ImageTokenizer(config: otherEncoder)) }
        let encoderBefore = tokenizer.encoder.parameters(prefix: "encoder").map(\.tensor.values)
        var training = base.config
        training.steps = 12; training.learningRate = 3e-3
        let run = try TokenizerTrainer(tokenizer: tokenizer, config: training, images: base.images, decoderOnly: true)
        #expect(run.optimizer.parameters.allSatisfy { $0.name.hasPrefix("decoder.") })
        let first = run.trainStep()
        var last = first
        for _ in 1..<12 { last = run.trainStep() }
        #expect(last.reconstruction < first.reconstruction)
        #expect(tokenizer.encoder.parameters(prefix: "encoder").map(\.tensor.values) == encoderBefore)
        let image = gradientImages(count: 1, side: 16)[0]
        #expect(try tokenizer.encode(image) == (try base.tokenizer.encode(image)))
        // Same codes, same cache key; another encoder weight, another key.
        #expect(tokenizer.encoderFingerprint == base.tokenizer.encoderFingerprint)
        tokenizer.encoder.parameters(prefix: "encoder")[0].tensor.data[0] += 1
        #expect(tokenizer.encoderFingerprint != base.tokenizer.encoderFingerprint)
        tokenizer.encoder.parameters(prefix: "encoder")[0].tensor.data[0] -= 1

        let path = NSTemporaryDirectory() + "tokenizer-decoder-only-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try run.save(path: path, configJSON: "{}")
        #expect(try TokenizerTrainer.isDecoderOnly(checkpoint: path))
        let restored = try TokenizerTrainer(tokenizer: try ImageTokenizer(config: model, seed: 1), config: training,
                                            images: base.images, decoderOnly: true)
        try restored.restore(path: path)
        #expect(restored.tokenizer.allParameters.map(\.tensor.values) == tokenizer.allParameters.map(\.tensor.values))
    }

    /// A warm start copies every weight (the same codes and the same reconstructions), and a
    /// tokenizer of another shape is refused with the first tensor that differs.
    @Test func warmStartCopiesEveryWeightAndNamesAMismatch() throws {
        let base = try tinyRun()
        for _ in 0..<3 { _ = base.trainStep() }
        let warm = try ImageTokenizer(config: base.tokenizer.config, seed: 77)
        try warm.adoptWeights(of: base.tokenizer)
        #expect(warm.allParameters.map(\.tensor.values) == base.tokenizer.allParameters.map(\.tensor.values))
        let image = gradientImages(count: 1, side: 16)[0]
        let codes = try base.tokenizer.encode(image)
        #expect(try warm.encode(image) == codes)
        #expect(try warm.decode(codes) == (try base.tokenizer.decode(codes)))

        var wider = base.tokenizer.config
        wider.decoderChannels = [8, 24]
        let mismatch = try ImageTokenizer(config: wider)
        let before = mismatch.allParameters.map(\.tensor.values)
        let error = try #require(throws: ModelConfigError.self) { try mismatch.adoptWeights(of: base.tokenizer) }
        #expect(mismatch.allParameters.map(\.tensor.values) == before, "a refused warm start changed weights")
        #expect(error.field?.hasPrefix("decoder.") == true)
        #expect(error.message.contains("24"), "\(error.message)")
    }

    @Test func epochsVisitEveryImageOnce() throws {
        let trainer = try tinyRun()  // 7 images, batches of 3
        let positions = (0..<7).flatMap { trainer.batchIndices(step: $0) }  // 21 = 3 epochs
        for epoch in 0..<3 {
            #expect(Set(positions[(epoch * 7)..<((epoch + 1) * 7)]) == Set(0..<7))
        }
    }

    @Test func lossTermsAreFiniteAndTrainingLowersTheReconstructionError() throws {
        let trainer = try tinyRun()
        let start = trainer.trainStep()
        #expect(start.loss.isFinite && start.commitment >= 0 && start.sampleEntropy >= 0)
        var last = start
        for _ in 1..<8 { last = trainer.trainStep() }
        #expect(last.reconstruction < start.reconstruction)
    }

    @Test func configFileKeepsModelAndTrainingKeysApart() throws {
        let json = #"{"bits": 12, "channels": [16, 32, 64], "training": {"batch_size": 8, "reconstruction": "l1", "feature_weight": 3}}"#
        let file = try TokenizerConfigFile.decode(Data(json.utf8), path: "cfg.json")
        #expect(file.model.bits == 12 && file.training.batchSize == 8 && file.training.reconstruction == .l1)
        #expect(file.training.featureWeight == 3)
        let again = try TokenizerConfigFile.decode(Data(try file.jsonString().utf8), path: "again.json")
        #expect(again.model == file.model && again.training == file.training)
        for (bad, field) in [(#"{"training": {"steps": 0}}"#, "training.steps"), (#"{"training": {"feature_weight": -1}}"#, "training.feature_weight")] {
            do {
                _ = try TokenizerConfigFile.decode(Data(bad.utf8), path: "bad.json")
                Issue.record("accepted \(bad)")
            } catch {
                #expect("\(error)".contains("bad.json") && "\(error)".contains(field), "\(error)")
            }
        }
    }

    /// The feature weights keep the loss's scale (mean 1), peak over the middle of the face, and
    /// are the same map for every image and channel.
    @Test func featureWeightsPeakOnTheFaceAndAverageOne() {
        let side = 16, w = TokenizerLoss.featureWeights(shape: [2, 3, side, side], weight: 4).values
        let plane = side * side
        #expect(abs(w.reduce(0, +) / Float(w.count) - 1) < 1e-5)
        let centre = w[8 * side + 8], corner = w[0]
        #expect(centre > 3 * corner, "centre \(centre), corner \(corner)")
        #expect(w.max() == centre)
        for k in 1..<6 { #expect(Array(w[(k * plane)..<((k + 1) * plane)]) == Array(w[0..<plane])) }
        #expect(Set(TokenizerLoss.featureWeights(shape: [1, 3, side, side], weight: 0).values) == [1])
    }

    /// The same reconstruction error costs more over the face than in a corner, and the same
    /// everywhere without feature weights.
    @Test func featureWeightedLossChargesTheFaceMore() {
        let side = 16
        let x = Tensor(shape: [1, 3, side, side], values: [Float](repeating: 0, count: 3 * side * side))
        func erred(at cx: Int, _ cy: Int) -> Tensor {  // a 3×3 error of 0.5 in every channel
            var v = x.values
            for c in 0..<3 { for y in (cy - 1)...(cy + 1) { for px in (cx - 1)...(cx + 1) { v[c * side * side + y * side + px] = 0.5 } } }
            return Tensor(shape: x.shape, values: v)
        }
        var plain = TokenizerTrainConfig(), weighted = plain
        weighted.featureWeight = 4
        for config in [plain, weighted] {
            let face = TokenizerLoss.reconstructionLoss(erred(at: 8, 9), x, config: config).item
            let corner = TokenizerLoss.reconstructionLoss(erred(at: 1, 1), x, config: config).item
            if config.featureWeight == 0 { #expect(abs(face - corner) < 1e-7) } else { #expect(face > 3 * corner, "face \(face), corner \(corner)") }
        }
        plain.reconstruction = .l1
        #expect(abs(TokenizerLoss.reconstructionLoss(erred(at: 8, 9), x, config: plain).item - 27 * 0.5 / Float(3 * side * side)) < 1e-6)
    }
}
