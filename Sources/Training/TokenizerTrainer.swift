import Foundation
import Tensor
import Imaging
import FaceData
import FaceModel

/// How the image tokenizer is trained: the `"training"` object of a tokenizer config file
/// (snake_case keys, every key optional).
public struct TokenizerTrainConfig: Codable, Equatable, Sendable {
    public var steps: Int = 6000
    public var batchSize: Int = 16
    public var learningRate: Float = 2e-3
    public var minLearningRateRatio: Float = 0.05
    public var warmupSteps: Int = 200
    public var weightDecay: Float = 0
    public var beta2: Float = 0.99
    public var clipNorm: Float = 1.0
    /// `"l2"` (mean squared error, what PSNR measures) or `"l1"`.
    public var reconstruction: ReconstructionLoss = .l2
    /// Weight of the image-gradient term: L1 between horizontal and vertical pixel differences
    /// of reconstruction and original (sharpens edges; 0 turns it off).
    public var gradientLossWeight: Float = 0
    /// Extra weight of the face's features in the reconstruction loss: the per-pixel weight is
    /// 1 + feature_weight × a Gaussian around the eyes, brows, nose and mouth (`featureWeights`),
    /// normalised to mean 1; 0 is the plain loss. An area-weighted loss spends the codes on
    /// background and hair, and blurs the few pixels that carry an expression.
    public var featureWeight: Float = 0
    /// Weight of the perceptual term (`PerceptualDistance`: feature matching through a frozen
    /// network that knows faces, given to `tokenizer train --perceptual-from`); 0 turns it off.
    public var perceptualWeight: Float = 0
    /// Weight of the adversarial term (`PatchDiscriminator`, hinge loss); 0 turns it off.
    public var adversarialWeight: Float = 0
    /// The step the discriminator starts to learn: the reconstructions must first look like
    /// faces, or it wins at once and its gradients say nothing useful.
    public var adversarialStart: Int = 0
    /// Steps over which the generator's adversarial weight grows from 0 to `adversarial_weight`
    /// after `adversarial_start` (the discriminator has learnt something by then).
    public var adversarialRamp: Int = 500
    /// The discriminator's widths, one stride-2 4×4 conv each, and its constant learning rate.
    public var discriminatorChannels: [Int] = [32, 64, 128]
    public var discriminatorLearningRate: Float = 2e-4
    /// Mirror half of the training images left–right (faces are close to symmetric).
    public var flipAugment: Bool = true
    public var checkpointEvery: Int = 200
    public var logEvery: Int = 10
    public var seed: UInt64 = 0

    public enum ReconstructionLoss: String, Codable, Sendable { case l1, l2 }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case steps, batchSize = "batch_size", learningRate = "learning_rate", minLearningRateRatio = "min_learning_rate_ratio"
        case warmupSteps = "warmup_steps", weightDecay = "weight_decay", beta2, clipNorm = "clip_norm"
        case reconstruction, gradientLossWeight = "gradient_loss_weight", featureWeight = "feature_weight", flipAugment = "flip_augment"
        case perceptualWeight = "perceptual_weight", adversarialWeight = "adversarial_weight", adversarialStart = "adversarial_start"
        case adversarialRamp = "adversarial_ramp", discriminatorChannels = "discriminator_channels"
        case discriminatorLearningRate = "discriminator_learning_rate"
        case checkpointEvery = "checkpoint_every", logEvery = "log_every", seed
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TokenizerTrainConfig()
        func v<T: Decodable>(_ k: CodingKeys, _ def: T) throws -> T { try c.decodeIfPresent(T.self, forKey: k) ?? def }
        steps = try v(.steps, d.steps)
        batchSize = try v(.batchSize, d.batchSize)
        learningRate = try v(.learningRate, d.learningRate)
        minLearningRateRatio = try v(.minLearningRateRatio, d.minLearningRateRatio)
        warmupSteps = try v(.warmupSteps, d.warmupSteps)
        weightDecay = try v(.weightDecay, d.weightDecay)
        beta2 = try v(.beta2, d.beta2)
        clipNorm = try v(.clipNorm, d.clipNorm)
        reconstruction = try v(.reconstruction, d.reconstruction)
        gradientLossWeight = try v(.gradientLossWeight, d.gradientLossWeight)
        featureWeight = try v(.featureWeight, d.featureWeight)
        perceptualWeight = try v(.perceptualWeight, d.perceptualWeight)
        adversarialWeight = try v(.adversarialWeight, d.adversarialWeight)
        adversarialStart = try v(.adversarialStart, d.adversarialStart)
        adversarialRamp = try v(.adversarialRamp, d.adversarialRamp)
        discriminatorChannels = try v(.discriminatorChannels, d.discriminatorChannels)
        discriminatorLearningRate = try v(.discriminatorLearningRate, d.discriminatorLearningRate)
        flipAugment = try v(.flipAugment, d.flipAugment)
        checkpointEvery = try v(.checkpointEvery, d.checkpointEvery)
        logEvery = try v(.logEvery, d.logEvery)
        seed = try v(.seed, d.seed)
    }

    public func validate() throws {
        func check(_ ok: Bool, _ field: String, _ why: String) throws {
            if !ok { throw TrainingError.config("training.\(field): \(why)") }
        }
        try check(steps > 0, "steps", "must be positive")
        try check(batchSize > 0, "batch_size", "must be positive")
        try check(learningRate > 0, "learning_rate", "must be positive")
        try check((0...1).contains(minLearningRateRatio), "min_learning_rate_ratio", "must be in [0, 1]")
        try check(warmupSteps >= 0, "warmup_steps", "must not be negative")
        try check(weightDecay >= 0, "weight_decay", "must not be negative")
        try check(beta2 > 0 && beta2 < 1, "beta2", "must be in (0, 1)")
        try check(clipNorm > 0, "clip_norm", "must be positive")
        try check(gradientLossWeight >= 0, "gradient_loss_weight", "must not be negative")
        try check(featureWeight >= 0, "feature_weight", "must not be negative")
        try check(perceptualWeight >= 0, "perceptual_weight", "must not be negative")
        try check(adversarialWeight >= 0, "adversarial_weight", "must not be negative")
        try check(adversarialStart >= 0, "adversarial_start", "must not be negative")
        try check(adversarialRamp >= 0, "adversarial_ramp", "must not be negative")
        try check(!discriminatorChannels.isEmpty && discriminatorChannels.allSatisfy { $0 > 0 && ($0 % min(8, $0)) == 0 },
                  "discriminator_channels", "needs at least one positive width, each a multiple of 8 (or below 8), got \(discriminatorChannels)")
        try check(discriminatorLearningRate > 0, "discriminator_learning_rate", "must be positive")
        try check(checkpointEvery > 0, "checkpoint_every", "must be positive")
        try check(logEvery > 0, "log_every", "must be positive")
    }

    public var schedule: WarmupCosine {
        WarmupCosine(peak: learningRate, minLR: learningRate * minLearningRateRatio, warmupSteps: warmupSteps, totalSteps: steps)
    }
}

/// A tokenizer config file: the model settings at the top level (`ImageTokenizerConfig` keys)
/// and an optional `"training"` object.
public struct TokenizerConfigFile: Codable, Sendable {
    public var model: ImageTokenizerConfig
    public var training: TokenizerTrainConfig

    public init(model: ImageTokenizerConfig = ImageTokenizerConfig(), training: TokenizerTrainConfig = TokenizerTrainConfig()) {
        self.model = model; self.training = training
    }

    enum CodingKeys: String, CodingKey { case training }

    public init(from decoder: Decoder) throws {
        model = try ImageTokenizerConfig(from: decoder)
        training = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(TokenizerTrainConfig.self, forKey: .training)
            ?? TokenizerTrainConfig()
    }

    public func encode(to encoder: Encoder) throws {
        try model.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(training, forKey: .training)
    }

    /// Decodes and validates a config file's bytes. Decoding failures are rethrown as the
    /// `DecodingError` (the command line turns its key path into a one-line message).
    public static func decode(_ data: Data, path: String) throws -> TokenizerConfigFile {
        let file = try JSONDecoder().decode(TokenizerConfigFile.self, from: data)
        do { try file.model.validate() } catch { throw TrainingError.config("\(path): \(error)") }
        do { try file.training.validate() } catch { throw TrainingError.config("\(path): \(error)") }
        return file
    }

    /// Deterministic pretty JSON (stored in checkpoints).
    public func jsonString() throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try enc.encode(self), as: UTF8.self)
    }
}

/// Equal-sized RGB images held as one byte array (a 20k-image set is ~250 MB as bytes, 4× that
/// as floats), turned into float batches on demand.
public struct TokenizerImageSet: Sendable {
    public let side: Int
    public let count: Int
    public let ids: [String]
    private let pixels: [UInt8]

    public init(images: [RGBImage], ids: [String], side: Int) throws {
        var pixels: [UInt8] = []
        pixels.reserveCapacity(images.count * side * side * 3)
        for (i, image) in images.enumerated() {
            guard image.width == side && image.height == side else {
                throw TrainingError.data("\(ids[i]): \(image.width)×\(image.height) pixels, the tokenizer needs \(side)×\(side)")
            }
            pixels += image.pixels
        }
        self.side = side
        self.count = images.count
        self.ids = ids
        self.pixels = pixels
    }

    /// The images of one split of a data set directory (`captions.jsonl` + `images/`), decoded
    /// in parallel. `limit` keeps the first n (in file order).
    public static func load(dataDirectory dir: String, split: String, side: Int, limit: Int? = nil) throws -> TokenizerImageSet {
        var records = try FaceDataset.loadCaptions(directory: dir).filter { $0.split == split }
        if let limit { records = Array(records.prefix(limit)) }
        if records.isEmpty { throw TrainingError.data("\(dir)/captions.jsonl: no images in split \"\(split)\"") }
        let paths = records.map { dir + "/" + $0.image }
        let results = UnsafeMutableBufferPointer<Result<RGBImage, Error>?>.allocate(capacity: paths.count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: paths.count) { i in
            results[i] = Result { try PNGCodec.read(path: paths[i]) }
        }
        var images: [RGBImage] = []
        images.reserveCapacity(paths.count)
        for i in 0..<paths.count {
            switch results[i]! {
            case .success(let image): images.append(image)
            case .failure(let error): throw TrainingError.data("\(error)")
            }
        }
        return try TokenizerImageSet(images: images, ids: records.map(\.id), side: side)
    }

    public func image(_ i: Int) -> RGBImage {
        let n = side * side * 3
        return RGBImage(width: side, height: side, pixels: Array(pixels[(i * n)..<((i + 1) * n)]))
    }

    /// A batch [B, 3, side, side] in [-1, 1]; `flip[b]` mirrors image b left–right.
    public func batch(_ indices: [Int], flip: [Bool]) -> Tensor {
        let plane = side * side
        let out = Tensor(uninitialized: [indices.count, 3, side, side])
        pixels.withUnsafeBufferPointer { px in
            for (b, index) in indices.enumerated() {
                let src = px.baseAddress! + index * plane * 3, dst = out.data + b * 3 * plane
                for y in 0..<side {
                    for x in 0..<side {
                        let sx = flip[b] ? side - 1 - x : x
                        for c in 0..<3 { dst[c * plane + y * side + x] = Float(src[(y * side + sx) * 3 + c]) * (2 / 255) - 1 }
                    }
                }
            }
        }
        return out
    }
}

/// What one optimiser step did (a line of `metrics.jsonl`).
public struct TokenizerStepMetrics: Codable, Sendable {
    public var step: Int
    public var loss: Float
    public var reconstruction: Float
    public var commitment: Float
    public var sampleEntropy: Float
    public var codebookEntropy: Float
    /// PSNR of the batch from its mean squared error (images in [0, 255]).
    public var batchPSNR: Float
    public var learningRate: Float
    public var gradNorm: Float
    public var images: Int
    public var seconds: Double
    /// The perceptual distance (unweighted), where the run has that term.
    public var perceptual: Float? = nil
    /// The generator's adversarial loss −mean D(reconstruction) (unweighted) and the weight it
    /// got this step, once the discriminator has started.
    public var adversarial: Float? = nil
    public var adversarialWeight: Float? = nil
    /// The discriminator's hinge loss and its mean logits on originals and reconstructions.
    public var discriminator: Float? = nil
    public var discriminatorReal: Float? = nil
    public var discriminatorFake: Float? = nil

    enum CodingKeys: String, CodingKey {
        case step, loss, reconstruction, commitment, sampleEntropy = "sample_entropy", codebookEntropy = "codebook_entropy"
        case batchPSNR = "batch_psnr_db", learningRate = "lr", gradNorm = "grad_norm", images, seconds
        case perceptual, adversarial, adversarialWeight = "adversarial_weight", discriminator
        case discriminatorReal = "discriminator_real", discriminatorFake = "discriminator_fake"
    }
}

/// The tokenizer's training loss (docs/DESIGN.md "Image tokenizer"):
/// reconstruction (L2 or L1, plus an optional image-gradient L1 term)
/// + `w_c·(‖sg(q)−z‖² + β‖q−sg(z)‖²)` + `w_e·(mean H(σ(T·z)) − mean_c H(mean_batch σ(T·z_c)))`.
public enum TokenizerLoss {
    public struct Terms {
        public var total: Tensor
        public var reconstruction: Tensor
        /// The decoded images [B, 3, S, S] (in the graph: the critics read them).
        public var images: Tensor
        /// Mean squared error in [-1, 1] units, whatever the reconstruction loss (for PSNR).
        public var meanSquaredError: Float
        public var lfq: LFQ.Losses
    }

    /// With `frozenEncoder` the encoder runs without gradients and the loss is the
    /// reconstruction alone (the LFQ terms are still measured, for the log).
    public static func terms(tokenizer: ImageTokenizer, images x: Tensor, config: TokenizerTrainConfig,
                             frozenEncoder: Bool = false) -> Terms {
        let m = tokenizer.config
        let z = frozenEncoder ? GradMode.withoutGrad { tokenizer.encodeLatents(x) } : tokenizer.encodeLatents(x)
        let q = LFQ.quantize(z)
        let y = tokenizer.decodeLatents(q)
        let mse = GradMode.withoutGrad { (y - x).square().mean().item }
        let reconstruction = reconstructionLoss(y, x, config: config)
        func lfqLosses() -> LFQ.Losses {
            LFQ.losses(z: z, q: q, beta: m.commitmentBeta, temperature: m.entropyTemperature, codebookEntropy: m.codebookEntropy,
                       factors: m.codebookFactors)
        }
        if frozenEncoder {
            return Terms(total: reconstruction, reconstruction: reconstruction, images: y, meanSquaredError: mse,
                         lfq: GradMode.withoutGrad { lfqLosses() })
        }
        let lfq = lfqLosses()
        let total = reconstruction + lfq.commitment * m.commitmentWeight + lfq.entropy * m.entropyWeight
        return Terms(total: total, reconstruction: reconstruction, images: y, meanSquaredError: mse, lfq: lfq)
    }

    /// The reconstruction term of reconstructions `y` of images `x`: L2 or L1, weighted toward
    /// the face's features with `feature_weight`, plus the image-gradient term.
    static func reconstructionLoss(_ y: Tensor, _ x: Tensor, config: TokenizerTrainConfig) -> Tensor {
        let diff = y - x
        var error = config.reconstruction == .l2 ? diff.square() : diff.abs()
        if config.featureWeight > 0 { error = error * featureWeights(shape: x.shape, weight: config.featureWeight) }
        let loss = error.mean()
        return config.gradientLossWeight > 0 ? loss + imageGradientL1(y, x) * config.gradientLossWeight : loss
    }

    /// Per-pixel loss weights for [B, C, S, S] images, mean 1: 1 + `weight` × a Gaussian centred
    /// at (0.5, 0.55) of the side with σ 0.14 of it. The renderer centres every face (its pose
    /// jitter moves it a few pixels), so the eyes, brows, nose and mouth lie under the bump.
    static func featureWeights(shape: [Int], weight: Float) -> Tensor {
        let side = shape[3], plane = side * side
        let sigma = 0.14 * Float(side), cx = 0.5 * Float(side), cy = 0.55 * Float(side)
        var map = (0..<plane).map { i -> Float in
            let dx = Float(i % side) + 0.5 - cx, dy = Float(i / side) + 0.5 - cy
            return 1 + weight * expf(-(dx * dx + dy * dy) / (2 * sigma * sigma))
        }
        let mean = map.reduce(0, +) / Float(plane)
        map = map.map { $0 / mean }
        let planes = shape.count == 4 ? shape[0] * shape[1] : 1
        return Tensor(shape: shape, values: Array([[Float]](repeating: map, count: planes).joined()))
    }

    /// Mean |∂y − ∂x| over horizontal and vertical neighbour differences of [B, C, H, W] images.
    static func imageGradientL1(_ y: Tensor, _ x: Tensor) -> Tensor {
        let H = y.shape[2], W = y.shape[3]
        let d = y - x.detach()
        let dx = d.slice(axis: 3, 1..<W) - d.slice(axis: 3, 0..<(W - 1))
        let dy = d.slice(axis: 2, 1..<H) - d.slice(axis: 2, 0..<(H - 1))
        return (dx.abs().mean() + dy.abs().mean()) * 0.5
    }

    /// PSNR in dB of a mean squared error measured on [-1, 1] images (peak-to-peak 2).
    public static func psnr(meanSquaredError mse: Float) -> Float {
        mse > 0 ? 10 * log10f(4 / mse) : .infinity
    }
}

/// Trains an `ImageTokenizer` with AdamW, warmup + cosine and gradient clipping.
///
/// The batch of step s is a pure function of (seed, s): epoch e visits the training images in
/// a permutation drawn from (seed, e), and flips come from (seed, s). So a resumed run repeats
/// an uninterrupted one bit for bit from the step count alone (the RNG is checkpointed too).
public final class TokenizerTrainer {
    public let tokenizer: ImageTokenizer
    public let config: TokenizerTrainConfig
    public let optimizer: AdamW
    public let images: TokenizerImageSet
    public private(set) var step = 0
    private var rng: RNG
    private var permutation: (epoch: Int, order: [Int])?

    /// Only the decoder learns; the encoder (and so every image's codes) stays as it is.
    public let decoderOnly: Bool
    /// The perceptual critic (present when `perceptual_weight` > 0).
    public let perceptual: PerceptualDistance?
    /// The patch discriminator and its optimiser (present when `adversarial_weight` > 0).
    public let discriminator: PatchDiscriminator?
    let discriminatorOptimizer: AdamW?

    public init(tokenizer: ImageTokenizer, config: TokenizerTrainConfig, images: TokenizerImageSet, decoderOnly: Bool = false,
                perceptual: PerceptualDistance? = nil) throws {
        try config.validate()
        guard images.count > 0 else { throw TrainingError.data("no training images") }
        guard config.perceptualWeight == 0 || perceptual != nil else {
            throw TrainingError.config("training.perceptual_weight: \(config.perceptualWeight) needs a perceptual network (tokenizer train --perceptual-from DIR)")
        }
        guard images.side == tokenizer.config.imageSize else {
            throw TrainingError.data("images are \(images.side)×\(images.side), the tokenizer needs \(tokenizer.config.imageSize)")
        }
        self.tokenizer = tokenizer
        self.config = config
        self.images = images
        self.decoderOnly = decoderOnly
        let trained = decoderOnly ? tokenizer.decoder.parameters(prefix: "decoder") : tokenizer.allParameters
        optimizer = AdamW(parameters: trained, learningRate: config.learningRate, beta2: config.beta2,
                          weightDecay: config.weightDecay)
        rng = RNG(seed: config.seed)
        self.perceptual = config.perceptualWeight > 0 ? perceptual : nil
        if config.adversarialWeight > 0 {
            let d = PatchDiscriminator(channels: config.discriminatorChannels, seed: config.seed &+ 0xD15C)
            discriminator = d
            // β1 0.5 as GAN practice has it: momentum lags behind an opponent that moves.
            discriminatorOptimizer = AdamW(parameters: d.parameters(prefix: Self.discriminatorPrefix),
                                           learningRate: config.discriminatorLearningRate, beta1: 0.5, beta2: 0.9, weightDecay: 0)
        } else {
            discriminator = nil
            discriminatorOptimizer = nil
        }
    }

    /// What a trained tokenizer's weights file records of its training: the steps, and the
    /// network its perceptual term trained against (so a judge can be checked to be another).
    public var provenance: [String: String] {
        var out = ["steps": "\(step)"]
        if let perceptual { out["perceptual_network"] = perceptual.network }
        if discriminator != nil { out["adversarial"] = "patch_hinge" }
        return out
    }

    /// Name prefix of the discriminator's tensors in checkpoints.
    public static let discriminatorPrefix = "discriminator"


    /// Image indices of a step's batch.
    func batchIndices(step: Int) -> [Int] {
        let B = config.batchSize, N = images.count
        return (0..<B).map { b in
            let position = step * B + b
            let epoch = position / N
            if permutation?.epoch != epoch {
                var order = Array(0..<N)
                var r = RNG(seed: config.seed).derived(0x5EED_0000 &+ UInt64(epoch))
                for i in stride(from: N - 1, to: 0, by: -1) { order.swapAt(i, r.int(i + 1)) }
                permutation = (epoch, order)
            }
            return permutation!.order[position % N]
        }
    }

    /// One optimiser step on the next batch.
    public func trainStep() -> TokenizerStepMetrics {
        let started = Date()
        let indices = batchIndices(step: step)
        var flipRNG = RNG(seed: config.seed).derived(UInt64(step))
        let flips = indices.map { _ in config.flipAugment && flipRNG.uniform() < 0.5 }
        let x = images.batch(indices, flip: flips)
        let terms = TokenizerLoss.terms(tokenizer: tokenizer, images: x, config: config, frozenEncoder: decoderOnly)
        var total = terms.total
        var perceptualValue: Float? = nil, adversarialValue: Float? = nil
        if let perceptual {
            let distance = perceptual(terms.images, x)
            perceptualValue = distance.item
            total = total + distance * config.perceptualWeight
        }
        let adversarialWeight = generatorAdversarialWeight(step: step)
        if let discriminator, adversarialWeight > 0 {
            // The discriminator is the generator's fixed judge here: no gradients into its weights.
            let generator = withFrozenDiscriminator { PatchDiscriminator.generatorLoss(fake: discriminator(terms.images)) }
            adversarialValue = generator.item
            total = total + generator * adversarialWeight
        }
        let (gradNorm, lr) = optimizer.minimize(total, clipNorm: config.clipNorm, schedule: config.schedule, step: step)
        var metrics = TokenizerStepMetrics(
            step: step, loss: total.item, reconstruction: terms.reconstruction.item,
            commitment: terms.lfq.commitment.item, sampleEntropy: terms.lfq.sampleEntropy.item,
            codebookEntropy: terms.lfq.codebookEntropy.item, batchPSNR: TokenizerLoss.psnr(meanSquaredError: terms.meanSquaredError),
            learningRate: lr, gradNorm: gradNorm, images: indices.count, seconds: 0,
            perceptual: perceptualValue, adversarial: adversarialValue,
            adversarialWeight: discriminator == nil ? nil : adversarialWeight)
        if let discriminator, let discriminatorOptimizer, step >= config.adversarialStart {
            let real = discriminator(x), fake = discriminator(terms.images.detach())
            let hinge = PatchDiscriminator.hingeLoss(real: real, fake: fake)
            metrics.discriminator = hinge.item
            metrics.discriminatorReal = real.mean().item
            metrics.discriminatorFake = fake.mean().item
            let constant = WarmupCosine(peak: config.discriminatorLearningRate, minLR: config.discriminatorLearningRate,
                                        warmupSteps: 0, totalSteps: 1)
            _ = discriminatorOptimizer.minimize(hinge, clipNorm: config.clipNorm, schedule: constant, step: 0)
        }
        // Keeps the checkpointed stream moving with the steps (nothing else draws from it yet).
        _ = rng.next()
        metrics.seconds = Date().timeIntervalSince(started)
        step += 1
        return metrics
    }

    /// The generator's adversarial weight at `step`: 0 before `adversarial_start`, then growing
    /// linearly to `adversarial_weight` over `adversarial_ramp` steps.
    func generatorAdversarialWeight(step: Int) -> Float {
        guard discriminator != nil, step >= config.adversarialStart else { return 0 }
        let ramp = config.adversarialRamp == 0 ? 1 : min(1, Float(step - config.adversarialStart + 1) / Float(config.adversarialRamp))
        return config.adversarialWeight * ramp
    }

    private func withFrozenDiscriminator<T>(_ body: () -> T) -> T {
        let weights = discriminatorOptimizer?.parameters ?? []
        for p in weights { p.tensor.requiresGrad = false }
        defer { for p in weights { p.tensor.requiresGrad = true } }
        return body()
    }

    /// Every tensor a checkpoint holds: the tokenizer's weights, then the discriminator's.
    private var checkpointParameters: [Parameter] {
        tokenizer.allParameters + (discriminatorOptimizer?.parameters ?? [])
    }

    private var optimizers: [AdamW] { [optimizer] + (discriminatorOptimizer.map { [$0] } ?? []) }

    /// Writes weights, AdamW moments, step and RNG state atomically.
    /// Every weight is saved (a decoder-only run's frozen encoder too); moments exist for the
    /// trained ones.
    public func save(path: String, configJSON: String) throws {
        try TrainingCheckpoint.save(path: path, parameters: checkpointParameters, optimizers: optimizers,
                                    state: TrainingState(step: step, rng: rng, extra: checkpointExtra),
                                    configJSON: configJSON)
    }

    private var checkpointExtra: [String: String] {
        var extra = decoderOnly ? [Self.decoderOnlyKey: "true"] : [:]
        for (key, value) in provenance where key != "steps" { extra[Self.provenanceKey + key] = value }
        return extra
    }

    /// Checkpoint entries `extra.provenance.<key>` carry `provenance` (so an export keeps it).
    static let provenanceKey = "provenance."
    public static let provenancePrefix = "extra." + provenanceKey

    /// The checkpoint entry (`__metadata__.extra.decoder_only`) that marks a decoder-only run.
    public static let decoderOnlyKey = "decoder_only"

    /// Whether the checkpoint at `path` was written by a decoder-only run.
    public static func isDecoderOnly(checkpoint path: String) throws -> Bool {
        try SafetensorsFile(path: path).metadata["extra." + decoderOnlyKey] == "true"
    }

    /// Restores a checkpoint written by `save`; returns its config JSON.
    @discardableResult
    public func restore(path: String) throws -> String {
        let (state, configJSON) = try TrainingCheckpoint.restore(path: path, parameters: checkpointParameters, optimizers: optimizers)
        step = state.step
        rng = state.rng
        return configJSON
    }
}

/// Held-out figures of a tokenizer (`facestudio tokenizer eval --json`).
public struct TokenizerEvaluation: Codable, Sendable {
    /// Mean over images of each image's PSNR (8-bit RGB, peak 255).
    public var psnrDB: Double
    /// Fraction of the 2^bits codes used at least once on the set.
    public var codebookUsage: Double
    /// exp(entropy) of the code distribution over all positions of the set.
    public var perplexity: Double
    public var images: Int
    public var codebookSize: Int
    /// Code positions of the set per code of the codebook: usage can only approach 1 where this
    /// is well above 1 (a 16-bit codebook needs 65 536 × 8 positions, 2 048 images, for 8).
    public var tokensPerCode: Double
    /// With a factorised codebook (`codebook_factors` > 1): usage and perplexity of each factor
    /// on its own, most significant first.
    public var factorUsage: [Double]?
    public var factorPerplexity: [Double]?

    enum CodingKeys: String, CodingKey {
        case psnrDB = "psnr_db", codebookUsage = "codebook_usage", perplexity, images, codebookSize = "codebook_size"
        case tokensPerCode = "tokens_per_code", factorUsage = "factor_usage", factorPerplexity = "factor_perplexity"
    }

    /// Usage (share of codes seen) and perplexity (exp of the entropy) of a code histogram.
    static func usageAndPerplexity(_ histogram: [Int]) -> (usage: Double, perplexity: Double) {
        let total = Double(histogram.reduce(0, +))
        var entropy = 0.0
        for h in histogram where h > 0 { let p = Double(h) / total; entropy -= p * Foundation.log(p) }
        return (Double(histogram.filter { $0 > 0 }.count) / Double(histogram.count), Foundation.exp(entropy))
    }

    /// Encodes and decodes every image (batch 1 on the inference path, images spread over the
    /// engine's workers).
    public static func evaluate(tokenizer: ImageTokenizer, images: TokenizerImageSet,
                                progress: ((Int) -> Void)? = nil) throws -> (TokenizerEvaluation, reconstructions: [RGBImage]) {
        let n = images.count
        let psnr = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        let codes = UnsafeMutableBufferPointer<[Int]>.allocate(capacity: n)
        let recs = UnsafeMutableBufferPointer<RGBImage?>.allocate(capacity: n)
        codes.initialize(repeating: []); recs.initialize(repeating: nil)
        defer { psnr.deallocate(); codes.deinitialize(); codes.deallocate(); recs.deinitialize(); recs.deallocate() }
        let failure = ErrorSlot()
        let done = Counter()
        Threading.parallelFor(n) { i in
            do {
                let original = images.image(i)
                let c = try tokenizer.encode(original)
                let r = try tokenizer.decode(c)
                codes[i] = c; recs[i] = r
                psnr[i] = min(ImageOps.psnr(original, r), 100)
            } catch {
                failure.set(error)
            }
            progress?(done.increment())
        }
        if let error = failure.error { throw error }
        let config = tokenizer.config
        var histogram = [Int](repeating: 0, count: config.codebookSize)
        for c in codes { for k in c { histogram[k] += 1 } }
        let whole = usageAndPerplexity(histogram)
        var eval = TokenizerEvaluation(
            psnrDB: psnr.reduce(0, +) / Double(n), codebookUsage: whole.usage, perplexity: whole.perplexity, images: n,
            codebookSize: histogram.count, tokensPerCode: Double(n * config.tokenCount) / Double(histogram.count))
        if config.codebookFactors > 1 {
            let width = config.factorBits, mask = (1 << width) - 1
            let factors = (0..<config.codebookFactors).map { f -> (usage: Double, perplexity: Double) in
                let shift = (config.codebookFactors - 1 - f) * width
                var factorHistogram = [Int](repeating: 0, count: 1 << width)
                for (k, count) in histogram.enumerated() where count > 0 { factorHistogram[(k >> shift) & mask] += count }
                return usageAndPerplexity(factorHistogram)
            }
            eval.factorUsage = factors.map(\.usage)
            eval.factorPerplexity = factors.map(\.perplexity)
        }
        return (eval, recs.map { $0! })
    }
}

/// First error seen by parallel workers.
private final class ErrorSlot: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func set(_ e: Error) { lock.withLock { if error == nil { error = e } } }
}

/// A thread-safe counter for progress reports from parallel workers.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int { lock.withLock { value += 1; return value } }
}
