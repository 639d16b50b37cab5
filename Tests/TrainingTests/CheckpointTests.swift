import Foundation
import Testing
import Tensor
@testable import Training

/// A two-layer MLP regression problem whose batches come from the trainer's RNG, so a resumed
/// run only matches an uninterrupted one if weights, moments, optimizer step and RNG all return.
private final class TinyRun {
    let fc1: Linear, norm: LayerNorm, fc2: Linear
    let parameters: [Parameter]
    let optimizer: AdamW
    var state: TrainingState

    init(seed: UInt64) {
        var initRNG = RNG(seed: seed)
        fc1 = Linear(6, 8, rng: &initRNG)
        norm = LayerNorm(8)
        fc2 = Linear(8, 3, rng: &initRNG)
        parameters = collectParameters("", [("fc1", fc1), ("norm", norm), ("fc2", fc2)])
        optimizer = AdamW(parameters: parameters, learningRate: 1e-2, weightDecay: 0.1)
        state = TrainingState(step: 0, rng: RNG(seed: 1000 + seed), extra: [:])
    }

    func step() {
        let x = Tensor.randn([5, 6], rng: &state.rng)
        let target = Tensor.randn([5, 3], rng: &state.rng)
        let loss = (fc2(norm(fc1(x).gelu())) - target).square().mean()
        optimizer.zeroGrad()
        loss.backward()
        clipGradNorm(parameters, maxNorm: 1)
        optimizer.update(learningRate: 1e-2 * Float(state.step + 1) / 4)
        state.step += 1
    }

    var weightBits: [[UInt32]] { parameters.map { $0.tensor.values.map(\.bitPattern) } }
    var momentBits: [[UInt32]] { (optimizer.m + optimizer.v).map { $0.values.map(\.bitPattern) } }
}

private struct ScratchDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

private let config = #"{"d_model": 8, "layers": 1, "note": "ünïcode \"quoted\""}"#

@Suite struct CheckpointTests {
    @Test func saveThenRestoreIsBitIdentical() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.path + "/checkpoint.safetensors"
        let run = TinyRun(seed: 1)
        for _ in 0..<4 { run.step() }
        run.state.extra = ["data_cursor": "17", "schedule": "cosine"]
        try TrainingCheckpoint.save(path: path, parameters: run.parameters, optimizer: run.optimizer, state: run.state, configJSON: config)

        let resumed = TinyRun(seed: 2)  // different weights and RNG until restored
        #expect(resumed.weightBits != run.weightBits)
        let (state, configJSON) = try TrainingCheckpoint.restore(path: path, parameters: resumed.parameters, optimizer: resumed.optimizer)
        #expect(state == run.state)
        #expect(configJSON == config)
        #expect(resumed.weightBits == run.weightBits)
        #expect(resumed.momentBits == run.momentBits)
        #expect(resumed.optimizer.step == 4)
        #expect(try dir.contents() == ["checkpoint.safetensors"])

        // The layout other tools see: weights under their names, moments prefixed, metadata strings.
        let file = try SafetensorsFile(path: path)
        #expect(file.names.contains("fc1.weight") && file.names.contains("optimizer.m.fc1.weight") && file.names.contains("optimizer.v.norm.bias"))
        #expect(file.names.count == 3 * run.parameters.count)
        #expect(file.metadata["step"] == "4" && file.metadata["optimizer.step"] == "4" && file.metadata["extra.data_cursor"] == "17")
        #expect(file.metadata["format"] == TrainingCheckpoint.format)
    }

    /// A run's model config and step, read from the metadata alone (what `model export` uses).
    @Test func runInfoReadsTheConfigAndStep() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.path + "/checkpoint.safetensors"
        let run = TinyRun(seed: 3)
        for _ in 0..<3 { run.step() }
        try TrainingCheckpoint.save(path: path, parameters: run.parameters, optimizer: run.optimizer, state: run.state,
                                    configJSON: #"{"d_model": 128, "heads": 4, "layers": 3}"#)
        let info = try TrainingCheckpoint.runInfo(path: path)
        #expect(info.config.dModel == 128 && info.config.layers == 3 && info.step == 3)

        try TrainingCheckpoint.save(path: path, parameters: run.parameters, optimizer: run.optimizer, state: run.state, configJSON: "[1, 2]")
        let error = #expect(throws: (any Error).self) { try TrainingCheckpoint.runInfo(path: path) }
        #expect("\(try #require(error))".contains(path + ": __metadata__.config"))
    }

    @Test func resumingContinuesBitForBit() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.path + "/checkpoint.safetensors"
        let straight = TinyRun(seed: 3)
        for _ in 0..<5 { straight.step() }

        let first = TinyRun(seed: 3)
        for _ in 0..<2 { first.step() }
        try TrainingCheckpoint.save(path: path, parameters: first.parameters, optimizer: first.optimizer, state: first.state, configJSON: config)
        let second = TinyRun(seed: 4)
        second.state = try TrainingCheckpoint.restore(path: path, parameters: second.parameters, optimizer: second.optimizer).state
        for _ in 0..<3 { second.step() }

        #expect(second.state == straight.state)
        #expect(second.weightBits == straight.weightBits)
        #expect(second.momentBits == straight.momentBits)
        #expect(second.optimizer.step == straight.optimizer.step)
    }

    @Test func aTruncatedCheckpointFailsAndThePreviousOneSurvives() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.path + "/checkpoint.safetensors"
        let run = TinyRun(seed: 5)
        run.step()
        try TrainingCheckpoint.save(path: path, parameters: run.parameters, optimizer: run.optimizer, state: run.state, configJSON: config)
        let saved = try AtomicFile.read(path: path)

        // What a torn write would have left, had the file been written in place.
        let torn = dir.path + "/torn.safetensors"
        for length in [0, 7, 8, 100, saved.count / 2, saved.count - 1] {
            try AtomicFile.write(Array(saved.prefix(length)), to: torn)
            let target = TinyRun(seed: 6)
            let before = target.weightBits
            let error = try #require(throws: SafetensorsError.self) {
                try TrainingCheckpoint.restore(path: torn, parameters: target.parameters, optimizer: target.optimizer)
            }
            #expect(error.description.hasPrefix("\(torn): "), "\(error)")
            #expect(error.description.contains("truncated") || error.description.contains("too short"), "\(error)")
            #expect(!error.description.contains("\n"))
            #expect(target.weightBits == before)  // nothing half-restored
        }

        // A save that fails part-way (here: two parameters with one name) leaves the last good
        // checkpoint byte for byte, and no temporary file.
        run.step()
        let clash = run.parameters + [Parameter(name: "fc1.weight", tensor: Tensor(zeros: [1]))]
        #expect(throws: SafetensorsError.self) {
            try TrainingCheckpoint.save(path: path, parameters: clash, optimizer: run.optimizer, state: run.state, configJSON: config)
        }
        #expect(try AtomicFile.read(path: path) == saved)
        try FileManager.default.removeItem(atPath: torn)
        #expect(try dir.contents() == ["checkpoint.safetensors"])
        let restored = TinyRun(seed: 7)
        #expect(try TrainingCheckpoint.restore(path: path, parameters: restored.parameters, optimizer: restored.optimizer).state.step == 1)
    }

    @Test func restoreIsStrictAndNamesTheProblem() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.path + "/checkpoint.safetensors"
        let run = TinyRun(seed: 8)
        run.step()
        try TrainingCheckpoint.save(path: path, parameters: run.parameters, optimizer: run.optimizer, state: run.state, configJSON: config)

        func restoreError(_ parameters: [Parameter], _ optimizer: AdamW, from file: String = path) -> String {
            do { _ = try TrainingCheckpoint.restore(path: file, parameters: parameters, optimizer: optimizer); return "no error" } catch { return "\(error)" }
        }
        // A model with one more tensor than the checkpoint.
        let bigger = TinyRun(seed: 9)
        let extra = Parameter(name: "head.weight", tensor: Tensor(zeros: [2, 2]))
        #expect(restoreError(bigger.parameters + [extra], AdamW(parameters: bigger.parameters + [extra]))
            == "\(path): head.weight: missing from the file (3 tensors the model needs are missing)")
        // An optimizer over fewer parameters leaves moments unused.
        let partial = TinyRun(seed: 10)
        #expect(restoreError(partial.parameters, AdamW(parameters: Array(partial.parameters.dropLast())))
            == "\(path): optimizer.m.fc2.bias: in the file but not used by the model (2 unused tensors)")

        // A weights-only file is not a training checkpoint.
        let weights = dir.path + "/model.safetensors"
        try run.parameters.save(to: weights)
        let other = TinyRun(seed: 11)
        #expect(restoreError(other.parameters, other.optimizer, from: weights)
            == "\(weights): __metadata__.format: missing (not a training checkpoint?)")

        // Damaged metadata is named, and nothing is restored.
        let bad = dir.path + "/bad.safetensors"
        for (key, value, problem) in [
            ("step", "-1", "__metadata__.step: expected a non-negative integer, found \"-1\""),
            ("optimizer.step", "x", "__metadata__.optimizer.step: expected a non-negative integer, found \"x\""),
            ("rng", "[\"00\"]", "__metadata__.rng: expected an array of 4 hex strings, found an array"),
            ("rng", "[\"0000000000000000\",\"0000000000000000\",\"0000000000000000\",\"0000000000000000\"]", "__metadata__.rng: all-zero state is invalid"),
            ("rng", "{", "__metadata__.rng: invalid JSON at byte 1: expected a string key"),
        ] {
            var metadata = try SafetensorsFile(path: path).metadata
            metadata[key] = value
            let file = try SafetensorsFile(path: path)
            try SafetensorsFile.write(try file.names.map { (name: $0, tensor: try file.tensor($0)) }, metadata: metadata, to: bad)
            let target = TinyRun(seed: 12)
            let before = target.weightBits
            #expect(restoreError(target.parameters, target.optimizer, from: bad) == "\(bad): \(problem)")
            #expect(target.weightBits == before)
        }
    }

    @Test func checkpointClockSavesEveryNStepsAndAfterTheTimeLimit() {
        let start = Date(timeIntervalSince1970: 0)
        var clock = CheckpointClock(every: 100, minutes: 10, now: start)
        let answers = [(1, 60.0), (100, 120), (101, 600), (102, 720), (103, 780)].map { step, seconds in
            clock.shouldSave(afterStep: step, now: start.addingTimeInterval(seconds))
        }
        // Step 100 by count; step 102 because 10 minutes passed since the save at step 100 (not
        // since the start: step 101 at 600 s is too early).
        #expect(answers == [false, true, false, true, false])
        var stepsOnly = CheckpointClock(every: 100, minutes: 0, now: start)
        let late = stepsOnly.shouldSave(afterStep: 5, now: start.addingTimeInterval(1e6))
        #expect(!late)
    }
}
