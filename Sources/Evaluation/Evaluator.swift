import Foundation
import Tensor
import Imaging
import FaceData
import FaceModel
import Training
import Inference

// `facestudio eval`: the shipped model measured the way the paper measures UniF²ace, on the
// data set's test split. The face-attribute encoder is the judge of generated faces (its
// penultimate features also give the Fréchet distance), the in-project CLIP gives the
// text–image score, and PhraseMatcher reads claims back out of free text (captions, answers).

public struct EvalOptions: Sendable {
    /// Test images used for generation and understanding (nil: the whole test split).
    public var limit: Int?
    public var generate: GenerateOptions
    public var chat = ChatOptions()
    /// Where to write the expert-activation plot (nil: not drawn).
    public var plotPath: String?
    /// Where to write a contact sheet of generated faces beside their real test images.
    public var sheetPath: String?
    /// Where to write every understanding answer beside its ground truth (JSON lines).
    public var answersPath: String?
    public var sheetFaces = 16
    /// Skip parts (quick checks, ablations).
    public var generation = true
    /// Generation from the test captions (the long prompts the model was trained on); prompts
    /// in people's words (prompts.jsonl) are generated whenever the data set has them.
    public var captionGeneration = true
    public var understanding = true
    public var components = true

    public init() {
        generate = GenerateOptions()
        generate.previews = false
    }
}

public struct EvalReport: Codable, Sendable {
    public struct Generation: Codable, Sendable {
        public var images: Int
        /// Claims of the prompts (attributes present/absent, detail values) the judge confirms.
        public var attributeAccuracy: Double
        public var claimsChecked: Int
        /// The same claims judged on the real test faces, and on them after an image-tokenizer
        /// round trip: what the judge, and the judge with this tokenizer's detail, can confirm
        /// at best (generation is decoded through the tokenizer too).
        public var attributeAccuracyReal: Double?
        public var attributeAccuracyReconstructed: Double?
        /// Fréchet distance (face-encoder features) to the second half of the real test faces
        /// from the faces generated from the first half's captions, and from the first half.
        public var fd: Double
        public var fdRealBaseline: Double
        /// The same from the first half after a tokenizer round trip: what `fd` would be if the
        /// unified model drew real faces' codes (nil in reports written before it existed).
        public var fdReconstructed: Double?
        public var fdImages: Int
        /// 100 × mean cosine between the CLIP image and caption embeddings; real images beside.
        public var clipScore: Double
        public var clipScoreReal: Double
        public var secondsPerImage: Double
        /// The three shares per claim key (attribute or detail field): which facts the judge
        /// loses on real faces, which the tokenizer loses, and which the unified model loses.
        public var byClaim: [String: ClaimFigures]?
        enum CodingKeys: String, CodingKey {
            case images, attributeAccuracy = "attribute_accuracy", claimsChecked = "claims_checked", fd, byClaim = "by_claim"
            case attributeAccuracyReal = "attribute_accuracy_real", attributeAccuracyReconstructed = "attribute_accuracy_reconstructed"
            case fdRealBaseline = "fd_real_baseline", fdReconstructed = "fd_reconstructed", fdImages = "fd_images", clipScore = "clip_score"
            case clipScoreReal = "clip_score_real", secondsPerImage = "seconds_per_image"
        }
    }

    public struct ClaimFigures: Codable, Sendable, Equatable {
        public var checked: Int
        public var real: Double
        public var reconstructed: Double
        public var generated: Double
    }

    public struct Understanding: Codable, Sendable {
        public var questions: Int
        public var vqaAccuracy: Double
        public var captions: Int
        /// Claims in the model's captions that hold / attributes present that it states.
        public var captionPrecision: Double
        public var captionRecall: Double
        /// VQA accuracy per topic (the schema key the ground-truth answer is about, e.g.
        /// `hair_color`, `expression`, `eyeglasses`): where the model reads faces and where not.
        public var vqaByTopic: [String: TopicAccuracy]?
        enum CodingKeys: String, CodingKey {
            case questions, vqaAccuracy = "vqa_accuracy", captions, captionPrecision = "caption_precision", captionRecall = "caption_recall"
            case vqaByTopic = "vqa_by_topic"
        }
    }

    public struct TopicAccuracy: Codable, Sendable, Equatable {
        public var questions: Int
        public var accuracy: Double
    }

    public struct TokenizerFigures: Codable, Sendable {
        public var images: Int
        public var psnrDB: Double
        public var codebookUsage: Double
        enum CodingKeys: String, CodingKey { case images, psnrDB = "psnr_db", codebookUsage = "codebook_usage" }
    }

    public struct EncoderFigures: Codable, Sendable {
        public var images: Int
        public var faceAttributeAccuracy: Double
        public var faceDetailAccuracy: Double
        public var clipRetrievalTop1: Double
        /// Mean over attributes of (recall on faces with it + on faces without it) / 2: 0.5 for a
        /// head blind to every attribute, which plain accuracy scores near 0.9 (nil in older reports).
        public var faceAttributeBalancedAccuracy: Double?
        enum CodingKeys: String, CodingKey {
            case images, faceAttributeAccuracy = "face_attribute_accuracy", faceDetailAccuracy = "face_detail_accuracy"
            case faceAttributeBalancedAccuracy = "face_attribute_balanced_accuracy"
            case clipRetrievalTop1 = "clip_retrieval_top1"
        }
    }

    /// How often each expert was chosen, per layer, over everything the eval ran.
    public struct Activation: Codable, Sendable {
        /// "t2i" or "mmu".
        public var group: String
        public var level: String
        public var experts: [String]
        /// [layer][expert]: share of the routing decisions (each row sums to 1).
        public var share: [[Double]]
    }

    /// Understanding and generation on the questions and prompts of one kind of phrasing: seen
    /// in training (`seen_phrasings`) or held out (`heldout_phrasings`), graded from the
    /// structured truth beside the text (data sets of schema 5 and later).
    public struct Phrasings: Codable, Sendable, Equatable {
        public var vqaQuestions = 0
        public var vqaAccuracy = 0.0
        /// VQA accuracy per question kind ("yesno", "wh", "group", "reasoning").
        public var vqaByKind: [String: TopicAccuracy] = [:]
        public var captions = 0
        public var captionRecall = 0.0
        public var prompts = 0
        public var generationClaims = 0
        public var generationAttributeAccuracy = 0.0
        enum CodingKeys: String, CodingKey {
            case vqaQuestions = "vqa_questions", vqaAccuracy = "vqa_accuracy", vqaByKind = "vqa_by_kind", captions
            case captionRecall = "caption_recall", prompts, generationClaims = "generation_claims"
            case generationAttributeAccuracy = "generation_attribute_accuracy"
        }
        public init() {}
    }

    /// Generation from prompts of at most `maxItems` stated items, seen and held-out together.
    public struct ShortPrompts: Codable, Sendable, Equatable {
        public var maxItems: Int
        public var prompts: Int
        public var claimsChecked: Int
        public var attributeAccuracy: Double
        enum CodingKeys: String, CodingKey {
            case maxItems = "max_items", prompts, claimsChecked = "claims_checked", attributeAccuracy = "attribute_accuracy"
        }
    }

    public var generation: Generation?
    public var understanding: Understanding?
    public var tokenizer: TokenizerFigures?
    public var encoders: EncoderFigures?
    public var seenPhrasings: Phrasings?
    public var heldoutPhrasings: Phrasings?
    public var shortPrompts: ShortPrompts?
    /// Prompts (captions and prompts in people's words) longer than the model reads, which it
    /// sees cut: reported, never silent.
    public var promptsTruncated: Int?
    public var activation: [Activation]
    public var expertPlot: String?
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case generation, understanding, tokenizer, encoders, activation, expertPlot = "expert_plot", seconds
        case seenPhrasings = "seen_phrasings", heldoutPhrasings = "heldout_phrasings", shortPrompts = "short_prompts"
        case promptsTruncated = "prompts_truncated"
    }
}

public struct EvaluationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Progress of a long phase: (phase, done, total).
public typealias EvalProgress = (String, Int, Int) -> Void

public final class Evaluator {
    let engine: Engine
    let dataDirectory: String
    let encoders: ImageEncoders
    let matcher = PhraseMatcher.shared
    let claimJudge: ClaimJudge
    private var activation = ActivationCounter()

    public init(engine: Engine, dataDirectory: String) throws {
        guard let encoders = engine.directory.encoders else {
            throw EvaluationError("\(engine.directory.path): no image encoders (encoder_* files); eval judges generated faces with the face-attribute encoder")
        }
        self.engine = engine
        self.dataDirectory = dataDirectory
        self.encoders = encoders
        claimJudge = ClaimJudge(encoders: encoders)
    }

    public func run(_ options: EvalOptions, progress: @escaping EvalProgress = { _, _, _ in }) throws -> EvalReport {
        let started = Date()
        let test = try FaceDataset.loadCaptions(directory: dataDirectory).filter { $0.split == "test" }
        guard test.count >= 4 else { throw EvaluationError("\(dataDirectory)/captions.jsonl: only \(test.count) test images; eval needs at least 4") }
        let chosen = Array(test.prefix(options.limit ?? test.count))
        activation = ActivationCounter()
        var report = EvalReport(activation: [], seconds: 0)
        if options.components {
            report.tokenizer = try tokenizerFigures(progress: progress)
            report.encoders = try encoderFigures(progress: progress)
        }
        var phrasings = PhrasingTally()
        if options.generation && options.captionGeneration {
            report.generation = try generation(chosen, allTest: test, options: options, progress: progress)
            report.promptsTruncated = chosen.filter { engine.promptTokenCount($0.caption) > engine.promptCapacity }.count
        }
        if options.generation, FileManager.default.fileExists(atPath: dataDirectory + "/" + FaceDataset.promptsFile) {
            let ids = Set(chosen.map(\.id))
            let prompts = try FaceDataset.loadPrompts(directory: dataDirectory).filter { $0.split == "test" && ids.contains($0.id) }
            try promptGeneration(prompts, options: options, tally: &phrasings, progress: progress)
            report.promptsTruncated = (report.promptsTruncated ?? 0)
                + prompts.filter { engine.promptTokenCount($0.prompt) > engine.promptCapacity }.count
        }
        if options.understanding { report.understanding = try understanding(chosen, options: options, tally: &phrasings, progress: progress) }
        if phrasings.any {
            report.seenPhrasings = phrasings.seen.figures
            report.heldoutPhrasings = phrasings.heldOut.figures
            report.shortPrompts = phrasings.shortFigures
        }
        report.activation = activation.summaries(model: engine.directory.model)
        if let path = options.plotPath, !report.activation.isEmpty {
            try AtomicFile.write(try PNGCodec.encode(ExpertPlot.draw(report.activation)), to: path)
            report.expertPlot = path
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    // MARK: Components

    func tokenizerFigures(progress: @escaping EvalProgress) throws -> EvalReport.TokenizerFigures {
        let tokenizer = engine.directory.imageTokenizer
        let images = try TokenizerImageSet.load(dataDirectory: dataDirectory, split: "test", side: tokenizer.config.imageSize, limit: 1000)
        let (e, _) = try TokenizerEvaluation.evaluate(tokenizer: tokenizer, images: images) { progress("tokenizer", $0, images.count) }
        return .init(images: e.images, psnrDB: e.psnrDB, codebookUsage: e.codebookUsage)
    }

    func encoderFigures(progress: EvalProgress) throws -> EvalReport.EncoderFigures {
        progress("encoders", 0, 1)
        let data = try EncoderDataset.load(directory: dataDirectory, side: encoders.config.imageSize, split: "test")
        let face = try EncoderEvaluation.face(encoders, data: data)
        let clip = try EncoderEvaluation.clip(encoders, data: data)
        progress("encoders", 1, 1)
        return .init(images: data.count, faceAttributeAccuracy: face.meanAttributeAccuracy, faceDetailAccuracy: face.meanDetailAccuracy,
                     clipRetrievalTop1: clip.imageToCaptionTop1Of100, faceAttributeBalancedAccuracy: face.meanAttributeBalancedAccuracy)
    }

    // MARK: Generation

    func generation(_ records: [CaptionRecord], allTest: [CaptionRecord], options: EvalOptions,
                    progress: EvalProgress) throws -> EvalReport.Generation {
        var generated: [RGBImage] = []
        var seconds = 0.0
        for (i, record) in records.enumerated() {
            var o = options.generate
            o.seed = options.generate.seed &+ UInt64(i)
            let result = try engine.generate(prompt: record.caption, options: o)
            generated.append(result.image)
            seconds += result.seconds
            for trace in result.routing { activation.add(trace) }
            progress("generate", i + 1, records.count)
        }
        // Judge the generated faces against what their prompts claim, and the real faces (as
        // they are and through the tokenizer) for the ceilings. `records` is a prefix of
        // `allTest`, so the real test faces are read and judged once.
        let judged = try claimJudge.judge(generated)
        let onGenerated = claimJudge.claimsConfirmed(records, judged.predictions)
        let allReal = try allTest.map { try readImage($0.image) }
        let real = try claimJudge.judge(allReal)
        let realFaces = Array(allReal.prefix(records.count))
        let reconstructed = try engine.directory.imageTokenizer.decode(try engine.directory.imageTokenizer.encode(realFaces))
        let judgedReconstructed = try claimJudge.judge(reconstructed)
        let onReal = claimJudge.claimsConfirmed(records, Array(real.predictions.prefix(records.count)))
        let onReconstructed = claimJudge.claimsConfirmed(records, judgedReconstructed.predictions)
        // Fréchet distances to the second half of the real test faces: from the first half as it
        // is (the baseline), through the tokenizer (the distance a perfect unified model would
        // still have), and from the faces generated from the first half's captions.
        let m = min(generated.count, allTest.count / 2)
        guard m >= 2 else { throw EvaluationError("generation needs at least 2 images for the Fréchet distance") }
        let dim = encoders.face.config.embedDim
        let secondHalf = Array(real.features[(m * dim)..<(2 * m * dim)])
        let fd = Frechet.distance(Array(judged.features.prefix(m * dim)), secondHalf, dim: dim)
        let baseline = Frechet.distance(Array(real.features.prefix(m * dim)), secondHalf, dim: dim)
        let fdReconstructed = Frechet.distance(Array(judgedReconstructed.features.prefix(m * dim)), secondHalf, dim: dim)
        let captions = records.map(\.caption)
        let clipScore = try self.clipScore(generated, captions)
        let clipReal = try self.clipScore(realFaces, captions)
        if let path = options.sheetPath {
            let n = min(options.sheetFaces, generated.count)
            var images: [RGBImage] = []
            for i in 0..<n { images += [realFaces[i], generated[i]] }
            try AtomicFile.write(try PNGCodec.encode(ContactSheet.make(images: images, columns: 8, background: (24, 24, 28))), to: path)
        }
        // The same records and judge, so every tally has the same keys and counts.
        var byClaim: [String: EvalReport.ClaimFigures] = [:]
        for (key, k) in onGenerated.byKey {
            byClaim[key] = .init(checked: k.checked, real: onReal.share(key), reconstructed: onReconstructed.share(key),
                                 generated: onGenerated.share(key))
        }
        return .init(images: generated.count, attributeAccuracy: onGenerated.share, claimsChecked: onGenerated.checked,
                     attributeAccuracyReal: onReal.share, attributeAccuracyReconstructed: onReconstructed.share,
                     fd: fd, fdRealBaseline: baseline, fdReconstructed: fdReconstructed, fdImages: m, clipScore: clipScore, clipScoreReal: clipReal,
                     secondsPerImage: seconds / Double(max(generated.count, 1)), byClaim: byClaim)
    }

    /// Faces generated from the test prompts in people's words, judged against the facts beside
    /// each prompt (present, absent, detail values), per phrasing and for short prompts.
    func promptGeneration(_ prompts: [FaceDataset.PromptRecord], options: EvalOptions, tally: inout PhrasingTally,
                          progress: EvalProgress) throws {
        var images: [RGBImage] = []
        for (i, p) in prompts.enumerated() {
            var o = options.generate
            o.seed = options.generate.seed &+ 7_919 &+ UInt64(i)
            let result = try engine.generate(prompt: p.prompt, options: o)
            images.append(result.image)
            for trace in result.routing { activation.add(trace) }
            progress("prompts", i + 1, prompts.count)
        }
        let predictions = try claimJudge.judge(images).predictions
        for (p, prediction) in zip(prompts, predictions) {
            var checked = 0, confirmed = 0
            for claim in p.facts.compactMap(\.claim) {
                guard let verdict = claimJudge.verify(claim, prediction) else { continue }
                checked += 1
                if verdict { confirmed += 1 }
            }
            tally.addPrompt(heldOut: p.heldOut, items: p.items, checked: checked, confirmed: confirmed)
        }
    }

    /// 100 × mean cosine similarity of CLIP image and caption embeddings.
    func clipScore(_ images: [RGBImage], _ captions: [String]) throws -> Double {
        let clip = encoders.clip, side = encoders.config.imageSize
        var total = 0.0
        for start in stride(from: 0, to: images.count, by: 100) {
            let end = min(start + 100, images.count)
            let chunk = images[start..<end].map { $0.width == side && $0.height == side ? $0 : ImageOps.resize($0, width: side, height: side) }
            let x = try ImageTensor.tensor(from: chunk, side: side)
            let (img, txt) = GradMode.withoutGrad {
                (clip.imageEmbedding(x).values, clip.textEmbedding(captions[start..<end].map { encoders.textTokenizer.encode($0) }).values)
            }
            let E = clip.config.embedDim
            for b in 0..<(end - start) {
                var dot = 0.0, ni = 0.0, nt = 0.0
                for e in 0..<E {
                    let a = Double(img[b * E + e]), t = Double(txt[b * E + e])
                    dot += a * t; ni += a * a; nt += t * t
                }
                total += dot / max((ni * nt).squareRoot(), 1e-12)
            }
        }
        return 100 * total / Double(max(images.count, 1))
    }

    // MARK: Understanding

    func understanding(_ records: [CaptionRecord], options: EvalOptions, tally phrasings: inout PhrasingTally,
                       progress: EvalProgress) throws -> EvalReport.Understanding {
        let llava = try FaceDataset.loadLLaVA(path: dataDirectory + "/llava_test.json")
        let conversations = Dictionary(llava.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var questions = 0, correct = 0
        var byTopic: [String: (questions: Int, correct: Int)] = [:]
        var claimsMade = 0, claimsTrue = 0, present = 0, stated = 0
        var answers: [UnderstandingAnswer] = []
        let onToken: (TokenEvent) -> Void = { [self] in activation.add($0.routing) }
        for (i, record) in records.enumerated() {
            let chat = try engine.chat(image: try readImage(record.image))
            let conversation = conversations[record.id]
            let pairs = conversation.map(Self.pairs) ?? []
            let truths: [TextTruth?] = conversation?.truth.map { $0.map(Optional.some) } ?? Array(repeating: nil, count: pairs.count)
            // Captions: precision of what is said, recall of what is there. The data set's own
            // describe request when it has one, else the one the model was trained on.
            let describeIndex = truths.firstIndex { $0?.kind == "describe" }
            let describe = describeIndex.map { pairs[$0].0 } ?? ChatFormat.describeQuestion
            let caption = try chat.ask(describe, options: options.chat, onToken: onToken)
            let truth = try FaceAttributes(names: record.attributes, details: record.details)
            let claims = Set(matcher.claims(in: caption))
            claimsMade += claims.count
            claimsTrue += claims.filter { $0.holds(for: truth) }.count
            let facts = CaptionFacts.present(in: truth, record: record)
            present += facts.count
            let statedFacts = facts.filter { claims.contains($0) }.count
            stated += statedFacts
            if let d = describeIndex, let t = truths[d] { phrasings.addCaption(heldOut: t.heldOut, stated: statedFacts, facts: facts.count) }
            let describeTruth = describeIndex.flatMap { truths[$0] }
            answers.append(.init(id: record.id, question: describe, reply: caption, truth: record.caption, correct: nil,
                                 kind: describeTruth?.kind, key: describeTruth?.key, frame: describeTruth?.frame, heldOut: describeTruth?.heldOut))
            // VQA: each question on its own, after the image.
            for (k, (question, answer)) in pairs.enumerated() where k != describeIndex {
                chat.clear()
                let reply = try chat.ask(question, options: options.chat, onToken: onToken)
                questions += 1
                let right: Bool, topic: String
                if let t = truths[k] {
                    // Graded from what the question asks, so varied wording is not mis-scored.
                    right = TruthGrader.isCorrect(reply, t)
                    topic = t.key
                    phrasings.addQuestion(kind: t.kind, heldOut: t.heldOut, right: right)
                } else {
                    right = AnswerMatcher.matches(reply: reply, truth: answer, matcher: matcher)
                    topic = AnswerMatcher.topic(of: answer, matcher: matcher)
                }
                if right { correct += 1 }
                byTopic[topic, default: (0, 0)].questions += 1
                if right { byTopic[topic, default: (0, 0)].correct += 1 }
                let t = truths[k]
                answers.append(.init(id: record.id, question: question, reply: reply, truth: answer, correct: right,
                                     kind: t?.kind, key: t?.key, frame: t?.frame, heldOut: t?.heldOut))
            }
            progress("understand", i + 1, records.count)
        }
        if let path = options.answersPath { try UnderstandingAnswer.write(answers, to: path) }
        return .init(questions: questions, vqaAccuracy: questions == 0 ? 0 : Double(correct) / Double(questions),
                     captions: records.count, captionPrecision: claimsMade == 0 ? 0 : Double(claimsTrue) / Double(claimsMade),
                     captionRecall: present == 0 ? 0 : Double(stated) / Double(present),
                     vqaByTopic: byTopic.mapValues { .init(questions: $0.questions, accuracy: Double($0.correct) / Double($0.questions)) })
    }

    /// One answer the model gave, for reading failures one by one (`--out`/answers.jsonl).
    struct UnderstandingAnswer: Encodable {
        let id: String, question: String, reply: String, truth: String
        /// VQA: whether the reply says what the truth says; nil for captions (scored by claims).
        let correct: Bool?
        /// What the question asks, from the data set's structured truth (nil without one).
        var kind: String? = nil, key: String? = nil, frame: String? = nil, heldOut: Bool? = nil
        enum CodingKeys: String, CodingKey { case id, question, reply, truth, correct, kind, key, frame, heldOut = "heldout" }

        static func write(_ answers: [UnderstandingAnswer], to path: String) throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var bytes: [UInt8] = []
            for a in answers { bytes += try encoder.encode(a) + [UInt8(ascii: "\n")] }
            try AtomicFile.write(bytes, to: path)
        }
    }

    static func pairs(_ record: LLaVARecord) -> [(String, String)] {
        var out: [(String, String)] = [], pending: String? = nil
        for turn in record.conversations {
            if turn.from == "human" { pending = ChatFormat.question(fromLLaVA: turn.value) }
            else if let q = pending { out.append((q, turn.value)); pending = nil }
        }
        return out
    }

    func readImage(_ relative: String) throws -> RGBImage {
        do { return try PNGCodec.read(path: dataDirectory + "/" + relative) } catch {
            throw EvaluationError("\(dataDirectory)/\(relative): \(error)")
        }
    }
}

/// Counts per phrasing (seen / held out) and for short prompts.
struct PhrasingTally {
    struct Side {
        var questions = 0, correct = 0
        var byKind: [String: (questions: Int, correct: Int)] = [:]
        var captions = 0, captionFacts = 0, captionStated = 0
        var prompts = 0, claims = 0, confirmed = 0

        var figures: EvalReport.Phrasings {
            var f = EvalReport.Phrasings()
            f.vqaQuestions = questions
            f.vqaAccuracy = questions == 0 ? 0 : Double(correct) / Double(questions)
            f.vqaByKind = byKind.mapValues { .init(questions: $0.questions, accuracy: Double($0.correct) / Double(max($0.questions, 1))) }
            f.captions = captions
            f.captionRecall = captionFacts == 0 ? 0 : Double(captionStated) / Double(captionFacts)
            f.prompts = prompts
            f.generationClaims = claims
            f.generationAttributeAccuracy = claims == 0 ? 0 : Double(confirmed) / Double(claims)
            return f
        }
    }
    static let shortItems = 6
    var seen = Side(), heldOut = Side()
    var short = (prompts: 0, claims: 0, confirmed: 0)
    var any: Bool { seen.questions + heldOut.questions + seen.prompts + heldOut.prompts + seen.captions + heldOut.captions > 0 }

    mutating func side(_ held: Bool, _ change: (inout Side) -> Void) { if held { change(&heldOut) } else { change(&seen) } }

    mutating func addQuestion(kind: String, heldOut held: Bool, right: Bool) {
        side(held) { s in
            s.questions += 1
            s.byKind[kind, default: (0, 0)].questions += 1
            if right { s.correct += 1; s.byKind[kind, default: (0, 0)].correct += 1 }
        }
    }

    mutating func addCaption(heldOut held: Bool, stated: Int, facts: Int) {
        side(held) { s in s.captions += 1; s.captionStated += stated; s.captionFacts += facts }
    }

    mutating func addPrompt(heldOut held: Bool, items: Int, checked: Int, confirmed: Int) {
        side(held) { s in s.prompts += 1; s.claims += checked; s.confirmed += confirmed }
        if items <= PhrasingTally.shortItems {
            short.prompts += 1; short.claims += checked; short.confirmed += confirmed
        }
    }

    var shortFigures: EvalReport.ShortPrompts? {
        guard seen.prompts + heldOut.prompts > 0 else { return nil }
        return .init(maxItems: PhrasingTally.shortItems, prompts: short.prompts, claimsChecked: short.claims,
                     attributeAccuracy: short.claims == 0 ? 0 : Double(short.confirmed) / Double(short.claims))
    }
}

/// What a caption could state about a face: every attribute present and every visible detail.
enum CaptionFacts {
    static func present(in truth: FaceAttributes, record: CaptionRecord) -> [Claim] {
        var facts: [Claim] = record.attributes.compactMap { FaceAttribute(name: $0).map { .present($0) } }
        for (field, value) in record.details {
            guard let f = DetailField(rawValue: field) else { continue }
            let claim = Claim.detail(f, value)
            if claim.holds(for: truth) { facts.append(claim) }
        }
        return facts
    }
}

/// Whether a free-text answer says what the ground-truth answer says: the same yes/no when the
/// truth starts with one, and the same claims about every attribute or detail the truth
/// mentions (nothing extra or contradicting about those); answers without any known phrase
/// are compared as normalised text.
public enum AnswerMatcher {
    public static func matches(reply: String, truth: String, matcher: PhraseMatcher = .shared) -> Bool {
        let polarity = yesNo(truth)
        if let polarity, yesNo(reply) != polarity { return false }
        let truthClaims = Set(matcher.claims(in: truth))
        if truthClaims.isEmpty { return polarity != nil || normalised(reply) == normalised(truth) }
        let keys = Set(truthClaims.map(\.key))
        let replyClaims = Set(matcher.claims(in: reply).filter { keys.contains($0.key) })
        return replyClaims == truthClaims
    }

    /// What a ground-truth answer is about: its first detail field (hair phrases also imply
    /// "not bald"), else its first attribute other than the pronouns' gender, else the gender
    /// ("other" when it makes no claim).
    public static func topic(of truth: String, matcher: PhraseMatcher = .shared) -> String {
        let claims = matcher.claims(in: truth)
        if let detail = claims.first(where: { if case .detail = $0 { return true } else { return false } }) { return detail.key }
        let keys = claims.map(\.key)
        return keys.first { $0 != Appearance.male.rawValue } ?? keys.first ?? "other"
    }

    /// The verdict of a yes/no answer: its first word ("No, he is not wearing a hat."), else its
    /// last ("Her hair is blond, so no.").
    static func yesNo(_ text: String) -> Bool? {
        let words = text.lowercased().split { !$0.isLetter }
        for word in [words.first, words.last] {
            if word == "yes" { return true }
            if word == "no" { return false }
        }
        return nil
    }

    static func normalised(_ text: String) -> String {
        text.lowercased().filter { $0.isLetter || $0.isNumber || $0 == " " }.split(separator: " ").joined(separator: " ")
    }
}

/// Counts routing decisions per group, level, layer and expert.
struct ActivationCounter {
    /// key "group/level" → [layer][expert] counts.
    var counts: [String: [[Double]]] = [:]
    var experts: [String: [String]] = [:]

    mutating func add(_ trace: RoutingTrace) {
        for (l, layer) in trace.layers.enumerated() {
            let key = trace.group + "/token"
            accumulate(key, layer: l, layers: trace.layers.count, values: layer.frequencies)
            if experts[key] == nil { experts[key] = (0..<layer.frequencies.count).map { "e\($0)" } }
        }
        for (l, layer) in trace.sequenceLayers.enumerated() {
            let key = trace.group + "/sequence"
            accumulate(key, layer: l, layers: trace.sequenceLayers.count, values: layer.weights.map { $0 > 0 ? 1 : 0 })
            experts[key] = layer.experts
        }
    }

    private mutating func accumulate(_ key: String, layer: Int, layers: Int, values: [Double]) {
        var table = counts[key] ?? Array(repeating: [Double](repeating: 0, count: values.count), count: layers)
        for (e, v) in values.enumerated() where e < table[layer].count { table[layer][e] += v }
        counts[key] = table
    }

    func summaries(model: UnifiedModel) -> [EvalReport.Activation] {
        counts.keys.sorted().map { key in
            let parts = key.split(separator: "/").map(String.init)
            let share = counts[key]!.map { row -> [Double] in
                let total = row.reduce(0, +)
                return total > 0 ? row.map { $0 / total } : row
            }
            return EvalReport.Activation(group: parts[0], level: parts[1], experts: experts[key] ?? [], share: share)
        }
    }
}
