import Foundation
import Support
import Tensor
import FaceModel

/// One `encoders train` run: the face-attribute encoder, then the CLIP encoder, on a data set's
/// train split, into a directory of encoder files (`encoder_config.json`, the tokenizer, per
/// encoder a checkpoint, a metrics log, F16 weights and its test-split report). Resumable;
/// Ctrl-C saves a checkpoint and throws `TrainingInterrupted`.
public struct EncoderRun {
    public var data: String
    public var out: String
    public var kinds: [EncoderKind] = EncoderKind.allCases
    public var resume = false
    public var seed: UInt64 = 0
    /// Overrides of `EncoderTrainSettings.face` / `.clip` (nil: the encoder's default).
    public var steps: Int?
    public var batch: Int?
    public var learningRate: Float?
    public var positiveWeightPower: Float = 0
    /// A directory of trained encoders to start from (and take the tokenizer of).
    public var initFrom: String?
    /// Start the CLIP image trunk from the trained face encoder's.
    public var faceInit = true
    public var quiet = false

    public init(data: String, out: String) { self.data = data; self.out = out }

    /// The test-split figures of the encoders trained in this run.
    public struct Reports: Encodable {
        public var face: FaceEncoderReport?
        public var clip: ClipEncoderReport?
    }

    func checkpointPath(_ kind: EncoderKind) -> String { out + "/checkpoint_\(kind.rawValue).safetensors" }

    func hasWeights(_ kind: EncoderKind) -> Bool {
        [checkpointPath(kind), out + "/" + ImageEncoders.weightsFile(kind)].contains { FileManager.default.fileExists(atPath: $0) }
    }

    /// Trains every kind in `kinds`, in order; `onReport` sees each encoder's report as it is measured.
    public func train(onReport: (EncoderKind, Reports) -> Void = { _, _ in }) throws -> Reports {
        let fm = FileManager.default
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        for kind in kinds where fm.fileExists(atPath: checkpointPath(kind)) && !resume {
            throw TrainingError.config("\(checkpointPath(kind)) exists: pass --resume to continue it, or choose another --out")
        }
        let (encoders, dataset) = try prepare()
        var reports = Reports()
        for kind in kinds {
            let trainer = try EncoderTrainer(kind: kind, encoders: encoders, data: dataset, settings: settings(kind))
            let metricsPath = out + "/metrics_\(kind.rawValue).jsonl"
            if resume && fm.fileExists(atPath: checkpointPath(kind)) {
                try trainer.restore(path: checkpointPath(kind))
                try MetricsLog.truncate(path: metricsPath, after: trainer.step)
            } else {
                try? fm.removeItem(atPath: metricsPath)
                try startingWeights(kind, encoders: encoders)
            }
            try runSteps(trainer, metricsPath: metricsPath)
            // Ship F16 weights and evaluate exactly what ships.
            try encoders.saveWeights(kind, directory: out)
            try encoders.loadWeights(kind, directory: out)
            let reportJSON: Data
            if kind == .face {
                reports.face = try EncoderEvaluation.face(encoders, data: dataset)
                reportJSON = try Self.compactJSON(reports.face)
            } else {
                reports.clip = try EncoderEvaluation.clip(encoders, data: dataset)
                reportJSON = try Self.compactJSON(reports.clip)
            }
            try AtomicFile.write(Array(reportJSON) + [UInt8(ascii: "\n")], to: out + "/eval_\(kind.rawValue).json")
            onReport(kind, reports)
        }
        return reports
    }

    /// The data set, the text tokenizer and the encoders' configuration (checked against the
    /// weights already in `out`), written to `out`.
    func prepare() throws -> (ImageEncoders, EncoderDataset) {
        var config = EncoderConfig()
        let dataset = try EncoderDataset.load(directory: data, side: config.imageSize, showProgress: !quiet)
        let tokenizer = try loadOrTrainTokenizer(dataset)
        config.clip.textVocabSize = tokenizer.vocabSize
        config.face.attributes = dataset.attributes
        config.face.details = dataset.details
        let configPath = out + "/" + ImageEncoders.configFile
        if FileManager.default.fileExists(atPath: configPath) {
            // Weights already in `out` must still fit: the part of the config they depend on
            // may not change (the other part may, and is retrained).
            let saved = try EncoderConfig.load(path: configPath)
            for kind in EncoderKind.allCases where hasWeights(kind) && !(kinds.contains(kind) && !resume) && !saved.fits(config, for: kind) {
                throw TrainingError.config("\(configPath): the \(kind.rawValue) encoder in --out was trained with another configuration (data set schema, tokenizer or widths); choose another --out")
            }
        }
        try config.validate()
        let encoders = ImageEncoders(config: config, textTokenizer: tokenizer, seed: seed)
        try encoders.saveConfig(directory: out)
        let faceFile = out + "/" + ImageEncoders.faceFile
        if !kinds.contains(.face) && FileManager.default.fileExists(atPath: faceFile) { try encoders.loadWeights(.face, directory: out) }
        return (encoders, dataset)
    }

    func settings(_ kind: EncoderKind) -> EncoderTrainSettings {
        var settings = kind == .face ? EncoderTrainSettings.face : EncoderTrainSettings.clip
        if let steps { settings.steps = steps }
        if let batch { settings.batch = batch }
        if let learningRate { settings.learningRate = learningRate }
        if kind == .face { settings.positiveWeightPower = positiveWeightPower }
        settings.seed = seed
        return settings
    }

    /// A new run's first weights: `initFrom`'s, or for CLIP the trained face encoder's trunk.
    func startingWeights(_ kind: EncoderKind, encoders: ImageEncoders) throws {
        if let initFrom {
            let other = try EncoderConfig.load(path: initFrom + "/" + ImageEncoders.configFile)
            guard other.fits(encoders.config, for: kind) else {
                throw TrainingError.config("--init-from \(initFrom): its \(kind.rawValue) encoder has another configuration (data set schema, tokenizer or widths)")
            }
            do { try encoders.loadWeights(kind, directory: initFrom) } catch {
                throw TrainingError.config("--init-from \(initFrom): \(error)")
            }
        } else if kind == .clip && faceInit {
            let trainedFace = kinds.contains(.face) || FileManager.default.fileExists(atPath: out + "/" + ImageEncoders.faceFile)
            if !(trainedFace && encoders.initializeClipTrunkFromFace()) {
                throw TrainingError.config("--face-init: no trained face encoder with the CLIP trunk's widths (train face first, or pass --no-face-init)")
            }
        }
    }

    /// Steps until done or interrupted, logging and checkpointing as it goes.
    func runSteps(_ trainer: EncoderTrainer, metricsPath: String) throws {
        let kind = trainer.kind, settings = trainer.settings
        let log = try MetricsLog(path: metricsPath)
        let interrupt = InterruptFlag()
        let progress = ProgressLine(label: "train \(kind.rawValue) encoder", total: settings.steps, unit: "step",
                                    startCount: trainer.step, enabled: !quiet)
        var recent: [Float] = []
        while trainer.step < settings.steps && !interrupt.isSet {
            let m = trainer.trainStep()
            recent.append(m.loss); if recent.count > 20 { recent.removeFirst() }
            if m.step % 10 == 0 { try log.append(m) }
            if trainer.step % settings.checkpointEvery == 0 { try trainer.save(path: checkpointPath(kind)) }
            var extra = String(format: "loss %.4f", recent.reduce(0, +) / Float(recent.count))
            if let scale = m.logitScale { extra += String(format: "  1/T %.1f", scale) }
            progress.update(trainer.step, extra: extra)
        }
        try trainer.save(path: checkpointPath(kind))
        progress.finish(trainer.step)
        if interrupt.isSet {
            FileHandle.standardError.write(Data("interrupted at step \(trainer.step) of the \(kind.rawValue) encoder; checkpoint saved, continue with --resume\n".utf8))
            throw TrainingInterrupted(step: trainer.step)
        }
    }

    /// The CLIP text tower's BPE tokenizer: from `out` when present (a resumed run) or from
    /// `initFrom`, else learned from the train split's captions.
    func loadOrTrainTokenizer(_ dataset: EncoderDataset) throws -> TextTokenizer {
        for dir in [out] + (initFrom.map { [$0] } ?? []) {
            let path = dir + "/" + ImageEncoders.tokenizerFile
            if FileManager.default.fileExists(atPath: path) { return try TextTokenizer(contentsOf: path) }
        }
        let texts = dataset.trainIndices.map { dataset.captions[$0] }
        return try TextTokenizer.train(texts: texts, vocabSize: ClipEncoderConfig().textVocabSize, specialTokens: ["<|pad|>"])
    }

    /// One line of sorted-key JSON (the eval_<kind>.json files).
    static func compactJSON<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }
}

extension EncoderConfig {
    /// Whether weights of `kind` trained under `self` load under `other`.
    func fits(_ other: EncoderConfig, for kind: EncoderKind) -> Bool {
        imageSize == other.imageSize && (kind == .face ? face == other.face : clip == other.clip)
    }
}

extension ClipEncoderReport {
    /// The line `encoders train` prints after training the CLIP encoder.
    public var trainingSummaryLine: String {
        String(format: "clip encoder: image→caption top-1 of 100 %.4f, caption→image %.4f, top-1/top-5 of all %.4f/%.4f on %d test images",
               imageToCaptionTop1Of100, captionToImageTop1Of100, imageToCaptionTop1All, imageToCaptionTop5All, images)
    }
}
