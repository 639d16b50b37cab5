/// Grades a free answer against what the question asks (`TextTruth`), not against the reference
/// answer's wording: yes and no in all their forms ("yep", "nope", "not at all"), every surface
/// form of a value, and negations ("no glasses", "not smiling") as facts of absence. So "Yep,
/// she's got specs on." is right for "Is she wearing glasses?" and "Blonde." is right for
/// "What colour is her hair?" when the record says blond.
public enum TruthGrader {
    /// Whether `reply` answers the question `truth` describes correctly.
    public static func isCorrect(_ reply: String, _ truth: TextTruth) -> Bool {
        let words = PhraseMatcher.tokenize(reply)
        switch truth.kind {
        case "yesno":
            guard let expect = truth.expect else { return false }
            if let verdict = verdict(words) { return verdict == (expect == "yes") }
            // No yes/no word: the answer must state the fact itself, or its absence.
            guard let attribute = FaceAttribute(name: truth.key) else { return false }
            let said = mentions(attribute, in: words) ?? mentionsByDetail(attribute, in: words)
            return said.map { $0 == (expect == "yes") } ?? false
        case "group":
            guard let expect = truth.expect, let group = Frames.groups.first(where: { $0.name == truth.key }) else { return false }
            if let verdict = verdict(words) { return verdict == (expect == "yes") }
            // No yes/no word: naming any member says yes ("She wears red lipstick."), denying
            // every member it names says no.
            let said = group.members.compactMap { mentions(.appearance($0), in: words) }
            if said.isEmpty { return false }
            return said.contains(true) == (expect == "yes")
        case "wh", "reasoning":
            return whCorrect(words, key: truth.key, value: truth.value)
        default:
            return false
        }
    }

    /// The verdict an answer opens or closes with: yes, no, or nil when it gives none.
    public static func verdict(_ words: [String]) -> Bool? {
        let clean = words.filter { $0 != "|" }
        func starts(_ phrase: String, at i: Int) -> Bool {
            let p = phrase.split(separator: " ").map(String.init)
            return i >= 0 && i + p.count <= clean.count && Array(clean[i..<(i + p.count)]) == p
        }
        func verdictAt(_ i: Int, ending: Bool) -> Bool? {
            // Longer phrases first: "not at all" before "not", "definitely not" before "definitely".
            let all = (Lexicon.noWords.map { ($0, false) } + Lexicon.yesWords.map { ($0, true) })
                .sorted { $0.0.split(separator: " ").count > $1.0.split(separator: " ").count }
            for (phrase, yes) in all {
                let n = phrase.split(separator: " ").count
                if starts(phrase, at: ending ? clean.count - n : i) { return yes }
            }
            return nil
        }
        if clean.isEmpty { return nil }
        if let v = verdictAt(0, ending: false) {
            // "No makeup" and "none" open an answer of absence only when no noun follows a "no"
            // that is really a determiner; both read as "no" either way.
            return v
        }
        return verdictAt(0, ending: true)
    }

    /// Whether `words` say the attribute is present (true), absent (false), or neither (nil):
    /// the first form found decides; a negator within the two words before it makes it absence.
    public static func mentions(_ attribute: FaceAttribute, in words: [String]) -> Bool? {
        let forms = Lexicon.forms(attribute)
        let present = (forms.present + forms.things.map(PeopleWriter.bare)).flatMap { f in ["his", "her", "their", "the"].map { Lexicon.fill(f, poss: $0) } }
        let absent = forms.absent.flatMap { f in ["his", "her", "their", "the"].map { Lexicon.fill(f, poss: $0) } }
        let tagged = (absent.map { ($0, false) } + present.map { ($0, true) }).map { (PhraseMatcher.tokenize($0.0), $0.1) }
            .sorted { $0.0.count > $1.0.count }
        var i = 0
        while i < words.count {
            for (phrase, yes) in tagged where !phrase.isEmpty && i + phrase.count <= words.count && Array(words[i..<(i + phrase.count)]) == phrase {
                let before = words[max(0, i - 2)..<i]
                let negated = before.contains { Lexicon.negators.contains($0) || $0.hasSuffix("n't") }
                return negated ? !yes : yes
            }
            i += 1
        }
        return nil
    }

    /// For an attribute that is a view of a detail (hair colour flags, long and wavy hair, pale
    /// skin): whether the detail value `words` name for it ("long straight red hair" names a
    /// long length) has the attribute; nil when they name none.
    static func mentionsByDetail(_ attribute: FaceAttribute, in words: [String]) -> Bool? {
        guard case .appearance(let a) = attribute else { return nil }
        let field: DetailField, noun: String, has: (String) -> Bool
        switch a {
        case .blackHair, .blondHair, .brownHair, .grayHair:
            (field, noun) = (.hairColor, "hair"); has = { HairColor(rawValue: $0)?.flag == a }
        case .longHair: (field, noun) = (.hairLength, "hair"); has = { $0 == HairLength.long.rawValue }
        case .wavyHair: (field, noun) = (.hairTexture, "hair"); has = { $0 != HairTexture.straight.rawValue }
        case .paleSkin: (field, noun) = (.skinTone, "skin"); has = { $0 == SkinTone.pale.rawValue }
        default: return nil
        }
        // The value word must describe the noun: within the three words before it.
        for (i, word) in words.enumerated() where word.hasPrefix(noun) {
            let before = Array(words[max(0, i - 3)..<i])
            if let value = values(field.rawValue, in: before).last { return has(value) }
        }
        return nil
    }

    /// The values of a slot that `words` name, in order of first mention ("dark" in a hair
    /// colour answer names black). Longest forms first, each word read once.
    public static func values(_ key: String, in words: [String]) -> [String] {
        var forms: [([String], String)] = []
        switch key {
        case "emotion":
            forms = Emotion.allCases.flatMap { e in Lexicon.forms(.emotion(e)).states.map { (PhraseMatcher.tokenize($0), e.rawValue) } }
        case "action":
            forms = Action.allCases.flatMap { a in
                (Lexicon.forms(.action(a)).present + Words.gerund(a)).flatMap { f in ["his", "her", "their"].map { (PhraseMatcher.tokenize(Lexicon.fill(f, poss: $0)), a.rawValue) } }
            }
        default:
            guard let field = DetailField(rawValue: key) else { return [] }
            forms = field.values.flatMap { v in Lexicon.words(field, v).map { (PhraseMatcher.tokenize($0), v) } }
        }
        forms.sort { $0.0.count > $1.0.count }
        var out: [String] = []
        var i = 0
        while i < words.count {
            var step = 1
            for (phrase, value) in forms where !phrase.isEmpty && i + phrase.count <= words.count && Array(words[i..<(i + phrase.count)]) == phrase {
                let before = words[max(0, i - 2)..<i]
                let negated = before.contains { Lexicon.negators.contains($0) || $0.hasSuffix("n't") }
                if !negated { out.append(value) }
                step = phrase.count
                break
            }
            i += step
        }
        return out
    }

    /// A wh answer is right when the first value it names is the true one (answers state the
    /// fact asked about first) and, for actions, every action it names is shown; "none" (no
    /// action) is right when it names none.
    static func whCorrect(_ words: [String], key: String, value: String) -> Bool {
        let named = values(key, in: words)
        if key == "action" {
            let truth = value == "none" ? [] : value.split(separator: "+").map(String.init)
            if truth.isEmpty { return named.isEmpty }
            // Sleeping implies closed eyes: naming them is no mistake.
            let allowed = Set(truth + (truth.contains("sleep") ? ["eyes_closed"] : []))
            return !named.isEmpty && allowed.contains(named[0]) && named.allSatisfy { allowed.contains($0) }
        }
        return named.first == value
    }
}
