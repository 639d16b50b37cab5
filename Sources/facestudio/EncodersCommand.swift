import ArgumentParser
import Foundation
import Tensor
import FaceData
import FaceModel
import Training

/// `facestudio encoders`: the frozen image encoders the sequence-level MoE reads — a small CLIP
/// and a face-attribute CNN (also the attribute judge of `eval`).
struct EncodersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoders", abstract: "Train and evaluate the CLIP and face-attribute encoders.",
        subcommands: [Train.self, Eval.self])

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the face-attribute encoder, then the CLIP encoder, on a data set's train split.",
            discussion: """
            Writes into --out: encoder_config.json and encoder_tokenizer.json (first), per encoder a \
            checkpoint_<face|clip>.safetensors (weights, AdamW moments, step, RNG; every checkpoint-every \
            steps and on Ctrl-C), metrics_<face|clip>.jsonl, and when it finishes encoder_<face|clip>.safetensors \
            (F16) and eval_<face|clip>.json (test-split figures). --out is then a directory of encoders that \
            `model init`/`train` copy next to a model (put its encoder_* files in Models/).
            """)

        @Option(help: "Data set directory (captions.jsonl, attributes.jsonl, schema.json, images/).")
        var data: String

        @Option(help: "Output directory.")
        var out: String

        @Flag(help: "Continue from the checkpoints in --out.")
        var resume = false

        @Option(help: "Optimiser steps per encoder (defaults: face \(EncoderTrainSettings.face.steps), clip \(EncoderTrainSettings.clip.steps)).")
        var steps: Int?

        @Option(help: "Images per step (defaults: face \(EncoderTrainSettings.face.batch), clip \(EncoderTrainSettings.clip.batch)).")
        var batch: Int?

        @Option(help: "Train only this encoder: face or clip.")
        var only: String?

        @Option(help: "Random seed of initialisation, batches and augmentation.")
        var seed: UInt64 = 0

        @Option(help: "Peak learning rate (defaults: face \(EncoderTrainSettings.face.learningRate), clip \(EncoderTrainSettings.clip.learningRate)).")
        var learningRate: Float?

        @Option(help: "Face encoder: weight each attribute's positive term by (negatives/positives)^P on the train split, capped at 10; 0 is plain BCE, 0.5 teaches rare attributes (winks, most emotions).")
        var positiveWeightPower: Float = 0

        @Option(help: "Start from the trained encoder weights in this directory (a model directory or another `encoders train --out`) instead of random ones; its tokenizer too when --out has none.")
        var initFrom: String?

        @Flag(inversion: .prefixedNo, help: "Start the CLIP image trunk from the trained face encoder's trunk (needs encoder_face.safetensors in --out or face trained in this run).")
        var faceInit = true

        @Flag(help: "Print the test-split figures as JSON at the end.")
        var json = false

        func run() throws {
            var kinds = EncoderKind.allCases
            if let only {
                guard let kind = EncoderKind(rawValue: only) else { throw ValidationError("--only: \"\(only)\" is not face or clip") }
                kinds = [kind]
            }
            let fm = FileManager.default
            try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
            for kind in kinds where fm.fileExists(atPath: checkpointPath(kind)) && !resume {
                throw ValidationError("\(checkpointPath(kind)) exists: pass --resume to continue it, or choose another --out")
            }
            var config = EncoderConfig()
            let dataset = try EncoderDataset.load(directory: data, side: config.imageSize, showProgress: !json)
            let tokenizer = try loadOrTrainTokenizer(dataset)
            config.clip.textVocabSize = tokenizer.vocabSize
            config.face.attributes = dataset.attributes
            config.face.details = dataset.details
            let configPath = out + "/" + ImageEncoders.configFile
            if fm.fileExists(atPath: configPath) {
                // Weights already in --out must still fit: the part of the config they depend on
                // may not change (the other part may, and is retrained).
                let saved = try EncoderConfig.load(path: configPath)
                for kind in EncoderKind.allCases where hasWeights(kind) && !(kinds.contains(kind) && !resume) {
                    let same = saved.imageSize == config.imageSize && (kind == .face ? saved.face == config.face : saved.clip == config.clip)
                    if !same {
                        throw ValidationError("\(configPath): the \(kind.rawValue) encoder in --out was trained with another configuration (data set schema, tokenizer or widths); choose another --out")
                    }
                }
            }
            try config.validate()
            let encoders = ImageEncoders(config: config, textTokenizer: tokenizer, seed: seed)
            try encoders.saveConfig(directory: out)
            let faceFile = out + "/" + ImageEncoders.faceFile
            if !kinds.contains(.face) && fm.fileExists(atPath: faceFile) { try encoders.loadWeights(.face, directory: out) }

            var reports: [String: Any] = [:]
            for kind in kinds {
                var settings = kind == .face ? EncoderTrainSettings.face : EncoderTrainSettings.clip
                if let steps { settings.steps = steps }
                if let batch { settings.batch = batch }
                if let learningRate { settings.learningRate = learningRate }
                if kind == .face { settings.positiveWeightPower = positiveWeightPower }
                settings.seed = seed
                let trainer = try EncoderTrainer(kind: kind, encoders: encoders, data: dataset, settings: settings)
                let metricsPath = out + "/metrics_\(kind.rawValue).jsonl"
                if resume && fm.fileExists(atPath: checkpointPath(kind)) {
                    try trainer.restore(path: checkpointPath(kind))
                    try MetricsLog.truncate(path: metricsPath, after: trainer.step)
                } else {
                    try? fm.removeItem(atPath: metricsPath)
                    if let initFrom {
                        let other = try EncoderConfig.load(path: initFrom + "/" + ImageEncoders.configFile)
                        guard other.imageSize == config.imageSize, kind == .face ? other.face == config.face : other.clip == config.clip else {
                            throw ValidationError("--init-from \(initFrom): its \(kind.rawValue) encoder has another configuration (data set schema, tokenizer or widths)")
                        }
                        do { try encoders.loadWeights(kind, directory: initFrom) } catch {
                            throw ValidationError("--init-from \(initFrom): \(error)")
                        }
                    } else if kind == .clip && faceInit {
                        let trainedFace = kinds.contains(.face) || fm.fileExists(atPath: faceFile)
                        if !(trainedFace && encoders.initializeClipTrunkFromFace()) {
                            throw ValidationError("--face-init: no trained face encoder with the CLIP trunk's widths (train face first, or pass --no-face-init)")
                        }
                    }
                }
                try train(trainer, metricsPath: metricsPath)
                // Ship F16 weights and evaluate exactly what ships.
                try encoders.saveWeights(kind, directory: out)
                try encoders.loadWeights(kind, directory: out)
                let faceReport = kind == .face ? try EncoderEvaluation.face(encoders, data: dataset) : nil
                let report: Encodable = try faceReport ?? EncoderEvaluation.clip(encoders, data: dataset) as Encodable
                let reportJSON = try jsonData(report)
                try AtomicFile.write(Array(reportJSON) + [UInt8(ascii: "\n")], to: out + "/eval_\(kind.rawValue).json")
                reports[kind.rawValue] = try JSONSerialization.jsonObject(with: reportJSON)
                if !json { print(faceReport?.summaryLine ?? clipSummary(reportJSON)) }
            }
            if json {
                print(String(decoding: try JSONSerialization.data(withJSONObject: reports, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
            }
        }

        func checkpointPath(_ kind: EncoderKind) -> String { out + "/checkpoint_\(kind.rawValue).safetensors" }

        func hasWeights(_ kind: EncoderKind) -> Bool {
            [checkpointPath(kind), out + "/" + ImageEncoders.weightsFile(kind)].contains { FileManager.default.fileExists(atPath: $0) }
        }

        /// Steps until done or interrupted, logging and checkpointing as it goes.
        func train(_ trainer: EncoderTrainer, metricsPath: String) throws {
            let kind = trainer.kind, settings = trainer.settings
            let log = try JSONLineLog(path: metricsPath)
            let interrupt = InterruptFlag()
            let progress = ProgressLine(label: "train \(kind.rawValue) encoder", total: settings.steps, unit: "step",
                                        startCount: trainer.step, enabled: !json)
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
                throw ExitCode(130)
            }
        }

        /// The CLIP text tower's BPE tokenizer: from --out when present (a resumed run), else
        /// learned from the train split's captions.
        func loadOrTrainTokenizer(_ dataset: EncoderDataset) throws -> TextTokenizer {
            for dir in [out] + (initFrom.map { [$0] } ?? []) {
                let path = dir + "/" + ImageEncoders.tokenizerFile
                if FileManager.default.fileExists(atPath: path) { return try TextTokenizer(contentsOf: path) }
            }
            let texts = dataset.trainIndices.map { dataset.captions[$0] }
            return try TextTokenizer.train(texts: texts, vocabSize: ClipEncoderConfig().textVocabSize, specialTokens: ["<|pad|>"])
        }

        func clipSummary(_ report: Data) -> String {
            guard let o = try? JSONSerialization.jsonObject(with: report) as? [String: Any] else { return "" }
            return String(format: "clip encoder: image→caption top-1 of 100 %.4f, caption→image %.4f, top-1/top-5 of all %.4f/%.4f on %d test images",
                          o["image_to_caption_top1_of_100"] as? Double ?? 0, o["caption_to_image_top1_of_100"] as? Double ?? 0,
                          o["image_to_caption_top1_all"] as? Double ?? 0, o["image_to_caption_top5_all"] as? Double ?? 0,
                          o["images"] as? Int ?? 0)
        }
    }

    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Test-split figures of the encoders: per-attribute accuracy and caption retrieval.")

        @Option(help: "Data set directory.")
        var data: String

        @Option(help: "Directory holding the encoder_* files (a model directory or `encoders train --out`).")
        var model: String = "Models"

        @Option(help: "Evaluate only this encoder: face or clip.")
        var only: String?

        @Option(help: "Split to evaluate on: test, or train (its first 1000 images, to compare with test for overfitting).")
        var split: String = "test"

        @Flag(help: "Read the weights from the training checkpoints in --model (checkpoint_<face|clip>.safetensors), e.g. while training runs.")
        var checkpoint = false

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            var kinds = EncoderKind.allCases
            if let only {
                guard let kind = EncoderKind(rawValue: only) else { throw ValidationError("--only: \"\(only)\" is not face or clip") }
                kinds = [kind]
            }
            let encoders: ImageEncoders
            if checkpoint || kinds.count < EncoderKind.allCases.count {
                let config = try EncoderConfig.load(path: model + "/" + ImageEncoders.configFile)
                encoders = ImageEncoders(config: config, textTokenizer: try TextTokenizer(contentsOf: model + "/" + ImageEncoders.tokenizerFile))
                for kind in kinds {
                    if checkpoint {
                        let parameters = encoders.parameters(kind)
                        let moments = Set(parameters.flatMap { ["optimizer.m.\($0.name)", "optimizer.v.\($0.name)"] })
                        try parameters.load(from: SafetensorsFile(path: model + "/checkpoint_\(kind.rawValue).safetensors"), allowUnused: moments)
                    } else {
                        try encoders.loadWeights(kind, directory: model)
                    }
                }
            } else {
                encoders = try ImageEncoders.load(directory: model)
            }
            let dataset = try EncoderDataset.load(directory: data, side: encoders.config.imageSize, showProgress: !json)
            guard split == "test" || split == "train" else { throw ValidationError("--split: \"\(split)\" is not test or train") }
            let indices = split == "test" ? dataset.testIndices : Array(dataset.trainIndices.prefix(1000))
            let face = kinds.contains(.face) ? try EncoderEvaluation.face(encoders, data: dataset, indices: indices) : nil
            let clip = kinds.contains(.clip) ? try EncoderEvaluation.clip(encoders, data: dataset, indices: indices) : nil
            if json {
                struct Report: Encodable { var face: FaceEncoderReport?; var clip: ClipEncoderReport? }
                try printJSON(Report(face: face, clip: clip))
                return
            }
            if let face {
                print(face.summaryLine)
            }
            if let clip {
                print(String(format: "clip: image→caption top-1 of 100 %.4f, caption→image top-1 of 100 %.4f, image→caption top-1/top-5 of all %d: %.4f/%.4f",
                             clip.imageToCaptionTop1Of100, clip.captionToImageTop1Of100, clip.images, clip.imageToCaptionTop1All,
                             clip.imageToCaptionTop5All))
            }
        }
    }
}

/// Sorted-key JSON of any encodable value.
private func jsonData(_ value: Encodable) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(value)
}

/// Appends one JSON object per line.
private final class JSONLineLog {
    private let handle: FileHandle
    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw ValidationError("\(path): cannot open for appending") }
        h.seekToEndOfFile()
        handle = h
    }
    deinit { try? handle.close() }
    func append(_ value: Encodable) throws { handle.write(try jsonData(value) + Data("\n".utf8)) }
}
