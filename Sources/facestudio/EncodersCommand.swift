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
            var run = EncoderRun(data: data, out: out)
            if let only {
                guard let kind = EncoderKind(rawValue: only) else { throw ValidationError("--only: \"\(only)\" is not face or clip") }
                run.kinds = [kind]
            }
            run.resume = resume; run.seed = seed; run.steps = steps; run.batch = batch; run.learningRate = learningRate
            run.positiveWeightPower = positiveWeightPower; run.initFrom = initFrom; run.faceInit = faceInit; run.quiet = json
            let reports = try run.train { kind, reports in
                guard !json else { return }
                print(kind == .face ? reports.face?.summaryLine ?? "" : reports.clip?.trainingSummaryLine ?? "")
            }
            if json { try printJSON(reports) }
        }
    }

    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Test-split figures of the encoders: per-attribute accuracy and caption retrieval.")

        @Option(help: "Data set directory.")
        var data: String

        @Option(help: "Directory holding the encoder_* files (a model directory or `encoders train --out`; default: the model, found as --model is).")
        var model: String?

        @Option(help: "Evaluate only this encoder: face or clip.")
        var only: String?

        @Option(help: "Split to evaluate on: test, or train (its first 1000 images, to compare with test for overfitting).")
        var split: String = "test"

        @Flag(help: "Read the weights from the training checkpoints in --model (checkpoint_<face|clip>.safetensors), e.g. while training runs.")
        var checkpoint = false

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let model = try ModelDirectory.locate(explicit: self.model)
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
