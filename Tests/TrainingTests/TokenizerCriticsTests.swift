import Foundation
import Testing
import Tensor
import Imaging
import FaceModel
import TestSupport
@testable import Training

/// 16×16 images of random coloured blocks (enough structure for features to differ).
private func blockImages(count: Int, side: Int, seed: UInt64) -> [RGBImage] {
    var rng = RNG(seed: seed)
    return (0..<count).map { _ in
        var image = RGBImage(width: side, height: side)
        let colours = (0..<4).map { _ in (UInt8(rng.int(256)), UInt8(rng.int(256)), UInt8(rng.int(256))) }
        for y in 0..<side { for x in 0..<side { image.setPixel(x: x, y: y, colours[(y * 2 / side) * 2 + x * 2 / side]) } }
        return image
    }
}

private func tinyTrunk() -> ConvTrunk {
    var rng = RNG(seed: 8)
    return ConvTrunk(channels: [8, 8], rng: &rng)
}

/// A tiny run with both critics: perceptual from step 0, the discriminator from step 2.
private func criticRun(steps: Int = 8) throws -> TokenizerTrainer {
    var model = ImageTokenizerConfig()
    model.imageSize = 16; model.bits = 6; model.channels = [8, 16]; model.resBlocks = [0, 1]; model.groups = 4
    model.codebookEntropy = .joint; model.codebookFactors = 2
    var training = TokenizerTrainConfig()
    training.steps = steps; training.batchSize = 3; training.warmupSteps = 2; training.seed = 5
    training.perceptualWeight = 0.5
    training.adversarialWeight = 0.1; training.adversarialStart = 2; training.adversarialRamp = 3
    training.discriminatorChannels = [8, 16]
    let images = blockImages(count: 7, side: 16, seed: 3)
    let set = try TokenizerImageSet(images: images, ids: images.indices.map { "img\($0)" }, side: 16)
    return try TokenizerTrainer(tokenizer: try ImageTokenizer(config: model, seed: 5), config: training, images: set,
                                perceptual: PerceptualDistance(trunk: tinyTrunk(), network: "test"))
}

@Suite struct TokenizerCriticsTests {
    @Test func perceptualDistanceIsZeroOnlyForTheSameImageAndDifferentiable() throws {
        let distance = PerceptualDistance(trunk: tinyTrunk(), network: "test")
        let images = blockImages(count: 2, side: 16, seed: 1)
        let x = try ImageTensor.tensor(from: images, side: 16)
        let other = try ImageTensor.tensor(from: blockImages(count: 2, side: 16, seed: 2), side: 16)
        #expect(GradMode.withoutGrad { distance(x, x) }.item < 1e-6)
        #expect(GradMode.withoutGrad { distance(other, x) }.item > 1e-3)
        // The gradient reaches the reconstruction, not the frozen trunk.
        GradCheck(eps: 1e-2, maxNMSE: 1e-3, samplesPerInput: 24).run([other]) { distance($0[0], x).reshape([1]) }
        #expect(distance.trunk.parameters(prefix: "").allSatisfy { $0.tensor.grad == nil })
    }

    @Test func discriminatorHingeLossAndItsGradients() throws {
        let real = Tensor(shape: [4], values: [2, 0.5, -1, 1])
        let fake = Tensor(shape: [4], values: [-2, 0, 1, -0.5])
        // relu(1 − real) = [0, 0.5, 2, 0] → 0.625; relu(1 + fake) = [0, 1, 2, 0.5] → 0.875.
        #expect(abs(PatchDiscriminator.hingeLoss(real: real, fake: fake).item - 1.5) < 1e-6)
        #expect(abs(PatchDiscriminator.generatorLoss(fake: fake).item - 0.375) < 1e-6)
        let d = PatchDiscriminator(channels: [8, 16], seed: 1)
        let x = try ImageTensor.tensor(from: blockImages(count: 2, side: 16, seed: 4), side: 16)
        #expect(d(x).shape == [2, 1, 4, 4])
        GradCheck(eps: 1e-2, maxNMSE: 1e-3, samplesPerInput: 24).run([x]) { d($0[0]) }
    }

    /// Both critics and the factorised codebook entropy in one run: finite terms in the log
    /// from the steps they start at, the discriminator learning, and a resume that repeats an
    /// uninterrupted run bit for bit (tokenizer and discriminator, with both optimisers).
    @Test func criticRunLogsItsTermsAndResumesBitForBit() throws {
        let path = NSTemporaryDirectory() + "tokenizer-critics-\(getpid()).safetensors"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let straight = try criticRun()
        var log: [TokenizerStepMetrics] = []
        for _ in 0..<8 { log.append(straight.trainStep()) }
        #expect(log.allSatisfy { $0.perceptual.map { $0.isFinite && $0 > 0 } == true })
        #expect(log[0].discriminator == nil && log[1].adversarial == nil && log[2].discriminator != nil)
        #expect(log[2].adversarialWeight.map { abs($0 - 0.1 / 3) < 1e-6 } == true && log[7].adversarialWeight == 0.1)
        #expect(log[2...].allSatisfy { $0.discriminator!.isFinite && $0.adversarial!.isFinite })
        #expect(straight.provenance["perceptual_network"] == "test")

        let first = try criticRun()
        for _ in 0..<4 { _ = first.trainStep() }
        try first.save(path: path, configJSON: "{}")
        let resumed = try criticRun()
        try resumed.restore(path: path)
        for _ in 4..<8 { _ = resumed.trainStep() }
        let a = straight.tokenizer.allParameters + straight.discriminator!.parameters(prefix: "d")
        let b = resumed.tokenizer.allParameters + resumed.discriminator!.parameters(prefix: "d")
        for (p, q) in zip(a, b) { #expect(p.tensor.values == q.tensor.values, "\(p.name) differs after resuming") }
        #expect(try SafetensorsFile(path: path).metadata["extra.provenance.perceptual_network"] == "test")
    }

    @Test func perceptualWeightWithoutANetworkIsRefusedByName() throws {
        var training = TokenizerTrainConfig()
        training.perceptualWeight = 1
        let images = blockImages(count: 2, side: 16, seed: 3)
        var model = ImageTokenizerConfig()
        model.imageSize = 16; model.channels = [8, 16]; model.resBlocks = [0, 0]; model.groups = 4
        let set = try TokenizerImageSet(images: images, ids: ["a", "b"], side: 16)
        #expect(throws: TrainingError.self) {
            try TokenizerTrainer(tokenizer: try ImageTokenizer(config: model), config: training, images: set)
        }
        do { _ = try TokenizerTrainer(tokenizer: try ImageTokenizer(config: model), config: training, images: set) } catch {
            #expect("\(error)".contains("perceptual_weight"))
        }
        training.perceptualWeight = 0
        training.discriminatorChannels = [12]
        #expect(throws: TrainingError.self) { try training.validate() }
    }

    /// With factors, the joint entropy is taken per group of bits: for bits drawn independently
    /// and evenly it is log 2 per bit either way, and it equals the sum of the groups' own.
    @Test func factorisedCodebookEntropyAddsTheFactorsEntropies() throws {
        var rng = RNG(seed: 3)
        let z = Tensor.randn([4, 6, 3, 3], rng: &rng)
        let q = LFQ.quantize(z)
        let whole = LFQ.losses(z: z, q: q, beta: 0.25, temperature: 4, codebookEntropy: .joint, factors: 2).codebookEntropy.item
        let p = (z * 4).sigmoid()
        let halves = LFQ.jointCodebookEntropy(p.slice(axis: 1, 0..<3)).item + LFQ.jointCodebookEntropy(p.slice(axis: 1, 3..<6)).item
        #expect(abs(whole - halves / 6) < 1e-5)
        let even = Tensor(zeros: [2, 4, 1, 1])
        let flat = LFQ.losses(z: even, q: LFQ.quantize(even), beta: 0.25, temperature: 4, codebookEntropy: .joint, factors: 2)
        #expect(abs(flat.codebookEntropy.item - logf(2)) < 1e-5)

        var config = ImageTokenizerConfig()
        config.bits = 16; config.codebookEntropy = .joint
        #expect(throws: ModelConfigError.self) { try config.validate() }  // 16 bits jointly: too many codes
        config.codebookFactors = 2
        try config.validate()
        #expect(config.factorBits == 8)
        config.codebookFactors = 3
        #expect(throws: ModelConfigError.self) { try config.validate() }  // 3 does not divide 16
    }

    /// A factorised tokenizer's evaluation also scores each factor: its usage and perplexity
    /// are those of the codes' high and low bits counted on their own.
    @Test func evaluationScoresEachFactorOfTheCodes() throws {
        let run = try criticRun()
        for _ in 0..<3 { _ = run.trainStep() }
        let (e, _) = try TokenizerEvaluation.evaluate(tokenizer: run.tokenizer, images: run.images)
        #expect(e.tokensPerCode == Double(7 * 64) / 64)
        let codes = try (0..<7).flatMap { try run.tokenizer.encode(run.images.image($0)) }
        for (f, shift) in [(0, 3), (1, 0)] {
            var counts = [Int](repeating: 0, count: 8)
            for c in codes { counts[(c >> shift) & 7] += 1 }
            let usage = Double(counts.filter { $0 > 0 }.count) / 8
            let entropy = counts.filter { $0 > 0 }.map { -Double($0) / Double(codes.count) * Foundation.log(Double($0) / Double(codes.count)) }.reduce(0, +)
            #expect(e.factorUsage?[f] == usage)
            #expect(abs((e.factorPerplexity?[f] ?? 0) - Foundation.exp(entropy)) < 1e-9)
        }
    }
}
