import Support

// tokenizer.json: the Hugging Face `tokenizers` layout for a byte-level BPE model, plus a
// "facestudio" object inside "model" holding the words of the training text. It sits there
// because Hugging Face's BPE reader skips unknown keys while its top-level reader refuses the
// file (checked with tokenizers 0.23); files from before that move, with it at the top level,
// still load here.
//
// Reading is strict: anything this encoder would not reproduce exactly (another model type,
// normalizers, prefix spaces, dropout...) is an error naming the field, never silently ignored.

/// Failures of training arguments and of reading or writing tokenizer files. Each `description`
/// is one line; file errors start with the file and the field (`tokenizer.json: model.merges[17]: ...`).
public enum TextTokenizerError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read or written (the system's reason included).
    case io(String)
    /// The file is not valid JSON.
    case invalidJSON(source: String, line: Int, column: Int, reason: String)
    /// A field is missing or holds a value this tokenizer does not accept.
    case invalidField(source: String, field: String, reason: String)
    /// A training argument is out of range.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .io(message): return message
        case let .invalidJSON(source, line, column, reason): return "\(source): invalid JSON at line \(line), column \(column): \(reason)"
        case let .invalidField(source, field, reason): return "\(source): \(field): \(reason)"
        case let .invalidArgument(message): return "invalid argument: \(message)"
        }
    }
}

extension TextTokenizer {
    /// Version of the "facestudio" section, for future readers.
    static let fileFormatVersion = 1

    // MARK: - Writing

    /// Writes `tokenizer.json` atomically (temp file in the same directory, then rename).
    public func save(to path: String) throws {
        do {
            try AtomicFile.write(Array(serializedJSON().utf8), to: path)
        } catch let error as FileError {
            throw TextTokenizerError.io(error.description)
        }
    }

    /// The file's text: byte-for-byte the same for the same tokenizer.
    public func serializedJSON() -> String {
        let q = JSONWriter.quoted
        var out = "{\n"
        out += "  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
        out += "  \"added_tokens\": ["
        for (k, name) in specialTokens.enumerated() {
            out += k == 0 ? "\n" : ",\n"
            out += "    {\"id\": \(bpeVocabSize + k), \"content\": \(q(name)), \"single_word\": false, \"lstrip\": false, "
            out += "\"rstrip\": false, \"normalized\": false, \"special\": true}"
        }
        out += specialTokens.isEmpty ? "],\n" : "\n  ],\n"
        out += "  \"normalizer\": null,\n"
        let byteLevel = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}"
        out += "  \"pre_tokenizer\": \(byteLevel),\n"
        out += "  \"post_processor\": null,\n"
        out += "  \"decoder\": \(byteLevel),\n"
        out += "  \"model\": {\n"
        out += "    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
        out += "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
        out += "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n"
        out += "    \"vocab\": {"
        for (id, bytes) in tokenBytes.enumerated() {
            out += id == 0 ? "\n" : ",\n"
            out += "      \(q(ByteLevelAlphabet.string(for: bytes))): \(id)"
        }
        out += "\n    },\n"
        out += "    \"merges\": ["
        for (rank, merge) in merges.enumerated() {
            out += rank == 0 ? "\n" : ",\n"
            let left = ByteLevelAlphabet.string(for: tokenBytes[Int(merge.left)])
            let right = ByteLevelAlphabet.string(for: tokenBytes[Int(merge.right)])
            out += "      \(q(left + " " + right))"
        }
        out += merges.isEmpty ? "],\n" : "\n    ],\n"
        out += "    \"facestudio\": {\n      \"format\": \(Self.fileFormatVersion)"
        if let knownWords {
            // Sorted by bytes: a fixed order whatever the Set's hashing seed.
            let sorted = knownWords.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            out += ",\n      \"known_words\": ["
            for (k, word) in sorted.enumerated() { out += (k % 8 == 0 ? "\n        " : " ") + q(word) + (k + 1 < sorted.count ? "," : "") }
            out += sorted.isEmpty ? "]" : "\n      ]"
        }
        out += "\n    }\n  }\n}\n"
        return out
    }

    // MARK: - Reading

    /// Reads a `tokenizer.json` written by `save` or by Hugging Face `tokenizers` (byte-level BPE;
    /// merges as `"a b"` strings or `["a", "b"]` arrays).
    public convenience init(contentsOf path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.read(path: path, maxBytes: 256 << 20)
        } catch let error as FileError {
            throw TextTokenizerError.io(error.description)
        }
        try self.init(jsonBytes: bytes, source: path)
    }

    /// Parses tokenizer JSON from memory; `source` names it in errors.
    public convenience init(jsonBytes: [UInt8], source: String = "<memory>") throws {
        let root: JSONValue
        do {
            root = try JSONReader.parse(jsonBytes)
        } catch let error as JSONSyntaxError {
            throw TextTokenizerError.invalidJSON(source: source, line: error.line, column: error.column, reason: error.reason)
        }
        let parts = try TokenizerFileReader(source: source).read(root)
        self.init(tokenBytes: parts.tokenBytes, merges: parts.merges, specialTokens: parts.specialTokens, knownWords: parts.knownWords)
    }
}

/// Validates a parsed tokenizer.json and extracts the tokenizer's parts.
private struct TokenizerFileReader {
    let source: String

    struct Parts {
        var tokenBytes: [[UInt8]] = []
        var merges: [TextTokenizer.Merge] = []
        var specialTokens: [String] = []
        var knownWords: Set<String>? = nil
    }

    func fail(_ field: String, _ reason: String) -> TextTokenizerError {
        .invalidField(source: source, field: field, reason: reason)
    }

    func read(_ root: JSONValue) throws -> Parts {
        guard case .object = root else { throw fail("(root)", "expected an object, found \(root.kindDescription)") }
        guard let model = root["model"] else { throw fail("model", "missing") }
        guard case .object = model else { throw fail("model", "expected an object, found \(model.kindDescription)") }

        var parts = Parts()
        try checkModelOptions(model)
        let vocab = try readVocab(model["vocab"])
        parts.tokenBytes = vocab.tokenBytes
        parts.merges = try readMerges(model["merges"], vocab: vocab.ids)
        try checkPipeline(root)
        parts.specialTokens = try readAddedTokens(root["added_tokens"], vocab: vocab.ids, bpeVocabSize: vocab.tokenBytes.count)
        if let section = model["facestudio"] {
            parts.knownWords = try readKnownWords(section, field: "model.facestudio")
        } else {
            parts.knownWords = try readKnownWords(root["facestudio"], field: "facestudio")
        }
        return parts
    }

    private func checkModelOptions(_ model: JSONValue) throws {
        guard let type = model["type"] else { throw fail("model.type", "missing (expected \"BPE\")") }
        guard case let .string(name) = type, name == "BPE" else {
            let found: String
            if case let .string(name) = type { found = JSONWriter.quoted(name) } else { found = type.kindDescription }
            throw fail("model.type", "unsupported model type \(found) (expected \"BPE\")")
        }
        // Options that would change how text is split; absent, null or off is the only accepted state.
        for key in ["dropout", "continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = model[key], value != .null, value != .string(""), value != .integer(0), value != .double(0) {
                throw fail("model.\(key)", "not supported (expected null)")
            }
        }
        for key in ["byte_fallback", "ignore_merges"] {
            if let value = model[key], value != .null, value != .bool(false) {
                throw fail("model.\(key)", "not supported (expected false)")
            }
        }
    }

    private func readVocab(_ value: JSONValue?) throws -> (tokenBytes: [[UInt8]], ids: [String: Int32]) {
        guard let value else { throw fail("model.vocab", "missing") }
        guard case let .object(members) = value else { throw fail("model.vocab", "expected an object, found \(value.kindDescription)") }
        var tokenForID = [String?](repeating: nil, count: members.count)
        var ids = [String: Int32]()
        var tokenBytes = [[UInt8]](repeating: [], count: members.count)
        for (token, idValue) in members {
            let field = "model.vocab[\(JSONWriter.quoted(token))]"
            guard case let .integer(id) = idValue, id >= 0 else { throw fail(field, "expected a non-negative integer id") }
            guard id < members.count else {
                throw fail(field, "id \(id) out of range: ids must be 0..<\(members.count) without gaps")
            }
            if let other = tokenForID[id] { throw fail(field, "id \(id) is also used by \(JSONWriter.quoted(other))") }
            switch ByteLevelAlphabet.bytes(for: token) {
            case let .failure(unknown):
                throw fail(field, "not a byte-level token (character U+\(String(unknown.scalar.value, radix: 16, uppercase: true)) is not a byte symbol)")
            case let .success(bytes):
                if bytes.isEmpty { throw fail(field, "empty token") }
                tokenBytes[id] = bytes
            }
            tokenForID[id] = token
            ids[token] = Int32(id)
        }
        for byte in 0..<256 {
            let symbol = ByteLevelAlphabet.string(for: [UInt8(byte)])
            if ids[symbol] == nil {
                throw fail("model.vocab", "missing byte symbol \(JSONWriter.quoted(symbol)) (byte 0x\(String(byte, radix: 16, uppercase: true)))")
            }
        }
        return (tokenBytes, ids)
    }

    private func readMerges(_ value: JSONValue?, vocab: [String: Int32]) throws -> [TextTokenizer.Merge] {
        guard let value else { throw fail("model.merges", "missing") }
        guard case let .array(entries) = value else { throw fail("model.merges", "expected an array, found \(value.kindDescription)") }
        var merges: [TextTokenizer.Merge] = []
        var firstRank = [UInt64: Int]()
        for (rank, entry) in entries.enumerated() {
            let field = "model.merges[\(rank)]"
            let pair: (String, String)
            switch entry {
            case let .string(text):
                let halves = text.split(separator: " ", omittingEmptySubsequences: false)
                guard halves.count == 2, !halves[0].isEmpty, !halves[1].isEmpty else { throw fail(field, "expected \"a b\" pair") }
                pair = (String(halves[0]), String(halves[1]))
            case let .array(items):
                guard items.count == 2, case let .string(a) = items[0], case let .string(b) = items[1] else {
                    throw fail(field, "expected \"a b\" pair or [\"a\", \"b\"] array")
                }
                pair = (a, b)
            default:
                throw fail(field, "expected \"a b\" pair")
            }
            guard let left = vocab[pair.0] else { throw fail(field, "token \(JSONWriter.quoted(pair.0)) not in model.vocab") }
            guard let right = vocab[pair.1] else { throw fail(field, "token \(JSONWriter.quoted(pair.1)) not in model.vocab") }
            guard let result = vocab[pair.0 + pair.1] else {
                throw fail(field, "merged token \(JSONWriter.quoted(pair.0 + pair.1)) not in model.vocab")
            }
            let key = pairKey(left, right)
            if let earlier = firstRank[key] { throw fail(field, "duplicate of model.merges[\(earlier)]") }
            firstRank[key] = rank
            merges.append(TextTokenizer.Merge(left: left, right: right, result: result))
        }
        return merges
    }

    /// Normalizer, pre-tokenizer, post-processor and decoder must be what this encoder implements.
    private func checkPipeline(_ root: JSONValue) throws {
        for key in ["normalizer", "truncation", "padding"] {
            if let value = root[key], value != .null { throw fail(key, "not supported (expected null)") }
        }
        guard let pre = root["pre_tokenizer"] else { throw fail("pre_tokenizer", "missing (expected ByteLevel)") }
        try expectByteLevel(pre, field: "pre_tokenizer")
        // Hugging Face's ByteLevel defaults add_prefix_space to true, so it must be spelled out.
        if pre["add_prefix_space"] != .bool(false) { throw fail("pre_tokenizer.add_prefix_space", "must be false") }
        if let useRegex = pre["use_regex"], useRegex != .bool(true) { throw fail("pre_tokenizer.use_regex", "must be true") }
        guard let decoder = root["decoder"] else { throw fail("decoder", "missing (expected ByteLevel)") }
        try expectByteLevel(decoder, field: "decoder")
        if let post = root["post_processor"], post != .null { try expectByteLevel(post, field: "post_processor") }
    }

    private func expectByteLevel(_ value: JSONValue, field: String) throws {
        guard case .object = value else { throw fail(field, "expected an object, found \(value.kindDescription)") }
        guard value["type"] == .string("ByteLevel") else { throw fail("\(field).type", "expected \"ByteLevel\"") }
    }

    /// Special tokens: ids must follow the BPE vocabulary in order (docs/DESIGN.md "Vocabulary and
    /// sequences": text tokens, then the specials).
    private func readAddedTokens(_ value: JSONValue?, vocab: [String: Int32], bpeVocabSize: Int) throws -> [String] {
        guard let value, value != .null else { return [] }
        guard case let .array(entries) = value else { throw fail("added_tokens", "expected an array, found \(value.kindDescription)") }
        var names: [String] = []
        for (k, entry) in entries.enumerated() {
            let field = "added_tokens[\(k)]"
            guard case .object = entry else { throw fail(field, "expected an object, found \(entry.kindDescription)") }
            guard case let .integer(id) = entry["id"] ?? .null else { throw fail("\(field).id", "expected an integer") }
            guard id == bpeVocabSize + k else {
                throw fail("\(field).id", "expected \(bpeVocabSize + k) (special ids follow the \(bpeVocabSize) BPE ids in order), found \(id)")
            }
            guard case let .string(content) = entry["content"] ?? .null, !content.isEmpty else {
                throw fail("\(field).content", "expected a non-empty string")
            }
            if entry["special"] != .bool(true) { throw fail("\(field).special", "must be true (only special added tokens are supported)") }
            if vocab[content] != nil { throw fail("\(field).content", "\(JSONWriter.quoted(content)) is also in model.vocab") }
            if names.contains(content) { throw fail("\(field).content", "\(JSONWriter.quoted(content)) is listed twice") }
            names.append(content)
        }
        return names
    }

    /// The "facestudio" section (`field` says where it was found).
    private func readKnownWords(_ value: JSONValue?, field: String) throws -> Set<String>? {
        guard let value, value != .null else { return nil }
        guard case .object = value else { throw fail(field, "expected an object, found \(value.kindDescription)") }
        if let format = value["format"], format != .integer(TextTokenizer.fileFormatVersion) {
            throw fail("\(field).format", "unsupported version (expected \(TextTokenizer.fileFormatVersion))")
        }
        guard let list = value["known_words"], list != .null else { return nil }
        guard case let .array(entries) = list else { throw fail("\(field).known_words", "expected an array, found \(list.kindDescription)") }
        var words = Set<String>()
        for (k, entry) in entries.enumerated() {
            guard case let .string(word) = entry else { throw fail("\(field).known_words[\(k)]", "expected a string") }
            words.insert(word.lowercased())
        }
        return words
    }
}
