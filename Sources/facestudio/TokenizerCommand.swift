import ArgumentParser
import Foundation
import Support
import Tensor
import Imaging
import FaceModel
import Training
import FaceData
import Evaluation

/// `facestudio tokenizer …`: train, evaluate and run the LFQ image tokenizer.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train, evaluate and run the LFQ image tokenizer (64×64 image ↔ 16×16 codes).",
        subcommands: [Train.self, Eval.self, Roundtrip.self, Encode.self, Decode.self, Export.self, BenchTokenizer.self])
}

/// The tokenizer of a model directory or of a training checkpoint (`TokenizerSource`), with
/// a one-line error naming the file.
func loadTokenizer(_ path: String) throws -> ImageTokenizer {
    do { return try TokenizerSource.load(path) } catch { throw ValidationError("\(error)") }
}

extension TokenizerCommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the image tokenizer on a data set's training split.",
            discussion: """
            Writes into --out: config.json (model settings and a "training" object; a resume reads it \
            back), checkpoint.safetensors (weights, AdamW moments, step, RNG; every checkpoint_every \
            steps, every --checkpoint-minutes and on Ctrl-C), metrics.jsonl, and at the end the tokenizer in --out/model \
            (image_tokenizer_config.json + image_tokenizer.safetensors).
            """)

        @Option(help: "Data set directory (captions.jsonl and images/).")
        var data: String

        @Option(help: "Output directory for checkpoints, logs and the trained tokenizer.")
        var out: String

        @Option(help: "JSON file: tokenizer settings at the top level, optional \"training\" object (default: built-in settings, or --out/config.json on --resume).")
        var config: String?

        @Flag(help: "Continue from --out/checkpoint.safetensors.")
        var resume = false

        @Option(help: "Total optimiser steps (overrides training.steps).")
        var steps: Int?

        @Option(help: "Held-out images for the evaluation at the end (0: skip it).")
        var evalImages = 1000

        @Option(help: ArgumentHelp(
            "Train only the decoder, on the frozen encoder of this tokenizer (a model directory).",
            discussion: "Codes stay exactly as they were, so a unified model trained on them stays valid. The config may give the decoder other widths, depths or norms (decoder_channels, decoder_res_blocks, decoder_norm), not the encoder.",
            valueName: "dir"))
        var encoderFrom: String?

        @Option(name: .customLong("init"), help: ArgumentHelp(
            "Warm start: every weight of this tokenizer (a model directory or a training checkpoint), with a fresh optimiser, schedule and step count.",
            discussion: "Its tensors must have the config's shapes. With --encoder-from, it continues a decoder-only retrain from a shipped decoder: --init Models --encoder-from Models.",
            valueName: "dir"))
        var initFrom: String?

        @Option(help: ArgumentHelp(
            "The network of the perceptual term (training.perceptual_weight): the CLIP image tower of this encoders directory (e.g. Models).",
            discussion: "Not the face-attribute encoder: that one judges round trips in eval and tokenizer eval --judge, and a tokenizer must not train against its judge. Give it again on --resume.",
            valueName: "dir"))
        var perceptualFrom: String?

        @Option(help: "Also write a checkpoint whenever this many minutes have passed since the last one (0: only every checkpoint_every steps).")
        var checkpointMinutes: Double = 10

        @Flag(help: "Print a JSON summary at the end instead of text.")
        var json = false

        func run() throws {
            var options = TokenizerTrainingRun.Options(data: data, out: out)
            options.config = config
            options.resume = resume
            options.steps = steps
            options.initFrom = try initFrom.map(loadTokenizer)
            options.encoderFrom = try encoderFrom.map(loadTokenizer)
            options.perceptual = try perceptualFrom.map { dir in
                do { return PerceptualDistance.clip(encoders: try ImageEncoders.load(directory: dir)) } catch {
                    throw ValidationError("--perceptual-from \(dir): \(error)")
                }
            }
            options.checkpointMinutes = checkpointMinutes
            let run: TokenizerTrainingRun
            do { run = try TokenizerTrainingRun(options) } catch let error as TrainingError { throw ValidationError("\(error)") }
            let t = run.file.training
            let interrupt = InterruptFlag()
            let progress = ProgressLine(label: "tokenizer", total: t.steps * t.batchSize, unit: "img",
                                        startCount: run.trainer.step * t.batchSize, enabled: !json)
            var recent: [(loss: Float, psnr: Float)] = []
            try run.train(shouldStop: { interrupt.isSet }) { m in
                recent.append((m.loss, m.batchPSNR))
                if recent.count > 20 { recent.removeFirst() }
                let loss = recent.map(\.loss).reduce(0, +) / Float(recent.count)
                let psnr = recent.map(\.psnr).reduce(0, +) / Float(recent.count)
                progress.update((m.step + 1) * t.batchSize, extra: String(
                    format: "step %d/%d  loss %.4f  psnr %.2f dB  lr %.2e", m.step + 1, t.steps, loss, psnr, m.learningRate))
            }
            progress.finish(run.trainer.step * t.batchSize)
            if interrupt.isSet {
                FileHandle.standardError.write(Data("interrupted at step \(run.trainer.step); checkpoint saved, continue with --resume\n".utf8))
                throw ExitCode(130)
            }
            try report(run, modelDirectory: try run.writeModel())
        }

        /// The held-out figures of the trained tokenizer, as text or JSON.
        private func report(_ run: TokenizerTrainingRun, modelDirectory: String) throws {
            var evaluation: TokenizerEvaluation? = nil
            if evalImages > 0 {
                let test = try TokenizerImageSet.load(dataDirectory: data, split: "test", side: run.file.model.imageSize, limit: evalImages)
                evaluation = try TokenizerEvaluation.evaluate(tokenizer: run.trainer.tokenizer, images: test).0
            }
            if json {
                try printJSON(TrainSummary(steps: run.trainer.step, model: modelDirectory, evaluation: evaluation))
            } else {
                print("trained \(run.trainer.step) steps; tokenizer written to \(modelDirectory)")
                if let e = evaluation {
                    print(String(format: "held-out (%d images): PSNR %.2f dB, codebook usage %.3f, perplexity %.1f",
                                 e.images, e.psnrDB, e.codebookUsage, e.perplexity))
                }
            }
        }

        private struct TrainSummary: Encodable {
            var steps: Int
            var model: String
            var evaluation: TokenizerEvaluation?
        }
    }
}
