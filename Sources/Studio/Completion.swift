import FaceData

/// Tab completion of attribute phrases ("bags under eyes", "receding hairline") in the prompt.
///
/// The phrase being typed is matched against the last one to three words before the cursor, the
/// longest match first, so "bags un" completes to "bags under eyes". One candidate is completed
/// outright; several extend to their common prefix, and a further Tab cycles through them.
public struct PhraseCompleter: Sendable {
    public let phrases: [String]

    public init(phrases: [String]) {
        var seen = Set<String>()
        self.phrases = phrases.map { $0.lowercased() }.filter { seen.insert($0).inserted }.sorted()
    }

    /// Every attribute of the data set's schema.
    public static let attributes = PhraseCompleter(phrases: FaceAttribute.all.flatMap(\.phrases))

    public struct Match: Equatable, Sendable {
        /// Character offsets of the typed fragment in the text.
        public var range: Range<Int>
        public var fragment: String
        public var candidates: [String]
    }

    /// Candidates for the fragment ending at `cursor` (nil when nothing matches).
    public func match(_ characters: [Character], cursor: Int) -> Match? {
        guard cursor > 0, cursor <= characters.count, TextEditor.isWordCharacter(characters[cursor - 1]) else { return nil }
        // Word starts going back from the cursor, at most three words.
        var starts: [Int] = []
        var i = cursor
        while starts.count < 3 {
            while i > 0 && TextEditor.isWordCharacter(characters[i - 1]) { i -= 1 }
            starts.append(i)
            var j = i
            while j > 0 && characters[j - 1] == " " { j -= 1 }
            guard j < i, j > 0, TextEditor.isWordCharacter(characters[j - 1]) else { break }
            i = j
        }
        for start in starts.reversed() {
            let fragment = String(characters[start..<cursor]).lowercased()
            let candidates = phrases.filter { $0.hasPrefix(fragment) && $0 != fragment }
            if !candidates.isEmpty { return Match(range: start..<cursor, fragment: fragment, candidates: candidates) }
        }
        return nil
    }

    /// Longest common prefix of the candidates.
    public static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first else { return "" }
        for w in words.dropFirst() {
            while !w.hasPrefix(prefix) { prefix.removeLast() }
        }
        return prefix
    }
}

/// The state of repeated Tab presses: the candidates of the first press, and which one is shown.
public struct CompletionCycle: Equatable, Sendable {
    public var range: Range<Int>
    public var candidates: [String]
    public var shown: Int
}

extension TextEditor {
    /// Completes at the cursor. Returns the cycle to continue with on the next Tab, or nil.
    public mutating func complete(with completer: PhraseCompleter, continuing cycle: CompletionCycle?) -> CompletionCycle? {
        if var cycle, cycle.range.upperBound <= characters.count {
            // Next candidate in place of the one shown.
            cycle.shown = (cycle.shown + 1) % cycle.candidates.count
            let current = cycle.range
            let replacement = cycle.candidates[cycle.shown]
            replace(current, with: replacement)
            cycle.range = current.lowerBound..<(current.lowerBound + replacement.count)
            return cycle
        }
        guard let match = completer.match(characters, cursor: cursor) else { return nil }
        if match.candidates.count == 1 {
            replace(match.range, with: match.candidates[0])
            return nil
        }
        let common = PhraseCompleter.commonPrefix(match.candidates)
        if common.count > match.fragment.count {
            replace(match.range, with: common)
            return nil
        }
        replace(match.range, with: match.candidates[0])
        return CompletionCycle(range: match.range.lowerBound..<(match.range.lowerBound + match.candidates[0].count),
                               candidates: match.candidates, shown: 0)
    }
}
