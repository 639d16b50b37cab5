import ArgumentParser
import Foundation
import Support
import Tensor
import FaceModel
import Training

/// `facestudio train`: the unified model on a data set, resumable, with a progress line and a
/// JSONL metrics log.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the unified model (T2I with D3Diff + MMU with NTP) on a data set.",
        discussion: """
        Writes into --out: checkpoint.safetensors (weights, AdamW moments, step, RNG; every \
        checkpoint_every steps and on Ctrl-C), metrics.jsonl (one line per log_every steps), \
        tokenizer.json (trained from the data set's text unless present), image_codes.bin (the data \
        set encoded once by the image tokenizer), and at the end a model directory in --out/model.
        """)

    @Option(help: "Data set directory (captions.jsonl, llava_train.json, images/).")
    var data: String

    @Option(help: "JSON file: model settings at the top level, optional \"training\" object.")
    var config: String

    @Option(help: "Output directory for checkpoints, logs and the trained model.")
    var out: String

    @Option(help: "Directory holding the trained image tokenizer (default: the model, found as --model is).")
    var imageTokenizer: String?

    @Option(help: "Directory holding the trained image encoders, read when sequence_moe is on (default: --image-tokenizer).")
    var encoders: String?

    @Flag(help: "Continue from --out/checkpoint.safetensors.")
    var resume = false

    @Option(help: "Total optimiser steps (overrides training.steps).")
    var steps: Int?

    @Option(name: .customLong("init"), help: ArgumentHelp(
        "Warm start: the weights of a training checkpoint or a model directory of the same config (fresh optimiser, schedule and step count).",
        discussion: "The run uses that model's text tokenizer.", valueName: "checkpoint-or-model-dir"))
    var initFrom: String?

    @Flag(help: "Print a JSON summary at the end instead of text.")
    var json = false

    struct Report: Encodable { var steps: Int; var model: String; var tokens_per_s: Double }

    func run() throws {
        var trainConfig = try UnifiedRun.trainingSection(path: config)
        if let steps { trainConfig.steps = steps }
        let imageTokenizer = try ModelDirectory.locate(explicit: self.imageTokenizer)
        let run = UnifiedRun(data: data, modelConfig: try ModelConfig.load(path: config), trainConfig: trainConfig, out: out,
                             imageTokenizerDirectory: imageTokenizer, encoderDirectory: encoders ?? imageTokenizer,
                             resume: resume, quiet: json, initFrom: initFrom)
        let summary = try run.train()
        if json {
            try printJSON(Report(steps: summary.steps, model: summary.modelDirectory, tokens_per_s: summary.tokensPerSecond))
        } else {
            print("trained \(summary.steps) steps; model written to \(summary.modelDirectory)")
        }
    }
}
