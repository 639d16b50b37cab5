import ArgumentParser
import Foundation
import Support
import FaceModel
import Evaluation
import Training

/// `facestudio model card`: MODEL_CARD.md for a model directory, from its eval report and the
/// training runs' logs (what `make model` writes).
struct ModelCardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "card", abstract: "Write MODEL_CARD.md from a model directory, its eval.json and the training runs' logs.")

    @Option(help: "Model directory.")
    var model: String = "Models"

    @Option(help: "eval.json written by `facestudio eval --out`.")
    var eval: String

    @Option(help: "The unified model's config file (with its training section); repeat for each training stage, in order.")
    var config: [String] = ["configs/unified.json"]

    @Option(help: "Runs directory of `make model` (timings.tsv, dataset.json, tokenizer.json, encoders.json, unified/metrics.jsonl, ablation/).")
    var runs: String = "runs"

    @Option(help: "Output Markdown file.")
    var out: String = "Models/MODEL_CARD.md"

    func run() throws {
        let directory = try ModelDirectory(path: model)
        guard let evalData = FileManager.default.contents(atPath: eval) else { throw ValidationError("\(eval): cannot read") }
        let report: EvalReport
        do { report = try JSONDecoder().decode(EvalReport.self, from: evalData) } catch let e as DecodingError {
            throw ValidationError("\(eval): \(describe(e))")
        }
        let text = ModelCard(directory: directory, report: report, configPath: config, runs: runs).markdown()
        try AtomicFile.write(Array(text.utf8), to: out)
        print("wrote \(out)")
    }
}
