import Dispatch
import Foundation
import Imaging

/// One generated example: everything about image `index` of the data set with `seed`.
/// A pure function of (seed, index, test fraction, validation fraction, prompt budget): items
/// can be made in any order, on any thread, and again later, with identical results.
public struct DatasetItem: Sendable {
    public let index: Int
    public let id: String
    /// "train", "val" or "test".
    public let split: String
    public let attributes: FaceAttributes
    public let nuisanceSeed: UInt64
    public let caption: String
    /// The VQA pairs with what each asks (describe request first).
    public let truthPairs: [TruthPair]
    /// A text-to-image prompt in people's words, with its facts.
    public let prompt: Prompt
    public var qa: [QAPair] { truthPairs.map(\.pair) }

    /// Independent random streams per item, so changing how one is used never shifts another.
    enum Stream: UInt64 { case attributes = 0, nuisance = 1, caption = 2, vqa = 3, split = 4, trainingVQA = 5, validation = 6, prompt = 7 }

    public init(seed: UInt64, index: Int, testFraction: Double, validationFraction: Double = 0.02,
                budget: PromptWriter.Budget = .estimate) {
        let i = UInt64(index)
        var attrRNG = FaceRNG(seed: FaceRNG.derive(seed, i, stream: Stream.attributes.rawValue))
        let face = FaceSampler.sample(&attrRNG)
        var captionRNG = FaceRNG(seed: FaceRNG.derive(seed, i, stream: Stream.caption.rawValue))
        var vqaRNG = FaceRNG(seed: FaceRNG.derive(seed, i, stream: Stream.vqa.rawValue))
        var promptRNG = FaceRNG(seed: FaceRNG.derive(seed, i, stream: Stream.prompt.rawValue))
        self.index = index
        id = DatasetItem.id(index)
        let isTest = DatasetItem.isTest(seed: seed, index: index, fraction: testFraction)
        let isValidation = !isTest && DatasetItem.isValidation(seed: seed, index: index, fraction: validationFraction)
        split = isTest ? "test" : (isValidation ? "val" : "train")
        attributes = face
        nuisanceSeed = FaceRNG.derive(seed, i, stream: Stream.nuisance.rawValue)
        caption = CaptionWriter.caption(for: face, rng: &captionRNG)
        let pool: PhrasingPool = split == "train" ? .training : .evaluation
        truthPairs = PeopleVQA.pairs(for: face, caption: caption, pool: pool, rng: &vqaRNG)
        prompt = PromptWriter.prompt(for: face, pool: pool, budget: budget, rng: &promptRNG)
    }

    /// "face_000042": zero-padded so that ids sort in index order.
    public static func id(_ index: Int) -> String {
        let digits = String(index)
        return "face_" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// The fixed split: an image is in the test set iff the hash of (seed, index) falls under
    /// `fraction`; independent of the count, so growing a data set never moves an image.
    public static func isTest(seed: UInt64, index: Int, fraction: Double) -> Bool {
        let h = FaceRNG.derive(seed, UInt64(index), stream: Stream.split.rawValue)
        return Double(h >> 11) * (1.0 / 9_007_199_254_740_992.0) < fraction
    }

    /// The validation split: about `fraction` of the images outside the test split, drawn from
    /// a stream of its own (so the test split is the one older data sets had).
    public static func isValidation(seed: UInt64, index: Int, fraction: Double) -> Bool {
        let h = FaceRNG.derive(seed, UInt64(index), stream: Stream.validation.rawValue)
        return Double(h >> 11) * (1.0 / 9_007_199_254_740_992.0) < fraction
    }

    public var imagePath: String { "images/\(id).png" }

    public func render(size: Int) -> RGBImage { FaceRenderer.render(attributes, nuisanceSeed: nuisanceSeed, size: size) }

    /// Present attribute names in schema order.
    public var attributeNames: [String] { attributes.present.map(\.name) }

    /// Detail field -> value for the fields present, in schema order.
    public var detailPairs: [(String, String)] {
        DetailField.allCases.compactMap { f in attributes.details.value(f).map { (f.rawValue, $0) } }
    }

    // MARK: JSON lines (hand-written: fixed key order, byte-identical across runs)

    var detailsJSON: String {
        "{" + detailPairs.map { "\(JSONWriter.quoted($0.0)):\(JSONWriter.quoted($0.1))" }.joined(separator: ",") + "}"
    }

    public var captionJSON: String { captionJSON(stated: PhraseMatcher.shared.claims(in: caption)) }

    /// The caption line; `stated` (the claims read back from the caption) is written beside it
    /// as the facts the caption states, in the order it first states them.
    func captionJSON(stated: [Claim]) -> String {
        var seen = Set<Claim>()
        let facts = stated.filter { seen.insert($0).inserted }.map { claim -> String in
            let fact = PromptFact(claim)
            return "{\"key\":\(JSONWriter.quoted(fact.key)),\"value\":\(JSONWriter.quoted(fact.value))}"
        }
        return "{\"id\":\(JSONWriter.quoted(id)),\"image\":\(JSONWriter.quoted(imagePath)),\"split\":\(JSONWriter.quoted(split))," +
            "\"caption\":\(JSONWriter.quoted(caption)),\"attributes\":[" +
            attributeNames.map(JSONWriter.quoted).joined(separator: ",") + "],\"details\":\(detailsJSON),\"stated\":[" +
            facts.joined(separator: ",") + "]}"
    }

    public var attributesJSON: String {
        let vector = FaceAttribute.all.map { attributes.has($0) ? "1" : "0" }.joined(separator: ",")
        return "{\"id\":\(JSONWriter.quoted(id)),\"split\":\(JSONWriter.quoted(split)),\"vector\":[\(vector)],\"details\":\(detailsJSON)}"
    }

    public var llavaJSON: String {
        let turns = LLaVAFormat.conversation(qa).map {
            "{\"from\":\(JSONWriter.quoted($0.from)),\"value\":\(JSONWriter.quoted($0.value))}"
        }
        return "{\"id\":\(JSONWriter.quoted(id)),\"image\":\(JSONWriter.quoted(imagePath)),\"conversations\":[" +
            turns.joined(separator: ",") + "],\"truth\":[" + truthPairs.map(\.truth.json).joined(separator: ",") + "]}"
    }

    /// One line of `prompts.jsonl`: the prompt, its facts, items, frame and held-out flag.
    public var promptJSON: String {
        let q = JSONWriter.quoted
        let facts = prompt.facts.map { "{\"key\":\(q($0.key)),\"value\":\(q($0.value))}" }.joined(separator: ",")
        return "{\"id\":\(q(id)),\"image\":\(q(imagePath)),\"split\":\(q(split)),\"prompt\":\(q(prompt.text)),\"items\":\(prompt.items)," +
            "\"frame\":\(q(prompt.frame)),\"heldout\":\(prompt.heldOut),\"facts\":[\(facts)]}"
    }
}

/// What `DatasetMaker.make` did.
public struct DatasetSummary: Codable, Sendable {
    public var directory: String
    public var count: Int
    public var train: Int
    public var test: Int
    public var size: Int
    public var seed: UInt64
    public var seconds: Double
    public var imagesPerSecond: Double
    /// Average distinct schema keys (attributes and detail fields) a caption speaks about.
    public var meanCaptionMentions: Double
    /// Average attributes (of the 46) a caption says are present.
    public var meanCaptionPresentAttributes: Double
    public var meanCaptionWords: Double
    public var meanQAPairs: Double
    /// Validation images (nil in summaries of older data sets).
    public var validation: Int?
    /// Prompts (prompts.jsonl): mean and range of stated items, and held-out share.
    public var meanPromptItems: Double?
    public var minPromptItems: Int?
    public var maxPromptItems: Int?
    /// Prompts that left out items to fit the model's prompt length, and captions longer than
    /// it (the model reads their first tokens only): nothing is cut silently.
    public var promptsShortened: Int?
    public var captionsOverPromptLength: Int?
    public var maxPromptTokens: Int?
    /// Questions and prompts in held-out phrasings, in the test and validation splits.
    public var heldOutQuestions: Int?
    public var heldOutPrompts: Int?

    enum CodingKeys: String, CodingKey {
        case directory, count, train, test, size, seed, seconds, validation
        case imagesPerSecond = "images_per_second"
        case meanCaptionMentions = "mean_caption_mentions"
        case meanCaptionPresentAttributes = "mean_caption_present_attributes"
        case meanCaptionWords = "mean_caption_words"
        case meanQAPairs = "mean_qa_pairs"
        case meanPromptItems = "mean_prompt_items", minPromptItems = "min_prompt_items", maxPromptItems = "max_prompt_items"
        case promptsShortened = "prompts_shortened", captionsOverPromptLength = "captions_over_prompt_length"
        case maxPromptTokens = "max_prompt_tokens"
        case heldOutQuestions = "heldout_questions", heldOutPrompts = "heldout_prompts"
    }
}

public enum DatasetMaker {
    public struct Options: Sendable {
        public var count: Int
        public var directory: String
        public var seed: UInt64 = 0
        public var size: Int = 64
        public var testFraction: Double = 0.05
        public var validationFraction: Double = 0.02
        /// How prompts are measured against the model's prompt length.
        public var budget: PromptWriter.Budget = .estimate
        public init(count: Int, directory: String, seed: UInt64 = 0, size: Int = 64, testFraction: Double = 0.05,
                    validationFraction: Double = 0.02, budget: PromptWriter.Budget = .estimate) {
            self.count = count; self.directory = directory; self.seed = seed; self.size = size; self.testFraction = testFraction
            self.validationFraction = validationFraction; self.budget = budget
        }

        /// Checks the options; the error names the option.
        public func validate() throws {
            if count < 1 { throw DatasetError("--count must be at least 1 (got \(count))") }
            if !FaceRenderer.sizes.contains(size) {
                throw DatasetError("--size must be in \(FaceRenderer.sizes.lowerBound)...\(FaceRenderer.sizes.upperBound) (got \(size))")
            }
            if !(0...1).contains(testFraction) { throw DatasetError("--test-fraction must be in 0...1 (got \(testFraction))") }
            if !(0...1).contains(validationFraction) { throw DatasetError("--validation-fraction must be in 0...1 (got \(validationFraction))") }
            if budget.maxTokens < 1 { throw DatasetError("--max-prompt-tokens must be at least 1 (got \(budget.maxTokens))") }
            if directory.isEmpty { throw DatasetError("--out must name a directory") }
        }
    }

    /// Per-item output, filled in parallel.
    struct Output {
        var split = "train"
        var caption = "", attributes = "", llava = "", prompt = ""
        var mentions = 0, present = 0, words = 0, pairs = 0
        var promptItems = 0, shortened = false, captionOver = false, heldOutQuestions = 0, heldOutPrompt = false
    }

    /// Renders and writes the data set: `images/<id>.png`, `captions.jsonl`, `attributes.jsonl`,
    /// `prompts.jsonl`, `llava_train.json`, `llava_val.json`, `llava_test.json`, `schema.json`.
    /// Work is split over all cores in chunks; `progress` is called (from any thread) with the
    /// number of items done.
    public static func make(_ options: Options, progress: (@Sendable (Int) -> Void)? = nil) throws -> DatasetSummary {
        try options.validate()
        let dir = options.directory
        let imagesDir = FaceDataset.join(dir, "images")
        do {
            try FileManager.default.createDirectory(atPath: imagesDir, withIntermediateDirectories: true)
        } catch {
            throw DatasetError("\(imagesDir): cannot create directory: \(error.localizedDescription)")
        }
        let start = Date()
        let outputs = UnsafeMutableBufferPointer<Output>.allocate(capacity: options.count)
        outputs.initialize(repeating: Output())
        defer { outputs.deinitialize(); outputs.deallocate() }
        let state = SharedState()
        let chunk = 32
        let chunks = (options.count + chunk - 1) / chunk
        let matcher = PhraseMatcher.shared
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            if state.failed { return }
            for index in (c * chunk)..<min(options.count, (c + 1) * chunk) {
                let item = DatasetItem(seed: options.seed, index: index, testFraction: options.testFraction,
                                       validationFraction: options.validationFraction, budget: options.budget)
                do {
                    try PNGCodec.write(item.render(size: options.size), to: FaceDataset.join(dir, item.imagePath))
                } catch {
                    state.fail(error)
                    return
                }
                let claims = matcher.claims(in: item.caption)
                outputs[index] = Output(
                    split: item.split, caption: item.captionJSON(stated: claims), attributes: item.attributesJSON, llava: item.llavaJSON,
                    prompt: item.promptJSON,
                    mentions: Set(claims.map(\.key)).count,
                    present: Set(claims.compactMap { if case .present(let a) = $0 { return a.name } else { return nil } }).count,
                    words: item.caption.split(separator: " ").count, pairs: item.qa.count,
                    promptItems: item.prompt.items, shortened: item.prompt.droppedItems > 0,
                    captionOver: options.budget.tokenCount(item.caption) > options.budget.maxTokens,
                    heldOutQuestions: item.truthPairs.filter(\.truth.heldOut).count, heldOutPrompt: item.prompt.heldOut)
            }
            progress?(state.add(min(options.count, (c + 1) * chunk) - c * chunk))
        }
        if let error = state.error { throw error }

        var captions = "", attributes = "", prompts = "", split: [String: [String]] = ["train": [], "val": [], "test": []]
        var mentions = 0, present = 0, words = 0, pairs = 0, items = 0, minItems = Int.max, maxItems = 0
        var shortened = 0, over = 0, heldQuestions = 0, heldPrompts = 0
        for o in outputs {
            captions += o.caption + "\n"
            attributes += o.attributes + "\n"
            prompts += o.prompt + "\n"
            split[o.split, default: []].append(o.llava)
            mentions += o.mentions; present += o.present; words += o.words; pairs += o.pairs
            items += o.promptItems; minItems = min(minItems, o.promptItems); maxItems = max(maxItems, o.promptItems)
            if o.shortened { shortened += 1 }
            if o.captionOver { over += 1 }
            heldQuestions += o.heldOutQuestions
            if o.heldOutPrompt { heldPrompts += 1 }
        }
        func array(_ items: [String]) -> String { items.isEmpty ? "[]\n" : "[\n" + items.joined(separator: ",\n") + "\n]\n" }
        try write(captions, dir, FaceDataset.captionsFile)
        try write(attributes, dir, FaceDataset.attributesFile)
        try write(prompts, dir, FaceDataset.promptsFile)
        try write(array(split["train"]!), dir, FaceDataset.trainFile)
        try write(array(split["val"]!), dir, FaceDataset.validationFile)
        try write(array(split["test"]!), dir, FaceDataset.testFile)
        try write(schemaJSON(), dir, FaceDataset.schemaFile)

        let seconds = Date().timeIntervalSince(start)
        let n = Double(options.count)
        return DatasetSummary(directory: dir, count: options.count, train: split["train"]!.count, test: split["test"]!.count, size: options.size,
                              seed: options.seed, seconds: seconds, imagesPerSecond: n / max(seconds, 1e-9),
                              meanCaptionMentions: Double(mentions) / n, meanCaptionPresentAttributes: Double(present) / n,
                              meanCaptionWords: Double(words) / n, meanQAPairs: Double(pairs) / n,
                              validation: split["val"]!.count, meanPromptItems: Double(items) / n, minPromptItems: minItems,
                              maxPromptItems: maxItems, promptsShortened: shortened, captionsOverPromptLength: over,
                              maxPromptTokens: options.budget.maxTokens, heldOutQuestions: heldQuestions, heldOutPrompts: heldPrompts)
    }

    static func write(_ text: String, _ dir: String, _ name: String) throws {
        let path = FaceDataset.join(dir, name)
        do { try AtomicFile.write(text: text, to: path) } catch let e as FileError { throw DatasetError(e.description) }
    }

    /// `schema.json`, pretty enough to read, in a fixed key order.
    public static func schemaJSON() -> String {
        let schema = DatasetSchema.current
        let q = JSONWriter.quoted
        func list(_ items: [String]) -> String { "[" + items.map(q).joined(separator: ", ") + "]" }
        let attrs = schema.attributes.map {
            "    {\"name\": \(q($0.name)), \"kind\": \(q($0.kind)), \"phrases\": \(list($0.phrases)),\n" +
                "     \"forms\": \(list($0.forms)), \"absent_forms\": \(list($0.absentForms))}"
        }
        let details = schema.details.map {
            "    {\"field\": \(q($0.field)), \"values\": \(list($0.values)), \"presence\": \(q($0.presence)),\n" +
                "     \"forms\": [\($0.forms.map(list).joined(separator: ", "))]}"
        }
        let counts = AttributeGroup.allCases.map { "\(q($0.rawValue)): \(schema.count($0))" }.joined(separator: ", ")
        return "{\n  \"version\": \(schema.version),\n  \"counts\": {\(counts)},\n  \"attributes\": [\n" +
            attrs.joined(separator: ",\n") + "\n  ],\n  \"details\": [\n" + details.joined(separator: ",\n") + "\n  ]\n}\n"
    }

    /// Progress and the first failure, shared between worker threads.
    final class SharedState: @unchecked Sendable {
        private let lock = NSLock()
        private var done = 0
        private(set) var error: Error?
        var failed: Bool { lock.lock(); defer { lock.unlock() }; return error != nil }
        func fail(_ e: Error) { lock.lock(); if error == nil { error = e }; lock.unlock() }
        func add(_ n: Int) -> Int { lock.lock(); defer { lock.unlock() }; done += n; return done }
    }
}
