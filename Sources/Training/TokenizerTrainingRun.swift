import Foundation
import Support
import Tensor
import FaceModel

/// Where a tokenizer comes from on the command line: a model directory
/// (`image_tokenizer_config.json` + `image_tokenizer.safetensors`) or a training checkpoint
/// (`….safetensors`, its config in the metadata), to look at a run in progress.
public enum TokenizerSource {
    /// Loads strictly; errors are one line naming the file.
    public static func load(_ path: String) throws -> ImageTokenizer {
        guard path.hasSuffix(".safetensors") else { return try ImageTokenizer.load(directory: path) }
        let file = try SafetensorsFile(path: path)
        guard let json = file.metadata["config"] else {
            throw TrainingError.data("\(path): no \"config\" in the metadata (not a tokenizer training checkpoint)")
        }
        let config = try TokenizerConfigFile.decode(Data(json.utf8), path: path + " (config)").model
        let tokenizer = try ImageTokenizer(config: config)
        // A checkpoint also holds optimiser moments and, in an adversarial run, the discriminator.
        let trainingOnly = file.names.filter { $0.hasPrefix("optimizer.") || $0.hasPrefix(TokenizerTrainer.discriminatorPrefix + ".") }
        try tokenizer.allParameters.load(from: file, allowUnused: Set(trainingOnly))
        return tokenizer
    }

    /// What a tokenizer's weights file should record of the run a checkpoint comes from: its
    /// step count and its provenance (`TokenizerTrainer.provenance`); empty for a directory.
    public static func provenance(ofCheckpoint path: String) -> [String: String] {
        guard path.hasSuffix(".safetensors"), let file = try? SafetensorsFile(path: path) else { return [:] }
        var metadata: [String: String] = [:]
        metadata["steps"] = file.metadata["step"]
        for (key, value) in file.metadata where key.hasPrefix(TokenizerTrainer.provenancePrefix) {
            metadata[String(key.dropFirst(TokenizerTrainer.provenancePrefix.count))] = value
        }
        return metadata
    }
}

/// One `tokenizer train` run in its directory: `config.json` (the settings; a resume reads it
/// back), `checkpoint.safetensors`, `metrics.jsonl`, and at the end the tokenizer in `model/`.
public final class TokenizerTrainingRun {
    public struct Options {
        public var data: String
        public var out: String
        /// The config file of a new run (nil: built-in settings; ignored on resume).
        public var config: String?
        public var resume = false
        /// Total steps, overriding `training.steps`.
        public var steps: Int?
        /// A new run's weights (a warm start) and a decoder-only run's frozen encoder.
        public var initFrom: ImageTokenizer?
        public var encoderFrom: ImageTokenizer?
        public var perceptual: PerceptualDistance?
        /// A checkpoint also after this many minutes (`CheckpointClock`).
        public var checkpointMinutes: Double = 10

        public init(data: String, out: String) { self.data = data; self.out = out }
    }

    public let trainer: TokenizerTrainer
    public let file: TokenizerConfigFile
    public let out: String
    let configJSON: String
    var checkpointPath: String { out + "/checkpoint.safetensors" }
    let log: MetricsLog
    let checkpointMinutes: Double

    /// Sets the run up: a new one writes its config copy and starts a fresh log; a resumed one
    /// restores the checkpoint and drops the log lines of the steps it will repeat.
    public init(_ options: Options) throws {
        out = options.out
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let checkpoint = out + "/checkpoint.safetensors", configCopy = out + "/config.json"
        let hasCheckpoint = FileManager.default.fileExists(atPath: checkpoint)
        if hasCheckpoint && !options.resume {
            throw TrainingError.config("\(checkpoint) exists: pass --resume to continue it, or choose another --out")
        }
        let resuming = options.resume && hasCheckpoint
        var file = try Self.readConfig(path: resuming ? configCopy : options.config)
        if let steps = options.steps { file.training.steps = steps }
        try file.training.validate()
        self.file = file
        configJSON = try file.jsonString()
        try AtomicFile.write(text: configJSON + "\n", to: configCopy)

        let tokenizer = try ImageTokenizer(config: file.model, seed: file.training.seed)
        let decoderOnly = resuming ? try TokenizerTrainer.isDecoderOnly(checkpoint: checkpoint) : options.encoderFrom != nil
        if !resuming {
            if let source = options.initFrom { try Self.adopt("--init", { try tokenizer.adoptWeights(of: source) }) }
            if let source = options.encoderFrom { try Self.adopt("--encoder-from", { try tokenizer.adoptEncoder(of: source) }) }
        }
        let images = try TokenizerImageSet.load(dataDirectory: options.data, split: "train", side: file.model.imageSize)
        trainer = try TokenizerTrainer(tokenizer: tokenizer, config: file.training, images: images, decoderOnly: decoderOnly,
                                       perceptual: options.perceptual)
        let metricsPath = out + "/metrics.jsonl"
        if resuming {
            try trainer.restore(path: checkpoint)
            try MetricsLog.truncate(path: metricsPath, after: trainer.step)
        } else {
            try? FileManager.default.removeItem(atPath: metricsPath)
        }
        log = try MetricsLog(path: metricsPath)
        checkpointMinutes = options.checkpointMinutes
    }

    /// Trains until the configured step count or until `shouldStop` says so (Ctrl-C), logging
    /// every `log_every` steps and checkpointing on the `CheckpointClock` and at the end.
    public func train(shouldStop: () -> Bool, afterStep: (TokenizerStepMetrics) -> Void) throws {
        let t = file.training
        var clock = CheckpointClock(every: t.checkpointEvery, minutes: checkpointMinutes)
        while trainer.step < t.steps && !shouldStop() {
            let m = trainer.trainStep()
            if m.step % t.logEvery == 0 { try log.append(m) }
            if clock.shouldSave(afterStep: trainer.step) { try saveCheckpoint() }
            afterStep(m)
        }
        try saveCheckpoint()
    }

    public func saveCheckpoint() throws { try trainer.save(path: checkpointPath, configJSON: configJSON) }

    /// Writes the trained tokenizer (with its provenance) into `out/model`; returns that path.
    public func writeModel() throws -> String {
        let directory = out + "/model"
        try trainer.tokenizer.save(directory: directory, metadata: trainer.provenance)
        return directory
    }

    private static func adopt(_ flag: String, _ body: () throws -> Void) throws {
        do { try body() } catch let e as ModelConfigError { throw TrainingError.config("\(flag): \(e.message)") }
    }

    private static func readConfig(path: String?) throws -> TokenizerConfigFile {
        guard let path else { return TokenizerConfigFile() }
        let bytes = try AtomicFile.read(path: path, maxBytes: 1 << 20)
        do { return try TokenizerConfigFile.decode(Data(bytes), path: path) } catch let e as DecodingError {
            throw TrainingError.config("\(path): \(describe(e))")
        }
    }
}
