import Foundation
import Tensor
import FaceModel

/// What a resumed run needs besides weights and optimizer moments.
public struct TrainingState: Equatable {
    /// Training steps completed.
    public var step: Int
    /// The trainer's random stream, exactly where it stopped.
    public var rng: RNG
    /// Free-form strings a trainer wants back (data cursor, schedule name...).
    public var extra: [String: String]

    public init(step: Int, rng: RNG, extra: [String: String] = [:]) {
        self.step = step
        self.rng = rng
        self.extra = extra
    }
}

/// Training checkpoints: one safetensors file (docs/DESIGN.md "Checkpoints and formats"), F32 so a
/// resumed run continues bit for bit.
///
/// Tensors: the weights under their own names, AdamW moments as `optimizer.m.<name>` and
/// `optimizer.v.<name>`. `__metadata__`: `format`, `step`, `optimizer.step`, `rng` (JSON: the
/// four xoshiro256** words as hex strings), `config` (the run's config JSON) and each `extra`
/// entry as `extra.<key>`.
public enum TrainingCheckpoint {
    public static let format = "facestudio-training-checkpoint-v1"

    /// Writes the checkpoint atomically (temporary file, then rename): a kill mid-write leaves
    /// the previous checkpoint in place.
    public static func save(path: String, parameters: [Parameter], optimizer: AdamW, state: TrainingState,
                            configJSON: String) throws {
        try save(path: path, parameters: parameters, optimizers: [optimizer], state: state, configJSON: configJSON)
    }

    /// The same for a run with several optimisers (a tokenizer and its discriminator): their
    /// parameters must have distinct names; the first one's step is `optimizer.step`, the others'
    /// `optimizer.<i>.step`.
    public static func save(path: String, parameters: [Parameter], optimizers: [AdamW], state: TrainingState,
                            configJSON: String) throws {
        var tensors = parameters.map { (name: $0.name, tensor: $0.tensor) }
        for optimizer in optimizers {
            for (i, parameter) in optimizer.parameters.enumerated() {
                tensors.append((name: momentName("m", parameter.name), tensor: optimizer.m[i]))
                tensors.append((name: momentName("v", parameter.name), tensor: optimizer.v[i]))
            }
        }
        var metadata: [String: String] = [
            "format": format,
            "step": String(state.step),
            "rng": "[" + state.rng.state.map { JSONWriter.quoted(hex($0)) }.joined(separator: ",") + "]",
            "config": configJSON,
        ]
        for (i, optimizer) in optimizers.enumerated() { metadata[optimizerStepKey(i)] = String(optimizer.step) }
        for (key, value) in state.extra { metadata["extra." + key] = value }
        try SafetensorsFile.write(tensors, metadata: metadata, dtype: .f32, to: path)
    }

    /// Strictly restores weights and moments into the existing tensors and `optimizer` (every
    /// tensor present with its shape, nothing unused); returns the state and the config JSON.
    /// Everything is checked before anything is overwritten, so a failure changes nothing.
    public static func restore(path: String, parameters: [Parameter], optimizer: AdamW) throws
        -> (state: TrainingState, configJSON: String)
    {
        try restore(path: path, parameters: parameters, optimizers: [optimizer])
    }

    /// `restore` for a checkpoint written with several optimisers, in the same order.
    public static func restore(path: String, parameters: [Parameter], optimizers: [AdamW]) throws
        -> (state: TrainingState, configJSON: String)
    {
        let file = try SafetensorsFile(path: path)
        func fail(_ key: String, _ problem: String) -> SafetensorsError {
            SafetensorsError(path: path, subject: "__metadata__." + key, problem: problem)
        }
        func field(_ key: String) throws -> String {
            guard let value = file.metadata[key] else { throw fail(key, "missing (not a training checkpoint?)") }
            return value
        }
        func count(_ key: String) throws -> Int {
            let text = try field(key)
            guard let value = Int(text), value >= 0 else {
                throw fail(key, "expected a non-negative integer, found \(JSONWriter.quoted(String(text.prefix(40))))")
            }
            return value
        }

        let found = try field("format")
        guard found == format else { throw fail("format", "expected \(JSONWriter.quoted(format)), found \(JSONWriter.quoted(String(found.prefix(60))))") }
        let step = try count("step")
        let optimizerSteps = try optimizers.indices.map { try count(optimizerStepKey($0)) }
        let rng = try parseRNG(try field("rng"), fail: { fail("rng", $0) })
        let configJSON = try field("config")
        var extra: [String: String] = [:]
        for (key, value) in file.metadata where key.hasPrefix("extra.") { extra[String(key.dropFirst("extra.".count))] = value }

        let m = optimizers.map { $0.parameters.map { Tensor(zeros: $0.tensor.shape) } }
        let v = optimizers.map { $0.parameters.map { Tensor(zeros: $0.tensor.shape) } }
        var targets = parameters
        for (k, optimizer) in optimizers.enumerated() {
            for (i, parameter) in optimizer.parameters.enumerated() {
                targets.append(Parameter(name: momentName("m", parameter.name), tensor: m[k][i], decay: false))
                targets.append(Parameter(name: momentName("v", parameter.name), tensor: v[k][i], decay: false))
            }
        }
        try targets.load(from: file)
        for (k, optimizer) in optimizers.enumerated() { optimizer.restore(step: optimizerSteps[k], m: m[k], v: v[k]) }
        return (TrainingState(step: step, rng: rng, extra: extra), configJSON)
    }

    /// Warm start: only the weights of a checkpoint (strictly: every parameter present with its
    /// shape, no unknown tensor), its moments, step and RNG ignored; a new run starts from them.
    public static func loadWeights(path: String, parameters: [Parameter], allowMissing: Set<String> = []) throws {
        let file = try SafetensorsFile(path: path)
        try parameters.load(from: file, allowUnused: Set(file.names.filter { $0.hasPrefix("optimizer.") }), allowMissing: allowMissing)
    }

    /// What a unified-model checkpoint says about its run without loading a tensor: the model
    /// configuration (`__metadata__.config`) and the step it was saved at (nil when absent).
    public static func runInfo(path: String) throws -> (config: ModelConfig, step: Int?) {
        let file = try SafetensorsFile(path: path)
        guard let json = file.metadata["config"] else {
            throw SafetensorsError(path: path, subject: "__metadata__.config", problem: "missing (not a checkpoint of `facestudio train`?)")
        }
        let config = try ModelConfig.decode(json: Data(json.utf8), source: path + ": __metadata__.config")
        return (config, file.metadata["step"].flatMap { Int($0) })
    }

    static func momentName(_ moment: String, _ parameter: String) -> String { "optimizer.\(moment).\(parameter)" }

    static func optimizerStepKey(_ index: Int) -> String { index == 0 ? "optimizer.step" : "optimizer.\(index).step" }

    private static func hex(_ word: UInt64) -> String {
        let digits = String(word, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The `rng` entry: a JSON array of four 16-digit hex strings, not all zero (xoshiro's
    /// all-zero state would only ever produce zeros).
    private static func parseRNG(_ text: String, fail: (String) -> SafetensorsError) throws -> RNG {
        let value: JSONValue
        do {
            value = try JSONReader.parse(Array(text.utf8))
        } catch let error as JSONSyntaxError {
            throw fail("invalid JSON at byte \(error.offset): \(error.reason)")
        }
        guard case let .array(items) = value, items.count == 4 else {
            throw fail("expected an array of 4 hex strings, found \(value.kindDescription)")
        }
        var words: [UInt64] = []
        for item in items {
            guard case let .string(digits) = item, digits.count == 16, let word = UInt64(digits, radix: 16) else {
                throw fail("expected an array of 4 hex strings of 16 digits")
            }
            words.append(word)
        }
        if words.allSatisfy({ $0 == 0 }) { throw fail("all-zero state is invalid") }
        var rng = RNG(seed: 0)
        rng.state = words
        return rng
    }
}

/// When a training loop writes its checkpoint: every `every` steps, and also once `minutes` have
/// passed since the last write, so a slow run (a busy machine, a large model) never has more
/// than that much work to lose when it is stopped.
public struct CheckpointClock {
    public let every: Int
    public let minutes: Double
    private var lastSave: Date

    public init(every: Int, minutes: Double, now: Date = Date()) {
        self.every = every
        self.minutes = minutes
        lastSave = now
    }

    /// Whether to save after `step` steps; a true answer counts as a save.
    public mutating func shouldSave(afterStep step: Int, now: Date = Date()) -> Bool {
        guard step % every == 0 || (minutes > 0 && now.timeIntervalSince(lastSave) >= minutes * 60) else { return false }
        lastSave = now
        return true
    }
}
