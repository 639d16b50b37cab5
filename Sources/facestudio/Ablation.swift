import ArgumentParser
import Foundation
import Support
import FaceModel
import Training
import Evaluation
import Inference

/// The paper's ablations with one short training budget per row: D3Diff's α and score-only
/// (Tab. 3) and the two MoE levels on/off (Tab. 4). Each row trains into `out/<row>/` (resumable;
/// a finished row is only re-evaluated when its eval is missing) and is measured on the same test
/// faces; the tables go to `out/tables.md` and `out/ablation.json`.
struct Ablation {
    struct Row: Codable {
        var name: String
        var table: String
        var label: String
        var report: EvalReport?
        /// The run's last held-out losses: at a short budget they separate the rows more
        /// reliably than figures measured on generated images.
        var heldOut: HeldOutMetrics?
    }

    var data: String
    var baseConfig: String
    var out: String
    var steps: Int
    var limit: Int
    var imageTokenizerDirectory: String
    var encoderDirectory: String
    var quiet: Bool

    /// (row id, table, label, change to the base configuration).
    static let rows: [(String, String, String, (inout ModelConfig, inout TrainConfig) -> Void)] = [
        ("alpha_0", "d3diff", "α = 0 (masked-token loss only)", { _, t in t.alpha = 0; t.d3diffMode = .d3diff }),
        ("alpha_0.001", "d3diff", "α = 0.001", { _, t in t.alpha = 0.001; t.d3diffMode = .d3diff }),
        ("alpha_0.01", "d3diff", "α = 0.01 (default)", { _, t in t.alpha = 0.01; t.d3diffMode = .d3diff }),
        ("alpha_0.1", "d3diff", "α = 0.1", { _, t in t.alpha = 0.1; t.d3diffMode = .d3diff }),
        ("score_only", "d3diff", "score entropy only", { _, t in t.d3diffMode = .scoreOnly }),
        ("moe_none", "moe", "token MoE ✗, sequence MoE ✗", { m, t in m.tokenMoE = false; m.sequenceMoE = false; t.alpha = 0.01; t.d3diffMode = .d3diff }),
        ("moe_token", "moe", "token MoE ✓, sequence MoE ✗", { m, t in m.tokenMoE = true; m.sequenceMoE = false; t.alpha = 0.01; t.d3diffMode = .d3diff }),
        ("moe_sequence", "moe", "token MoE ✗, sequence MoE ✓", { m, t in m.tokenMoE = false; m.sequenceMoE = true; t.alpha = 0.01; t.d3diffMode = .d3diff }),
    ]

    func run() throws -> [Row] {
        let fm = FileManager.default
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        var results: [Row] = []
        for (id, table, label, change) in Ablation.rows {
            var modelConfig = try ModelConfig.load(path: baseConfig)
            var trainConfig = try UnifiedRun.trainingSection(path: baseConfig)
            trainConfig.steps = steps
            trainConfig.warmupSteps = min(trainConfig.warmupSteps, max(steps / 10, 1))
            trainConfig.checkpointEvery = min(trainConfig.checkpointEvery, steps)
            change(&modelConfig, &trainConfig)
            let dir = out + "/" + id
            let evalPath = dir + "/eval.json"
            if !quiet { FileHandle.standardError.write(Data("ablation row \(id): \(label)\n".utf8)) }
            if !fm.fileExists(atPath: dir + "/model/model.safetensors") {
                _ = try UnifiedRun(data: data, modelConfig: modelConfig, trainConfig: trainConfig, out: dir,
                                   imageTokenizerDirectory: imageTokenizerDirectory, encoderDirectory: encoderDirectory,
                                   resume: fm.fileExists(atPath: dir + "/checkpoint.safetensors"), quiet: quiet,
                                   cacheDirectory: out + "/cache").train()
            }
            let report: EvalReport
            if let saved = fm.contents(atPath: evalPath), let decoded = try? JSONDecoder().decode(EvalReport.self, from: saved) {
                report = decoded
            } else {
                var options = EvalOptions()
                options.limit = limit
                options.components = false
                let bars = EvalProgressBars(enabled: !quiet)
                report = try Evaluator(engine: try Engine(modelDirectory: dir + "/model"), dataDirectory: data).run(options) { bars.update($0, $1, $2) }
                bars.finish()
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                try AtomicFile.write(Array(try encoder.encode(report)), to: evalPath)
            }
            let lastHeldOut = (try? String(contentsOfFile: dir + "/heldout.jsonl", encoding: .utf8))?
                .split(separator: "\n").last.flatMap { try? JSONDecoder().decode(HeldOutMetrics.self, from: Data($0.utf8)) }
            results.append(Row(name: id, table: table, label: label, report: report, heldOut: lastHeldOut))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(results)), to: out + "/ablation.json")
        try AtomicFile.write(Array(Ablation.tables(results, steps: steps, limit: limit).utf8), to: out + "/tables.md")
        return results
    }

    /// Markdown tables shaped like the paper's Tab. 3 (D3Diff) and Tab. 4 (MoE levels); the
    /// default row (α = 0.01, both MoE levels) appears in both.
    static func tables(_ rows: [Row], steps: Int, limit: Int) -> String {
        func f(_ x: Double?) -> String { x.map { String(format: "%.3f", $0) } ?? "–" }
        var md = "Each row: \(steps) training steps from scratch, measured on the first \(limit) test faces "
        md += "(`facestudio eval --ablation --ablation-steps \(steps) --limit \(limit)`). Short budgets: compare rows, not absolute values.\n\n"
        func f(_ x: Float?) -> String { f(x.map(Double.init)) }
        md += "### D3Diff (Tab. 3)\n\n| loss | held-out masked-token loss ↓ | attribute accuracy ↑ | FD ↓ | CLIP score ↑ |\n| --- | --- | --- | --- | --- |\n"
        for r in rows where r.table == "d3diff" {
            let g = r.report?.generation
            md += "| \(r.label) | \(f(r.heldOut?.heldOutT2IMask)) | \(f(g?.attributeAccuracy)) | \(f(g?.fd)) | \(f(g?.clipScore)) |\n"
        }
        md += "\n### Mixture-of-experts levels (Tab. 4)\n\n| MoE | held-out masked-token loss ↓ | held-out next-token loss ↓ | attribute accuracy ↑ | FD ↓ | VQA accuracy ↑ | caption recall ↑ |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        var moeRows = rows.filter { $0.table == "moe" }
        if var both = rows.first(where: { $0.name == "alpha_0.01" }) { both.label = "token MoE ✓, sequence MoE ✓ (default)"; moeRows.append(both) }
        for r in moeRows {
            let g = r.report?.generation, u = r.report?.understanding
            md += "| \(r.label) | \(f(r.heldOut?.heldOutT2IMask)) | \(f(r.heldOut?.heldOutNTP)) | \(f(g?.attributeAccuracy)) | \(f(g?.fd)) | \(f(u?.vqaAccuracy)) | \(f(u?.captionRecall)) |\n"
        }
        return md
    }
}
