import Foundation
import Testing
import Tensor
import Imaging
import FaceData
import FaceModel
import Inference
@testable import Evaluation

/// The whole eval on a tiny random model and a tiny data set: every figure is produced, lies in
/// its range, and the plot and sample sheet are written.
@Suite struct EvaluatorTests {
    @Test func evaluatesATinyModelEndToEnd() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fs-eval-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let data = root + "/data", modelPath = root + "/model"
        _ = try DatasetMaker.make(.init(count: 40, directory: data, seed: 4, size: 16, testFraction: 0.3))
        let schema = try FaceDataset.loadSchema(directory: data)
        let captions = try FaceDataset.loadCaptions(directory: data)

        let text = try TextTokenizer.train(texts: captions.map(\.caption) + ["USER:", " ASSISTANT:", ChatFormat.describeQuestion], vocabSize: 400)
        var imageConfig = ImageTokenizerConfig()
        imageConfig.imageSize = 16; imageConfig.bits = 3; imageConfig.channels = [8, 8, 8]; imageConfig.resBlocks = [0, 0, 0]; imageConfig.groups = 4
        try FileManager.default.createDirectory(atPath: modelPath, withIntermediateDirectories: true)
        try ImageTokenizer(config: imageConfig, seed: 1).save(directory: modelPath)
        var e = EncoderConfig()
        e.imageSize = 16
        e.clip.channels = [4, 6]; e.clip.tokenDim = 6; e.clip.embedDim = 4
        e.clip.textVocabSize = text.vocabSize; e.clip.textDim = 8; e.clip.textHeads = 2; e.clip.textLayers = 1; e.clip.maxTextTokens = 96
        e.face.channels = [4, 6]; e.face.embedDim = 5
        e.face.attributes = schema.attributes.map(\.name)
        e.face.details = schema.details.map { DetailHead(field: $0.field, values: $0.values) }
        let encoders = ImageEncoders(config: e, textTokenizer: text, seed: 2)
        try encoders.save(directory: modelPath)

        var c = ModelConfig()
        c.textVocabSize = text.bpeVocabSize; c.imageCodebookSize = imageConfig.codebookSize; c.imageTokens = imageConfig.tokenCount
        c.dModel = 32; c.layers = 2; c.heads = 2; c.rotaryDims = 8; c.maxPromptTokens = 16; c.maxSequenceLength = 120
        c.routedExperts = 4; c.expertHidden = 16
        c.resamplerDim = 8; c.resamplerHeads = 2; c.resamplerDepth = 1; c.noiseEmbeddingDim = 8
        c.clipTokens = e.clipTokens; c.clipDim = e.clipDim; c.faceTokens = e.faceTokens; c.faceDim = e.faceDim
        try ModelDirectory.export(model: UnifiedModel(config: c, seed: 3), textTokenizer: text, imageTokenizerDirectory: modelPath, to: modelPath)

        var options = EvalOptions()
        options.limit = 4
        options.generate.steps = 3
        options.chat.maxTokens = 6
        options.plotPath = root + "/plot.png"
        options.sheetPath = root + "/samples.png"
        options.answersPath = root + "/answers.jsonl"
        var phases = Set<String>()
        let report = try Evaluator(engine: try Engine(modelDirectory: modelPath), dataDirectory: data).run(options) { phase, _, _ in phases.insert(phase) }

        let g = try #require(report.generation), u = try #require(report.understanding)
        #expect(g.images == 4 && g.claimsChecked > 0)
        #expect((0...1).contains(g.attributeAccuracy))
        #expect([g.attributeAccuracyReal, g.attributeAccuracyReconstructed].allSatisfy { $0.map { (0...1).contains($0) } == true })
        // The per-key breakdown regroups the same claims: counts add up, weighted shares agree.
        let byClaim = try #require(g.byClaim)
        #expect(byClaim.values.map(\.checked).reduce(0, +) == g.claimsChecked)
        func weighted(_ share: (EvalReport.ClaimFigures) -> Double) -> Double {
            byClaim.values.map { share($0) * Double($0.checked) }.reduce(0, +) / Double(g.claimsChecked)
        }
        #expect(abs(weighted(\.generated) - g.attributeAccuracy) < 1e-9)
        #expect(abs(weighted(\.real) - g.attributeAccuracyReal!) < 1e-9)
        #expect(abs(weighted(\.reconstructed) - g.attributeAccuracyReconstructed!) < 1e-9)
        #expect(g.fd >= 0 && g.fdRealBaseline >= 0 && g.fd.isFinite)
        let roundTripFD = try #require(g.fdReconstructed)
        #expect(roundTripFD >= 0 && roundTripFD.isFinite)
        #expect((-100...100).contains(g.clipScore))
        #expect(u.captions == 4 && u.questions >= 4 * 7)
        #expect((0...1).contains(u.vqaAccuracy) && (0...1).contains(u.captionPrecision) && (0...1).contains(u.captionRecall))
        let t = try #require(report.tokenizer), enc = try #require(report.encoders)
        #expect(t.psnrDB > 0 && (0...1).contains(enc.faceAttributeAccuracy))
        // Both groups' token-level routing and both sequence-level groups were counted.
        #expect(Set(report.activation.map { "\($0.group)/\($0.level)" }) == ["t2i/token", "mmu/token", "t2i/sequence", "mmu/sequence"])
        for panel in report.activation {
            #expect(panel.share.count == 2)
            for row in panel.share { #expect(abs(row.reduce(0, +) - 1) < 1e-9) }
        }
        #expect(try PNGCodec.read(path: root + "/plot.png").width > 0)
        #expect(try PNGCodec.read(path: root + "/samples.png").width > 0)
        #expect(phases.isSuperset(of: ["generate", "prompts", "understand"]))
        // Seen and held-out phrasings split the same questions, captions and prompts.
        let seen = try #require(report.seenPhrasings), held = try #require(report.heldoutPhrasings)
        #expect(seen.vqaQuestions + held.vqaQuestions == u.questions)
        #expect(abs(seen.vqaAccuracy * Double(seen.vqaQuestions) + held.vqaAccuracy * Double(held.vqaQuestions) - u.vqaAccuracy * Double(u.questions)) < 1e-9)
        #expect(seen.captions + held.captions == u.captions && seen.prompts + held.prompts == 4)
        #expect(seen.vqaByKind.values.map(\.questions).reduce(0, +) == seen.vqaQuestions)
        let short = try #require(report.shortPrompts)
        #expect(short.maxItems == 6 && short.prompts <= 4 && (0...1).contains(short.attributeAccuracy))
        #expect(report.promptsTruncated != nil)
        // One line per caption and per question; VQA lines carry their verdict, and the
        // verdicts add up to the reported accuracy.
        let lines = try String(contentsOfFile: root + "/answers.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == u.captions + u.questions)
        let answers = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let verdicts = answers.compactMap { $0["correct"] as? Bool }
        #expect(verdicts.count == u.questions)
        #expect(abs(Double(verdicts.filter { $0 }.count) / Double(u.questions) - u.vqaAccuracy) < 1e-9)
        #expect(answers.allSatisfy { $0["question"] is String && $0["reply"] is String && $0["truth"] is String && $0["id"] is String })
        // The per-topic table regroups exactly those verdicts (topics: the keys the questions ask about).
        var byTopic: [String: (questions: Int, correct: Int)] = [:]
        for a in answers {
            guard let right = a["correct"] as? Bool else { continue }
            let topic = try #require(a["key"] as? String)
            byTopic[topic, default: (0, 0)].questions += 1
            if right { byTopic[topic, default: (0, 0)].correct += 1 }
        }
        let topics = try #require(u.vqaByTopic)
        #expect(Set(topics.keys) == Set(byTopic.keys))
        for (topic, t) in topics {
            #expect(t.questions == byTopic[topic]!.questions && abs(t.accuracy - Double(byTopic[topic]!.correct) / Double(t.questions)) < 1e-9)
        }
    }

    @Test func anAnswersTopicIsWhatItSaysBesidesTheGender() {
        #expect(AnswerMatcher.topic(of: "No, he is not wearing a hat.") == "hat")
        #expect(AnswerMatcher.topic(of: "She looks happy.") == "happy")
        #expect(AnswerMatcher.topic(of: "Yes, her hair is black.") == "hair_color")
        #expect(AnswerMatcher.topic(of: "No, she is not bald.") == "bald")
        #expect(AnswerMatcher.topic(of: "This is a man.") == "male")
        #expect(AnswerMatcher.topic(of: "I cannot tell.") == "other")
    }

    @Test func aModelWithoutEncodersCannotBeJudged() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fs-eval-noenc-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let text = try TextTokenizer.train(texts: ["a face", "USER:", " ASSISTANT:"], vocabSize: 270)
        var imageConfig = ImageTokenizerConfig()
        imageConfig.imageSize = 16; imageConfig.bits = 3; imageConfig.channels = [8, 8, 8]; imageConfig.resBlocks = [0, 0, 0]; imageConfig.groups = 4
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try ImageTokenizer(config: imageConfig, seed: 1).save(directory: root)
        var c = ModelConfig()
        c.textVocabSize = text.bpeVocabSize; c.imageCodebookSize = 8; c.imageTokens = 16
        c.dModel = 16; c.layers = 1; c.heads = 2; c.rotaryDims = 4; c.maxPromptTokens = 8; c.routedExperts = 2; c.expertHidden = 8
        c.sequenceMoE = false
        try ModelDirectory.export(model: UnifiedModel(config: c, seed: 3), textTokenizer: text, imageTokenizerDirectory: root, to: root)
        #expect(throws: EvaluationError.self) { try Evaluator(engine: try Engine(modelDirectory: root), dataDirectory: root) }
    }
}
