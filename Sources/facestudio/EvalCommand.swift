import ArgumentParser
import Foundation
import Support
import Evaluation
import Inference

/// `facestudio eval`: generation and understanding metrics of a model on a data set's test split.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model on a data set's test split: generation, understanding, tokenizer and encoders.",
        discussion: """
        generation.attribute_accuracy: every claim of each test caption (attribute present/absent, \
        detail value) checked on the generated face by the face-attribute encoder. generation.fd: \
        Fréchet distance in that encoder's feature space to the second half of the real test faces, \
        from the faces generated from the first half's captions; beside it fd_real_baseline (from \
        the first half itself) and fd_reconstructed (from the first half after a tokenizer round \
        trip). understanding.vqa_accuracy: answers that say what the ground truth says (same \
        yes/no, same claims); caption_precision/recall: claims in the model's captions that hold / \
        attributes present that they state. With --out, writes eval.json, \
        expert_activation.png, samples.png (real | generated pairs) and answers.jsonl \
        (every caption and VQA reply beside its ground truth) there.
        """)

    @Option(help: "Data set directory (its test split is used).")
    var data: String

    @Option(help: "Model directory.")
    var model: String = "Models"

    @Option(help: "Use only the first N test images for generation and understanding.")
    var limit: Int?

    @Option(help: "MaskGIT steps per generated face.")
    var steps: Int = 12

    @Option(help: "Classifier-free guidance weight.")
    var cfg: Float?

    @Option(help: "T0, the annealed confidence noise of the generated faces.")
    var temperature: Float?

    @Option(help: "Temperature of the softmax the generated faces' codes are drawn from.")
    var sampleTemperature: Float?

    @Option(help: "Directory for eval.json, expert_activation.png, samples.png and answers.jsonl.")
    var out: String?

    @Flag(help: "Skip generation.")
    var noGeneration = false

    @Flag(name: .customLong("no-caption-generation"), help: "Generate from the prompts in people's words (prompts.jsonl) only, not from the long test captions.")
    var noCaptionGeneration = false

    @Flag(help: "Skip understanding (captions and VQA).")
    var noUnderstanding = false

    @Flag(help: "Train and measure the paper's ablation rows instead (D3Diff α and score-only; token/sequence MoE on/off), one short budget each; tables in --out/tables.md.")
    var ablation = false

    @Option(help: "Training steps per ablation row.")
    var ablationSteps: Int = 300

    @Option(help: "Base configuration of the ablation rows (model settings and training section).")
    var config: String = "configs/unified.json"

    @Flag(help: "Print JSON on stdout.")
    var json = false

    func validate() throws {
        if ablationSteps < 1 { throw ValidationError("--ablation-steps: must be at least 1") }
        if let limit, limit < 4 { throw ValidationError("--limit: \(limit) is below 4 (the Fréchet distance needs a few images)") }
        if steps < 1 || steps > 256 { throw ValidationError("--steps: \(steps) is outside 1…256") }
    }

    func run() throws {
        if ablation {
            // The rows train their own models; --model supplies the image tokenizer and encoders.
            let rows = try Ablation(data: data, baseConfig: config, out: out ?? "runs/ablation", steps: ablationSteps, limit: limit ?? 50,
                                    imageTokenizerDirectory: model, encoderDirectory: model, quiet: json).run()
            if json { try printJSON(rows) } else { print(Ablation.tables(rows, steps: ablationSteps, limit: limit ?? 50)) }
            return
        }
        let engine = try Engine(modelDirectory: model)
        var options = EvalOptions()
        options.limit = limit
        options.generate.steps = steps
        if let cfg { options.generate.cfg = cfg }
        if let temperature { options.generate.temperature = temperature }
        if let sampleTemperature { options.generate.sampleTemperature = sampleTemperature }
        options.generation = !noGeneration
        options.captionGeneration = !noCaptionGeneration
        options.understanding = !noUnderstanding
        if let out {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            options.plotPath = out + "/expert_activation.png"
            options.sheetPath = out + "/samples.png"
            options.answersPath = out + "/answers.jsonl"
        }
        let bars = EvalProgressBars(enabled: !json)
        let report = try Evaluator(engine: engine, dataDirectory: data).run(options) { bars.update($0, $1, $2) }
        bars.finish()
        if let out {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(Array(try encoder.encode(report)) + [UInt8(ascii: "\n")], to: out + "/eval.json")
        }
        if json { try printJSON(report) } else { print(EvalCommand.summary(report)) }
    }

    static func summary(_ r: EvalReport) -> String {
        var lines: [String] = []
        func f(_ x: Double) -> String { String(format: "%.3f", x) }
        if let g = r.generation {
            lines.append("generation    attribute_accuracy \(f(g.attributeAccuracy)) (\(g.claimsChecked) claims, \(g.images) faces; real faces \(f(g.attributeAccuracyReal ?? .nan)), through the tokenizer \(f(g.attributeAccuracyReconstructed ?? .nan)))  fd \(f(g.fd)) (real baseline \(f(g.fdRealBaseline)), through the tokenizer \(f(g.fdReconstructed ?? .nan)))  clip_score \(f(g.clipScore)) (real \(f(g.clipScoreReal)))  \(String(format: "%.1f", g.secondsPerImage)) s/face")
        }
        if let u = r.understanding {
            lines.append("understanding vqa_accuracy \(f(u.vqaAccuracy)) (\(u.questions) questions)  caption_precision \(f(u.captionPrecision))  caption_recall \(f(u.captionRecall))")
            if let topics = u.vqaByTopic, !topics.isEmpty {
                let byCount = topics.sorted { ($0.value.questions, $1.key) > ($1.value.questions, $0.key) }
                lines.append("  vqa by topic: " + byCount.map { "\($0.key) \(String(format: "%.2f", $0.value.accuracy)) (\($0.value.questions))" }.joined(separator: ", "))
            }
        }
        for (name, p) in [("seen_phrasings", r.seenPhrasings), ("heldout_phrasings", r.heldoutPhrasings)] {
            guard let p else { continue }
            let kinds = p.vqaByKind.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value.accuracy)) (\($0.value.questions))" }
            lines.append("\(name.padding(toLength: 18, withPad: " ", startingAt: 0))vqa_accuracy \(f(p.vqaAccuracy)) (\(p.vqaQuestions) questions: \(kinds.joined(separator: ", ")))  caption_recall \(f(p.captionRecall)) (\(p.captions) captions)  generation_attribute_accuracy \(f(p.generationAttributeAccuracy)) (\(p.generationClaims) claims, \(p.prompts) prompts)")
        }
        if let s = r.shortPrompts {
            lines.append("short_prompts     generation attribute_accuracy \(f(s.attributeAccuracy)) (\(s.claimsChecked) claims, \(s.prompts) prompts of at most \(s.maxItems) items)")
        }
        if let n = r.promptsTruncated { lines.append("prompts_truncated \(n) (longer than the model's prompt length; it reads their start)") }
        if let t = r.tokenizer { lines.append("tokenizer     psnr_db \(String(format: "%.2f", t.psnrDB))  codebook_usage \(f(t.codebookUsage))") }
        if let e = r.encoders {
            lines.append("encoders      face_attribute_accuracy \(f(e.faceAttributeAccuracy)) (balanced \(f(e.faceAttributeBalancedAccuracy ?? .nan)))  face_detail_accuracy \(f(e.faceDetailAccuracy))  clip_retrieval_top1 \(f(e.clipRetrievalTop1))")
        }
        if let plot = r.expertPlot { lines.append("expert activation plot: \(plot)") }
        return lines.joined(separator: "\n")
    }
}

/// One progress line per eval phase.
final class EvalProgressBars {
    let enabled: Bool
    private var phase = ""
    private var line: ProgressLine?
    init(enabled: Bool) { self.enabled = enabled }

    func update(_ phase: String, _ done: Int, _ total: Int) {
        if phase != self.phase {
            line?.finish()
            self.phase = phase
            line = ProgressLine(label: phase, total: total, unit: "it", enabled: enabled)
        }
        line?.update(done)
    }

    func finish() { line?.finish() }
}
