import Foundation
import Tensor

/// How the unified model is trained. Lives beside the model settings in the same JSON file,
/// under the key `"training"` (snake_case keys, every key optional).
public struct TrainConfig: Codable, Equatable, Sendable {
    public var steps: Int = 6000
    public var learningRate: Float = 1e-3
    public var minLearningRateRatio: Float = 0.1
    public var warmupSteps: Int = 300
    public var weightDecay: Float = 0.05
    public var beta2: Float = 0.95
    public var clipNorm: Float = 1.0
    /// T2I and MMU sequences per step (their ratio is the task mix).
    public var t2iBatch: Int = 8
    public var mmuBatch: Int = 4
    /// Consecutive question–answer pairs per MMU sequence (a random window of the conversation).
    public var mmuTurns: Int = 3
    /// Packs the window's turns as independent questions about the image (`SequenceBuilder.mmu`
    /// `isolatedTurns`): no answer can be copied from an earlier turn, as in `eval`'s VQA.
    public var mmuIsolatedTurns: Bool = false
    /// Weight of the NTP loss, λ_mmu.
    public var mmuLossWeight: Float = 1.0
    /// Answer words, or phrases ending in one, whose next-token loss counts this many times
    /// (e.g. `{"so yes": 16, "so no": 16}`): a yes/no verdict is one token among hundreds of
    /// answer tokens in a step, so its gradient is otherwise lost among them. The last word's
    /// first token is weighted where the words before it precede it (`AnswerTokenWeights`);
    /// the logged and held-out next-token losses stay unweighted.
    public var mmuTokenWeights: [String: Float] = [:]
    /// α in `L_mask + α·L_score`.
    public var alpha: Float = 0.01
    public var d3diffMode: D3DiffMode = .d3diff
    /// Fraction of T2I examples whose prompt is dropped (trains the unconditional branch for CFG).
    public var conditionDropout: Float = 0.1
    public var checkpointEvery: Int = 200
    public var logEvery: Int = 10
    /// Steps between the held-out losses (test-split batches, no gradient; 0: never).
    public var evalEvery: Int = 100
    public var seed: UInt64 = 0
    /// Which weights train: all of them, or only one task's own (`UnifiedModel.taskParameters`).
    /// A one-task stage sharpens that task and cannot change the other's outputs.
    public var trainedWeights: TrainedWeights = .all
    /// A factor on the learning rate of the weights the model may lack at a warm start (the
    /// zero-initialised face projections, `UnifiedModel.neutralAtInitParameterNames`): they
    /// start from nothing while the rest of the model is already trained.
    public var faceProjectionRateScale: Float = 1

    public init() {}

    enum CodingKeys: String, CodingKey {
        case steps, learningRate = "learning_rate", minLearningRateRatio = "min_learning_rate_ratio"
        case warmupSteps = "warmup_steps", weightDecay = "weight_decay", beta2, clipNorm = "clip_norm"
        case t2iBatch = "t2i_batch", mmuBatch = "mmu_batch", mmuTurns = "mmu_turns", mmuIsolatedTurns = "mmu_isolated_turns", mmuLossWeight = "mmu_loss_weight"
        case mmuTokenWeights = "mmu_token_weights"
        case alpha, d3diffMode = "d3diff_mode", conditionDropout = "condition_dropout"
        case checkpointEvery = "checkpoint_every", logEvery = "log_every", evalEvery = "eval_every", seed
        case trainedWeights = "trained_weights", faceProjectionRateScale = "face_projection_lr_scale"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = TrainConfig()
        func v<T: Decodable>(_ k: CodingKeys, _ def: T) throws -> T { try c.decodeIfPresent(T.self, forKey: k) ?? def }
        steps = try v(.steps, d.steps)
        learningRate = try v(.learningRate, d.learningRate)
        minLearningRateRatio = try v(.minLearningRateRatio, d.minLearningRateRatio)
        warmupSteps = try v(.warmupSteps, d.warmupSteps)
        weightDecay = try v(.weightDecay, d.weightDecay)
        beta2 = try v(.beta2, d.beta2)
        clipNorm = try v(.clipNorm, d.clipNorm)
        t2iBatch = try v(.t2iBatch, d.t2iBatch)
        mmuBatch = try v(.mmuBatch, d.mmuBatch)
        mmuTurns = try v(.mmuTurns, d.mmuTurns)
        mmuIsolatedTurns = try v(.mmuIsolatedTurns, d.mmuIsolatedTurns)
        mmuLossWeight = try v(.mmuLossWeight, d.mmuLossWeight)
        mmuTokenWeights = try v(.mmuTokenWeights, d.mmuTokenWeights)
        alpha = try v(.alpha, d.alpha)
        d3diffMode = try v(.d3diffMode, d.d3diffMode)
        conditionDropout = try v(.conditionDropout, d.conditionDropout)
        checkpointEvery = try v(.checkpointEvery, d.checkpointEvery)
        logEvery = try v(.logEvery, d.logEvery)
        evalEvery = try v(.evalEvery, d.evalEvery)
        seed = try v(.seed, d.seed)
        trainedWeights = try v(.trainedWeights, d.trainedWeights)
        faceProjectionRateScale = try v(.faceProjectionRateScale, d.faceProjectionRateScale)
    }

    public func validate() throws {
        func check(_ ok: Bool, _ field: String, _ why: String) throws {
            if !ok { throw TrainingError.config("training.\(field): \(why)") }
        }
        try check(steps > 0, "steps", "must be positive")
        try check(learningRate > 0, "learning_rate", "must be positive")
        try check((0...1).contains(minLearningRateRatio), "min_learning_rate_ratio", "must be in [0, 1]")
        try check(warmupSteps >= 0, "warmup_steps", "must not be negative")
        try check(t2iBatch >= 0 && mmuBatch >= 0 && t2iBatch + mmuBatch > 0, "t2i_batch", "t2i_batch and mmu_batch must not be negative and not both 0")
        try check(mmuTurns >= 1, "mmu_turns", "must be at least 1")
        try check(alpha >= 0, "alpha", "must not be negative")
        try check((0...1).contains(conditionDropout), "condition_dropout", "must be in [0, 1]")
        try check(checkpointEvery > 0, "checkpoint_every", "must be positive")
        try check(logEvery > 0, "log_every", "must be positive")
        try check(evalEvery >= 0, "eval_every", "must not be negative")
        try check(faceProjectionRateScale > 0, "face_projection_lr_scale", "must be positive")
        for (phrase, weight) in mmuTokenWeights.sorted(by: { $0.key < $1.key }) {
            try check(!phrase.trimmingCharacters(in: .whitespaces).isEmpty, "mmu_token_weights", "a phrase is empty")
            try check(weight.isFinite && weight > 0, "mmu_token_weights.\(phrase)", "must be a positive number, not \(weight)")
        }
        // A batch of the other task would only cost time: none of its gradient reaches the trained weights.
        try check(trainedWeights != .understanding || t2iBatch == 0, "trained_weights",
                  "\"understanding\" trains only the understanding weights: set t2i_batch to 0")
        try check(trainedWeights != .generation || mmuBatch == 0, "trained_weights",
                  "\"generation\" trains only the generation weights: set mmu_batch to 0")
    }

    public var schedule: WarmupCosine {
        WarmupCosine(peak: learningRate, minLR: learningRate * minLearningRateRatio, warmupSteps: warmupSteps, totalSteps: steps)
    }
}

/// The weights a training run updates (`training.trained_weights`).
public enum TrainedWeights: String, Codable, Sendable, CaseIterable {
    case all
    /// The MMU group's token- and sequence-level experts and routers, the CLIP and face resamplers.
    case understanding
    /// The T2I group's token- and sequence-level experts and routers, the noise resampler.
    case generation
}

/// The file given to `facestudio train --config`: model settings at the top level (see
/// `ModelConfig`) and, optionally, a `"training"` object.
public struct TrainingFile: Decodable {
    public var training: TrainConfig
    enum CodingKeys: String, CodingKey { case training }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        training = try c.decodeIfPresent(TrainConfig.self, forKey: .training) ?? TrainConfig()
    }
}

/// Failures of training commands; `description` is one line naming the file or field.
public enum TrainingError: Error, CustomStringConvertible {
    case config(String)
    case data(String)
    case checkpoint(String)

    public var description: String {
        switch self {
        case let .config(m), let .data(m), let .checkpoint(m): return m
        }
    }
}
