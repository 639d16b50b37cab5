import Foundation
import Support
import FaceModel
import Training

/// MODEL_CARD.md for a model directory: its eval report's figures, the model, the data, every
/// training stage (from the run directories `make model` writes) and the ablations.
public struct ModelCard {
    public let directory: ModelDirectory
    public let report: EvalReport
    /// One config per training stage, in order; stage k's run directory is `runs/unified`, then
    /// `runs/unified-2`, …
    public let configPath: [String]
    public let runs: String

    public init(directory: ModelDirectory, report: EvalReport, configPath: [String], runs: String) {
        self.directory = directory; self.report = report; self.configPath = configPath; self.runs = runs
    }

    func stageDirectory(_ k: Int) -> String { runs + (k == 0 ? "/unified" : "/unified-\(k + 1)") }

    /// A run's JSON report (nil when absent or not a JSON object).
    func json(_ path: String) -> RunRecord? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(RunRecord.self, from: $0) }
    }

    /// The last line of a JSONL log.
    func lastLine(_ path: String) -> RunRecord? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n").last else { return nil }
        return try? JSONDecoder().decode(RunRecord.self, from: Data(line.utf8))
    }

    func timings() -> [(String, Int)] {
        guard let text = try? String(contentsOfFile: runs + "/timings.tsv", encoding: .utf8) else { return [] }
        var total: [String: Int] = [:], order: [String] = []
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            guard parts.count == 2, let s = Int(parts[1]) else { continue }
            let name = String(parts[0])
            if total[name] == nil { order.append(name) }
            total[name, default: 0] += s
        }
        return order.map { ($0, total[$0]!) }
    }

    static func duration(_ s: Int) -> String { s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm%02ds", s / 60, s % 60) }

    public func markdown() -> String {
        figures() + breakdowns() + modelSection() + dataSection() + trainingSection() + otherRuns() + ablations()
    }

    /// The introduction and the table of headline figures.
    func figures() -> String {
                var md = """
        # FaceStudio default model

        A unified fine-grained face model in the style of UniF²ace, trained from scratch on this project's \
        procedural face data set on a 2-core CPU. It generates 64×64 faces from detailed descriptions by \
        masked discrete diffusion (MaskGIT sampling over 16×16 LFQ image tokens, trained with D3Diff) and \
        answers questions about a face (next-token prediction over the same transformer). Every block \
        has a grouped token-level MoE (T2I and MMU experts) and a sequence-level MoE (copy / zero / noise \
        experts for generation, copy / CLIP / face experts for understanding).

        Reproduce with `make model` (scripts/make-model.sh; resumable).

        ## Figures (test split)

        | figure | value | target |
        | --- | --- | --- |

        """
        func row(_ name: String, _ value: Double?, _ target: String, digits: Int = 3) {
            guard let value else { return }
            md += "| \(name) | \(String(format: "%.\(digits)f", value)) | \(target) |\n"
        }
        if let g = report.generation {
            row("generation.attribute_accuracy (\(g.claimsChecked) claims, \(g.images) faces)", g.attributeAccuracy, "≥ 0.90")
            row("the same claims judged on the real test faces", g.attributeAccuracyReal, "the judge's ceiling")
            row("… on the real faces after an image-tokenizer round trip", g.attributeAccuracyReconstructed, "ceiling with this tokenizer")
            row("generation.fd (\(g.fdImages) faces)", g.fd, "≤ 3 × baseline = \(String(format: "%.3f", 3 * g.fdRealBaseline))")
            row("generation.fd_real_baseline", g.fdRealBaseline, "")
            row("… real faces after an image-tokenizer round trip", g.fdReconstructed, "floor with this tokenizer")
            row("generation.clip_score", g.clipScore, "real images: \(String(format: "%.2f", g.clipScoreReal))", digits: 2)
            row("seconds per generated face (12 steps, CFG)", g.secondsPerImage, "", digits: 2)
        }
        if let u = report.understanding {
            row("understanding.vqa_accuracy (\(u.questions) questions)", u.vqaAccuracy, "≥ 0.90")
            row("understanding.caption_precision", u.captionPrecision, "")
            row("understanding.caption_recall", u.captionRecall, "≥ 0.85")
        }
        if let t = report.tokenizer {
            row("tokenizer.psnr_db", t.psnrDB, "≥ 30", digits: 2)
            row("tokenizer.codebook_usage", t.codebookUsage, "≥ 0.6")
        }
        if let e = report.encoders {
            row("encoders.face_attribute_accuracy", e.faceAttributeAccuracy, "≥ 0.97")
            if let balanced = e.faceAttributeBalancedAccuracy {
                row("encoders.face_attribute_balanced_accuracy (mean of recall with and without each attribute)", balanced, "0.5: blind")
            }
            row("encoders.face_detail_accuracy", e.faceDetailAccuracy, "")
            row("encoders.clip_retrieval_top1 (image→caption among 100)", e.clipRetrievalTop1, "")
        }
        return md
    }

    /// How the figures were measured, VQA by topic and generation by claim.
    func breakdowns() -> String {
        var md = ""
        md += "\nMeasured by `facestudio eval --data data/faces --model Models --limit \(report.generation?.images ?? report.understanding?.captions ?? 0) --out runs/eval`.\n"
        md += "Generated faces are judged by the face-attribute encoder (its accuracy on real faces is above), so the generation figures are bounded by it.\n\n"
        md += "![real (left) and generated (right) faces for test captions](samples.png)\n\n"
        if let topics = report.understanding?.vqaByTopic, !topics.isEmpty {
            md += "### VQA accuracy by topic\n\n| topic (what the true answer is about) | questions | accuracy |\n| --- | --- | --- |\n"
            for (topic, t) in topics.sorted(by: { ($0.value.questions, $1.key) > ($1.value.questions, $0.key) }) {
                md += "| \(topic) | \(t.questions) | \(String(format: "%.2f", t.accuracy)) |\n"
            }
            md += "\n"
        }
        if let byClaim = report.generation?.byClaim, !byClaim.isEmpty {
            md += "### Generated faces by claim\n\nThe caption claims about each attribute or detail, confirmed by the judge on the real faces, on them after a tokenizer round trip, and on the generated faces (weakest generated first): the first gap is the tokenizer's, the second the unified model's.\n\n"
            md += "| claim key | claims | real | round trip | generated |\n| --- | --- | --- | --- | --- |\n"
            for (key, k) in byClaim.sorted(by: { ($0.value.generated, $0.key) < ($1.value.generated, $1.key) }) {
                md += "| \(key) | \(k.checked) | " + [k.real, k.reconstructed, k.generated].map { String(format: "%.2f", $0) }.joined(separator: " | ") + " |\n"
            }
            md += "\n"
        }
        md += "## Expert activation\n\n![expert activation per layer](expert_activation.png)\n\n"

        return md
    }

    /// The architecture and its size.
    func modelSection() -> String {
        let c = directory.config
        var md = ""
        md += "## Model\n\n"
        let params = directory.model.parameterCount
        md += "- d_model \(c.dModel), \(c.layers) layers, \(c.heads) heads; token-level MoE per group: \(c.sharedExperts) shared + \(c.routedExperts) routed experts (top-\(c.expertsPerToken), hidden \(c.expertHidden)) — \(c.tokenMoE ? "on" : "off"); sequence-level MoE — \(c.sequenceMoE ? "on" : "off") (resampler depth \(c.resamplerDepth), width \(c.resamplerDim))\(c.mmuFaceToken ? "; the face embedding also enters the understanding sequence directly, projected onto its `<|eoi|>` token (`mmu_face_token`)" : "")\(c.mmuFaceContext ? "; a second projection of it is added to every text row of the understanding sequence (`mmu_face_context`)" : "")\(c.mmuFaceReadout ? "; the face encoder's \(c.faceReadoutDim) attribute and detail probabilities are projected onto the same rows (`mmu_face_readout`)" : "")\(c.chatIsolatedTurns ? "; the chat answers each question on its own after the image, as in training (`chat_isolated_turns`)" : "").\n"
        md += "- \(String(format: "%.2f", Double(params) / 1e6)) M parameters in the unified model; text vocabulary \(c.textVocabSize) BPE tokens; prompts up to \(c.maxPromptTokens) tokens; image: \(c.imageTokens) tokens from \(c.imageCodebookSize) codes.\n"
        md += "- Config: " + configPath.map { "`\($0)`" }.joined(separator: ", then ") + ".\n\n"

        return md
    }

    /// The data set, from the runs' dataset.json.
    func dataSection() -> String {
        var md = ""
        md += "## Data\n\n"
        if let d = json(runs + "/dataset.json") {
            let size = d.size?.description ?? "64"
            md += "- \(d.count?.description ?? "?") procedural faces (\(d.train?.description ?? "?") train / \(d.test?.description ?? "?") test), seed \(d.seed?.description ?? "0"), \(size)×\(size); captions average \(fmt(d.meanCaptionWords)) words and mention \(fmt(d.meanCaptionMentions)) schema items; \(fmt(d.meanQAPairs)) VQA pairs per image.\n\n"
        } else {
            md += "- The procedural data set of `facestudio dataset make` (see README).\n\n"
        }

        return md
    }

    /// One line per unified-model training stage.
    func trainingSection() -> String {
        var md = "## Training\n\n"
        // Per stage: its model config, to name the stage that adds each direct face path.
        let stageConfigs = configPath.map { path in
            FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(ModelConfig.self, from: $0) } ?? ModelConfig()
        }
        for (k, config) in configPath.enumerated() { md += stageLine(k, config: config, stageConfigs: stageConfigs) }
        return md
    }

    /// Stage `k`'s run: steps, what it trained and how, its last losses ("" when it has no log).
    func stageLine(_ k: Int, config: String, stageConfigs: [ModelConfig]) -> String {
        func adds(_ k: Int, _ on: (ModelConfig) -> Bool) -> Bool { on(stageConfigs[k]) && (k == 0 || !on(stageConfigs[k - 1])) }
        guard let m = lastLine(stageDirectory(k) + "/metrics.jsonl") else { return "" }
        var md = ""
        let heldOut = lastLine(stageDirectory(k) + "/heldout.jsonl")
        // The held-out losses are measured after the last step; the metrics log every log_every.
        md += "- Unified model" + (configPath.count > 1 ? ", stage \(k + 1) (`\(config)`\(k > 0 ? ", warm start from stage \(k)" : ""))" : "")
        let training = FileManager.default.contents(atPath: config)
            .flatMap { try? JSONDecoder().decode(TrainingFile.self, from: $0).training } ?? TrainConfig()
        let lossName: String
        switch training.trainedWeights {
        case .all: lossName = "T2I D3Diff + MMU next-token"
        case .understanding: lossName = "MMU next-token only"
        case .generation: lossName = "T2I D3Diff only"
        }
        md += ": \((heldOut?.step ?? m.step)?.description ?? "?") steps"
        if training.trainedWeights != .all {
            md += " training only the \(training.trainedWeights.rawValue) weights (the other task's outputs unchanged)"
        }
        if training.mmuIsolatedTurns { md += ", each conversation's turns isolated (`mmu_isolated_turns`)" }
        if !training.mmuTokenWeights.isEmpty {
            let words = training.mmuTokenWeights.sorted { $0.key < $1.key }
                .map { "\"\($0.key)\" ×\(String(format: "%g", Double($0.value)))" }.joined(separator: ", ")
            md += ", answer tokens weighted \(words) (`mmu_token_weights`)"
        }
        if training.faceProjectionRateScale != 1 {
            md += ", the face projections at \(String(format: "%g", Double(training.faceProjectionRateScale)))× the learning rate (`face_projection_lr_scale`)"
        }
        if adds(k, \.mmuFaceToken) { md += ", adding the direct face token (`mmu_face_token`, starting at zero)" }
        if adds(k, \.mmuFaceContext) { md += ", adding the face context on every text row (`mmu_face_context`, starting at zero)" }
        if adds(k, \.mmuFaceReadout) { md += ", adding the face encoder's readout on every text row (`mmu_face_readout`, starting at zero)" }
        md += "; last logged loss \(fmt(m.loss)) (\(lossName))"
        if let h = heldOut {
            let losses = [("masked-token loss", h.heldOutT2IMask), ("next-token loss", h.heldOutNTP)]
                .compactMap { name, value in value.map { "\(name) \(fmt($0))" } }
            if !losses.isEmpty { md += "; held-out " + losses.joined(separator: ", ") }
        }
        md += ".\n"
        return md
    }

    /// The image tokenizer's and encoders' runs and the wall times.
    func otherRuns() -> String {
        var md = ""
        if let t = json(runs + "/tokenizer.json") { md += "- Image tokenizer: \(t.steps?.description ?? "?") steps.\n" }
        if let t = json(runs + "/tokenizer-decoder.json") {
            md += "- Image tokenizer decoder: retrained alone for \(t.steps?.description ?? "?") steps on the frozen encoder (codes unchanged), wider and without GroupNorm (`configs/image_tokenizer_decoder.json`).\n"
        }
        if let face = json(runs + "/encoders-ft.json")?.face {
            md += "- Face-attribute encoder: fine-tuned from the first one with each attribute's positive term weighted by its rarity (`encoders train --positive-weight-power`, the power in `scripts/make-model.sh`); test mean balanced accuracy \(fmt(face.meanAttributeBalancedAccuracy, digits: 3)), plain accuracy \(fmt(face.meanAttributeAccuracy, digits: 3)).\n"
        }
        // The later fine-tunes (FACE_LATER_FTS), each from the one before; the last is in Models/.
        var later: [(Int, RunRecord.FaceFigures)] = []
        while let face = json(runs + "/encoders-ft\(later.count + 2).json")?.face { later.append((later.count + 2, face)) }
        for (k, face) in later {
            md += "- Face-attribute encoder, fine-tune \(k): a longer run from the one before, which still underfitted (its balanced accuracy on the train split equalled the test one); test mean balanced accuracy \(fmt(face.meanAttributeBalancedAccuracy, digits: 3)), plain accuracy \(fmt(face.meanAttributeAccuracy, digits: 3)). The unified model reads it from the stage `FACE_LATER_FTS` of `scripts/make-model.sh` names on"
            md += k == later.last?.0 ? "; it is the one in `Models/`.\n" : ".\n"
        }
        if later.isEmpty && json(runs + "/encoders-ft.json") != nil {
            md += "- The unified model reads the fine-tuned encoder's embedding.\n"
        }
        let times = timings()
        if !times.isEmpty {
            md += "- Wall time on this 2-core machine: " + times.map { "\($0.0) \(ModelCard.duration($0.1))" }.joined(separator: ", ")
            md += " (total \(ModelCard.duration(times.map(\.1).reduce(0, +)))); the tokenizer and encoders train side by side.\n"
        }
        md += "\n"
        return md
    }

    /// The ablation tables, when `eval --ablation` wrote them.
    func ablations() -> String {
        var md = ""
        if let ablation = try? String(contentsOfFile: runs + "/ablation/tables.md", encoding: .utf8) {
            md += "## Ablations\n\n" + ablation + "\n"
        }
        return md
    }

    /// A logged number: integers as they are, fractions to `digits` places, "?" when absent.
    func fmt(_ v: LoggedNumber?, digits: Int = 2) -> String {
        guard let v else { return "?" }
        return v.integer.map { "\($0)" } ?? String(format: "%.\(digits)f", v.value)
    }
}

/// The fields of the runs' JSON reports and logs that the card quotes (`dataset make --json`,
/// `tokenizer train --json`, `encoders train --json`, metrics and held-out lines). A field that
/// is absent or not a number reads as nil.
struct RunRecord: Decodable {
    var count, train, test, seed, size, steps, step: LoggedNumber?
    var meanCaptionWords, meanCaptionMentions, meanQAPairs: LoggedNumber?
    var loss, heldOutT2IMask, heldOutNTP: LoggedNumber?
    var face: FaceFigures?

    struct FaceFigures: Decodable {
        var meanAttributeBalancedAccuracy, meanAttributeAccuracy: LoggedNumber?
        enum CodingKeys: String, CodingKey {
            case meanAttributeBalancedAccuracy = "mean_attribute_balanced_accuracy", meanAttributeAccuracy = "mean_attribute_accuracy"
        }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            meanAttributeBalancedAccuracy = c.number(.meanAttributeBalancedAccuracy)
            meanAttributeAccuracy = c.number(.meanAttributeAccuracy)
        }
    }

    enum CodingKeys: String, CodingKey {
        case count, train, test, seed, size, steps, step, loss, face
        case meanCaptionWords = "mean_caption_words", meanCaptionMentions = "mean_caption_mentions", meanQAPairs = "mean_qa_pairs"
        case heldOutT2IMask = "held_out_t2i_mask", heldOutNTP = "held_out_ntp"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        count = c.number(.count); train = c.number(.train); test = c.number(.test); seed = c.number(.seed)
        size = c.number(.size); steps = c.number(.steps); step = c.number(.step)
        meanCaptionWords = c.number(.meanCaptionWords); meanCaptionMentions = c.number(.meanCaptionMentions); meanQAPairs = c.number(.meanQAPairs)
        loss = c.number(.loss); heldOutT2IMask = c.number(.heldOutT2IMask); heldOutNTP = c.number(.heldOutNTP)
        face = try? c.decodeIfPresent(FaceFigures.self, forKey: .face)
    }
}

/// A number as a log wrote it, printed as an integer when it was written as one.
struct LoggedNumber: Decodable, CustomStringConvertible {
    let value: Double
    /// The value when the log wrote an integer.
    let integer: Int?

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let i = try? c.decode(Int.self) { value = Double(i); integer = i } else { value = try c.decode(Double.self); integer = nil }
    }

    var description: String { integer.map { "\($0)" } ?? "\(value)" }
}

private extension KeyedDecodingContainer {
    /// The number at `key`; nil when absent or of another type.
    func number(_ key: Key) -> LoggedNumber? { (try? decodeIfPresent(LoggedNumber.self, forKey: key)) ?? nil }
}
