import Foundation
import Imaging

// The on-disk records of a data set and their loaders. Loaders read with Support's strict JSON
// reader, so every error is one line naming the file and the line or record index.

/// A data-set file could not be read: `description` is one line that starts with the file and
/// says where in it (line or record) and what is wrong.
public struct DatasetError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// One line of `captions.jsonl`.
public struct CaptionRecord: Codable, Hashable, Sendable {
    public var id: String
    /// Image path relative to the data-set directory ("images/<id>.png").
    public var image: String
    /// "train", "val" or "test".
    public var split: String
    public var caption: String
    /// Names of the attributes present, in schema order.
    public var attributes: [String]
    /// Detail field -> value, for the fields present.
    public var details: [String: String]

    public init(id: String, image: String, split: String, caption: String, attributes: [String], details: [String: String]) {
        self.id = id; self.image = image; self.split = split; self.caption = caption
        self.attributes = attributes; self.details = details
    }
}

/// One line of `attributes.jsonl`: the 46 attributes as a 0/1 vector in schema order.
public struct AttributeRecord: Codable, Hashable, Sendable {
    public var id: String
    public var split: String
    public var vector: [Int]
    public var details: [String: String]

    public init(id: String, split: String, vector: [Int], details: [String: String]) {
        self.id = id; self.split = split; self.vector = vector; self.details = details
    }
}

/// One turn of a LLaVA conversation: `from` is "human" or "gpt".
public struct LLaVATurn: Codable, Hashable, Sendable {
    public var from: String
    public var value: String
    public init(from: String, value: String) { self.from = from; self.value = value }
}

/// One LLaVA record: an image and a conversation about it; the first human turn holds `<image>`.
public struct LLaVARecord: Codable, Hashable, Sendable {
    public var id: String
    public var image: String
    public var conversations: [LLaVATurn]
    /// What each question asks (this data set's extra key "truth", one per pair; nil when the
    /// file has none, as in other LLaVA data sets).
    public var truth: [TextTruth]?
    public init(id: String, image: String, conversations: [LLaVATurn], truth: [TextTruth]? = nil) {
        self.id = id; self.image = image; self.conversations = conversations; self.truth = truth
    }

    /// The (question, answer) pairs, with the `<image>` placeholder taken out of the questions.
    public var pairs: [QAPair] {
        stride(from: 0, to: conversations.count - 1, by: 2).map { i in
            QAPair(question: LLaVAFormat.stripImageToken(conversations[i].value), answer: conversations[i + 1].value)
        }
    }
}

/// Conventions of the LLaVA conversation format.
public enum LLaVAFormat {
    public static let imageToken = "<image>"
    public static let human = "human"
    public static let gpt = "gpt"

    /// Turns `pairs` into alternating human/gpt turns; the first question carries `<image>\n`.
    public static func conversation(_ pairs: [QAPair]) -> [LLaVATurn] {
        var turns: [LLaVATurn] = []
        for (i, pair) in pairs.enumerated() {
            turns.append(LLaVATurn(from: human, value: i == 0 ? "\(imageToken)\n\(pair.question)" : pair.question))
            turns.append(LLaVATurn(from: gpt, value: pair.answer))
        }
        return turns
    }

    /// The question without the placeholder and the whitespace around it.
    public static func stripImageToken(_ text: String) -> String {
        text.replacingOccurrences(of: imageToken, with: "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// `schema.json`: the attributes in order (with group and phrases) and the detail fields.
public struct DatasetSchema: Codable, Hashable, Sendable {
    public struct Attribute: Codable, Hashable, Sendable {
        public var name: String
        /// "appearance", "action" or "emotion".
        public var kind: String
        public var phrases: [String]
        /// The lexicon's surface forms that say it is present, and absent (empty in schemas
        /// older than version 5).
        public var forms: [String] = []
        public var absentForms: [String] = []
    }
    public struct Detail: Codable, Hashable, Sendable {
        public var field: String
        public var values: [String]
        /// When the field is present ("always", "with earrings", "unless bald", ...).
        public var presence: String
        /// The lexicon's surface forms of each value, in `values` order (empty before version 5).
        public var forms: [[String]] = []
    }
    public var version: Int
    public var attributes: [Attribute]
    public var details: [Detail]

    /// The schema this build of FaceData writes. The version also counts changes to the text
    /// written from it (2: hair-colour yes/no answers name the colour before the verdict; 3:
    /// training images get one more hair-colour question), so that a data set made by an older
    /// build can be told apart and made again. 5: the lexicon's surface forms, questions, answers
    /// and prompts in people's words with their truth, held-out phrasings, a validation split
    /// (4 was a trial that was not kept).
    public static var current: DatasetSchema {
        DatasetSchema(
            version: 5,
            attributes: FaceAttribute.all.map {
                let f = Lexicon.forms($0)
                return Attribute(name: $0.name, kind: $0.group.rawValue, phrases: $0.phrases, forms: f.present, absentForms: f.absent)
            },
            details: DetailField.allCases.map { field in
                Detail(field: field.rawValue, values: field.values, presence: field.presence,
                       forms: field.values.map { Lexicon.words(field, $0) })
            })
    }

    public func count(_ kind: AttributeGroup) -> Int { attributes.filter { $0.kind == kind.rawValue }.count }
}

// MARK: - Loaders

public enum FaceDataset {
    public static let captionsFile = "captions.jsonl"
    public static let attributesFile = "attributes.jsonl"
    public static let schemaFile = "schema.json"
    public static let trainFile = "llava_train.json"
    public static let validationFile = "llava_val.json"
    public static let testFile = "llava_test.json"
    public static let promptsFile = "prompts.jsonl"

    /// One line of `prompts.jsonl`.
    public struct PromptRecord: Sendable, Hashable {
        public var id: String
        public var image: String
        public var split: String
        public var prompt: String
        public var items: Int
        public var frame: String
        public var heldOut: Bool
        public var facts: [PromptFact]
    }

    /// Reads `prompts.jsonl` in `directory`.
    public static func loadPrompts(directory: String) throws -> [PromptRecord] {
        try loadLines(path: join(directory, promptsFile)) { value, place in
            let o = try JSONFields(value, place)
            return PromptRecord(id: try o.string("id"), image: try o.string("image"), split: try o.split(), prompt: try o.string("prompt"),
                                items: try o.int("items"), frame: try o.string("frame"), heldOut: try o.bool("heldout"),
                                facts: try o.objects("facts").enumerated().map { i, f in
                                    let fact = try JSONFields(f, "\(place): facts[\(i)]")
                                    return PromptFact(key: try fact.string("key"), value: try fact.string("value"))
                                })
        }
    }

    /// Reads `captions.jsonl` in `directory`.
    public static func loadCaptions(directory: String) throws -> [CaptionRecord] {
        try loadLines(path: join(directory, captionsFile)) { value, place in
            let o = try JSONFields(value, place)
            return CaptionRecord(id: try o.string("id"), image: try o.string("image"), split: try o.split(),
                                 caption: try o.string("caption"), attributes: try o.strings("attributes"),
                                 details: try o.stringMap("details"))
        }
    }

    /// Reads `attributes.jsonl` in `directory`; every vector must have one entry per attribute.
    public static func loadAttributes(directory: String) throws -> [AttributeRecord] {
        try loadLines(path: join(directory, attributesFile)) { value, place in
            let o = try JSONFields(value, place)
            let vector = try o.ints("vector")
            if vector.count != FaceAttribute.all.count || vector.contains(where: { $0 != 0 && $0 != 1 }) {
                throw DatasetError("\(place): \"vector\" must hold \(FaceAttribute.all.count) values of 0 or 1")
            }
            return AttributeRecord(id: try o.string("id"), split: try o.split(), vector: vector, details: try o.stringMap("details"))
        }
    }

    /// Reads a LLaVA conversation file (a JSON array of records). Ids may be strings or integers.
    public static func loadLLaVA(path: String) throws -> [LLaVARecord] {
        guard case let .array(items) = try parseFile(path) else {
            throw DatasetError("\(path): expected a JSON array of records")
        }
        return try items.enumerated().map { index, item in
            let place = "\(path): record \(index)"
            let o = try JSONFields(item, place)
            guard case let .array(turns)? = o.value["conversations"] else {
                throw DatasetError("\(place): \"conversations\" must be an array")
            }
            let conversation = try turns.enumerated().map { t, turn -> LLaVATurn in
                let f = try JSONFields(turn, "\(place): turn \(t)")
                return LLaVATurn(from: try f.string("from"), value: try f.string("value"))
            }
            var truth: [TextTruth]?
            if o.value["truth"] != nil {
                truth = try o.objects("truth").enumerated().map { t, v in
                    let f = try JSONFields(v, "\(place): truth[\(t)]")
                    return TextTruth(kind: try f.string("kind"), key: try f.string("key"), value: try f.string("value"),
                                     expect: try f.optionalString("expect"), frame: try f.string("frame"), heldOut: try f.bool("heldout"),
                                     form: try f.optionalString("form"))
                }
                if truth!.count != conversation.count / 2 {
                    throw DatasetError("\(place): \"truth\" has \(truth!.count) entries for \(conversation.count / 2) question-answer pairs")
                }
            }
            return LLaVARecord(id: try o.id(), image: try o.string("image"), conversations: conversation, truth: truth)
        }
    }

    /// Reads `schema.json` in `directory`.
    public static func loadSchema(directory: String) throws -> DatasetSchema {
        let path = join(directory, schemaFile)
        let o = try JSONFields(try parseFile(path), path)
        guard case let .array(attrs)? = o.value["attributes"], case let .array(fields)? = o.value["details"] else {
            throw DatasetError("\(path): \"attributes\" and \"details\" must be arrays")
        }
        let attributes = try attrs.enumerated().map { i, v -> DatasetSchema.Attribute in
            let a = try JSONFields(v, "\(path): attributes[\(i)]")
            return DatasetSchema.Attribute(name: try a.string("name"), kind: try a.string("kind"), phrases: try a.strings("phrases"),
                                           forms: a.value["forms"] == nil ? [] : try a.strings("forms"),
                                           absentForms: a.value["absent_forms"] == nil ? [] : try a.strings("absent_forms"))
        }
        let details = try fields.enumerated().map { i, v -> DatasetSchema.Detail in
            let f = try JSONFields(v, "\(path): details[\(i)]")
            let forms = f.value["forms"] == nil ? [] : try f.objects("forms").enumerated().map { j, v -> [String] in
                guard case let .array(items) = v else { throw DatasetError("\(path): details[\(i)]: \"forms[\(j)]\" must be an array of strings") }
                return try items.map { item in
                    guard case let .string(s) = item else { throw DatasetError("\(path): details[\(i)]: \"forms[\(j)]\" must hold strings") }
                    return s
                }
            }
            return DatasetSchema.Detail(field: try f.string("field"), values: try f.strings("values"), presence: try f.string("presence"), forms: forms)
        }
        return DatasetSchema(version: try o.int("version"), attributes: attributes, details: details)
    }

    // MARK: Plumbing

    static func join(_ directory: String, _ name: String) -> String {
        directory.isEmpty ? name : (directory.hasSuffix("/") ? directory + name : directory + "/" + name)
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        do { return try AtomicFile.read(path: path) } catch let e as FileError { throw DatasetError(e.description) }
    }

    static func parseFile(_ path: String) throws -> JSONValue {
        let bytes = try readFile(path)
        do { return try JSONReader.parse(bytes) } catch let e as JSONSyntaxError { throw DatasetError("\(path): \(e.description)") }
    }

    /// JSON Lines: one value per non-empty line; errors name the 1-based line.
    static func loadLines<T>(path: String, _ decode: (JSONValue, String) throws -> T) throws -> [T] {
        let bytes = try readFile(path)
        var out: [T] = []
        var start = 0, line = 1
        while start < bytes.count {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let slice = Array(bytes[start..<end])
            if slice.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) {
                let place = "\(path):\(line)"
                let value: JSONValue
                do { value = try JSONReader.parse(slice) } catch let e as JSONSyntaxError {
                    throw DatasetError("\(place): \(e.reason) (column \(e.column))")
                }
                out.append(try decode(value, place))
            }
            start = end + 1
            line += 1
        }
        return out
    }
}

/// Typed access to an object's members with one-line errors naming the place and the key.
struct JSONFields {
    let value: JSONValue
    let place: String

    init(_ value: JSONValue, _ place: String) throws {
        guard case .object = value else { throw DatasetError("\(place): expected an object, found \(value.kindDescription)") }
        self.value = value
        self.place = place
    }

    func member(_ key: String) throws -> JSONValue {
        guard let v = value[key] else { throw DatasetError("\(place): missing \"\(key)\"") }
        return v
    }
    func wrong(_ key: String, _ expected: String, _ found: JSONValue) -> DatasetError {
        DatasetError("\(place): \"\(key)\" must be \(expected), found \(found.kindDescription)")
    }
    func string(_ key: String) throws -> String {
        let v = try member(key)
        guard case let .string(s) = v else { throw wrong(key, "a string", v) }
        return s
    }
    func int(_ key: String) throws -> Int {
        let v = try member(key)
        guard case let .integer(i) = v else { throw wrong(key, "an integer", v) }
        return i
    }
    /// An id: a string, or an integer written as one.
    func id() throws -> String {
        let v = try member("id")
        switch v {
        case .string(let s): return s
        case .integer(let i): return String(i)
        default: throw wrong("id", "a string or an integer", v)
        }
    }
    func split() throws -> String {
        let s = try string("split")
        guard s == "train" || s == "val" || s == "test" else {
            throw DatasetError("\(place): \"split\" must be \"train\", \"val\" or \"test\", found \"\(s)\"")
        }
        return s
    }
    func bool(_ key: String) throws -> Bool {
        let v = try member(key)
        guard case let .bool(b) = v else { throw wrong(key, "true or false", v) }
        return b
    }
    func optionalString(_ key: String) throws -> String? {
        guard let v = value[key] else { return nil }
        guard case let .string(s) = v else { throw wrong(key, "a string", v) }
        return s
    }
    func objects(_ key: String) throws -> [JSONValue] {
        let v = try member(key)
        guard case let .array(items) = v else { throw wrong(key, "an array", v) }
        return items
    }
    func strings(_ key: String) throws -> [String] {
        let v = try member(key)
        guard case let .array(items) = v else { throw wrong(key, "an array of strings", v) }
        return try items.enumerated().map { i, item in
            guard case let .string(s) = item else { throw wrong("\(key)[\(i)]", "a string", item) }
            return s
        }
    }
    func ints(_ key: String) throws -> [Int] {
        let v = try member(key)
        guard case let .array(items) = v else { throw wrong(key, "an array of integers", v) }
        return try items.enumerated().map { i, item in
            guard case let .integer(n) = item else { throw wrong("\(key)[\(i)]", "an integer", item) }
            return n
        }
    }
    func stringMap(_ key: String) throws -> [String: String] {
        let v = try member(key)
        guard case let .object(members) = v else { throw wrong(key, "an object of strings", v) }
        var out: [String: String] = [:]
        for (k, item) in members {
            guard case let .string(s) = item else { throw wrong("\(key).\(k)", "a string", item) }
            out[k] = s
        }
        return out
    }
}

extension FaceAttributes {
    /// The ground truth a caption record describes: attribute names (any of the 46) and detail
    /// values, as written to `captions.jsonl`.
    public init(names: [String], details: [String: String]) throws {
        var appearance: [String] = [], actions: [String] = [], emotion: String? = nil
        for name in names {
            switch FaceAttribute(name: name) {
            case .appearance?: appearance.append(name)
            case .action?: actions.append(name)
            case .emotion?: emotion = name
            case nil: throw DatasetError("unknown attribute \"\(name)\"")
            }
        }
        let object: [String: Any] = ["appearance": appearance, "actions": actions, "emotion": emotion ?? Emotion.neutral.rawValue, "details": details]
        let data = try JSONSerialization.data(withJSONObject: object)
        do { self = try JSONDecoder().decode(FaceAttributes.self, from: data) } catch {
            throw DatasetError("details \(details): \(error)")
        }
    }
}
