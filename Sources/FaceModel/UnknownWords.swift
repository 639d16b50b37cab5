/// The words of a prompt the text tokenizer never saw, as a warning lists them: each word once
/// (case ignored, first spelling kept), at most `limit` of them, then how many more there are.
/// A pasted paragraph repeats its unknown words; listing every occurrence buried the warning.
public struct UnknownWordList: Equatable, Sendable, CustomStringConvertible {
    public static let defaultLimit = 20

    /// The distinct words shown, in order of first appearance.
    public let shown: [String]
    /// Distinct words beyond `shown`.
    public let more: Int

    public init<Words: Sequence>(_ words: Words, limit: Int = UnknownWordList.defaultLimit) where Words.Element == String {
        var seen = Set<String>(), distinct: [String] = []
        for word in words where seen.insert(word.lowercased()).inserted { distinct.append(word) }
        shown = Array(distinct.prefix(max(limit, 0)))
        more = distinct.count - shown.count
    }

    public var isEmpty: Bool { shown.isEmpty }

    /// "a, b, c" or "a, b, c and 4 more".
    public var description: String {
        shown.joined(separator: ", ") + (more > 0 ? " and \(more) more" : "")
    }
}
