import Support

/// Questions, answers and prompts in people's own words, each with the facts it states or asks
/// beside it (`TextTruth`, `PromptFact`), written from the attribute record and the `Lexicon` by
/// the grammar's `Frames`.

/// What a question asks, for grading free answers without reading the reference answer.
public struct TextTruth: Sendable, Hashable, Codable {
    /// "yesno", "wh", "group", "describe" or "reasoning".
    public var kind: String
    /// The attribute name, detail field, "emotion", "action" or group name asked about.
    public var key: String
    /// The true value: "present"/"absent" for an attribute; a detail value; an emotion; the
    /// actions shown joined by "+" ("none" when none); a group's members present ("none").
    public var value: String
    /// "yes" or "no" for a yes/no question.
    public var expect: String?
    public var frame: String
    public var heldOut: Bool
    /// The surface form the question used for the slot, if one.
    public var form: String?

    public init(kind: String, key: String, value: String, expect: String? = nil, frame: String, heldOut: Bool, form: String? = nil) {
        self.kind = kind; self.key = key; self.value = value; self.expect = expect
        self.frame = frame; self.heldOut = heldOut; self.form = form
    }

    enum CodingKeys: String, CodingKey { case kind, key, value, expect, frame, heldOut = "heldout", form }

    var json: String {
        let q = JSONWriter.quoted
        var s = "{\"kind\":\(q(kind)),\"key\":\(q(key)),\"value\":\(q(value))"
        if let expect { s += ",\"expect\":\(q(expect))" }
        s += ",\"frame\":\(q(frame)),\"heldout\":\(heldOut)"
        if let form { s += ",\"form\":\(q(form))" }
        return s + "}"
    }
}

/// One fact a prompt states: an attribute present or absent, or a detail value.
public struct PromptFact: Sendable, Hashable, Codable {
    public var key: String
    /// "present"/"absent" for attributes, the value for detail fields.
    public var value: String
    public init(key: String, value: String) { self.key = key; self.value = value }

    public init(_ claim: Claim) {
        switch claim {
        case .present(let a): self.init(key: a.name, value: "present")
        case .absent(let a): self.init(key: a.name, value: "absent")
        case .detail(let f, let v): self.init(key: f.rawValue, value: v)
        }
    }

    /// The claim the fact makes, for the face judge.
    public var claim: Claim? {
        if let a = FaceAttribute(name: key) { return value == "absent" ? .absent(a) : .present(a) }
        if let f = DetailField(rawValue: key) { return .detail(f, value) }
        return nil
    }
    static func present(_ a: FaceAttribute, _ on: Bool = true) -> PromptFact { PromptFact(key: a.name, value: on ? "present" : "absent") }
    static func detail(_ f: DetailField, _ v: String) -> PromptFact { PromptFact(key: f.rawValue, value: v) }
}

/// A prompt with its facts.
public struct Prompt: Sendable, Hashable {
    public var text: String
    public var facts: [PromptFact]
    /// Phrases stated ("old man, bald, glasses" states 3).
    public var items: Int
    public var frame: String
    public var heldOut: Bool
    /// Items drawn but left out so that the prompt fits the model's prompt length.
    public var droppedItems: Int
}

/// A question-answer pair with what it asks.
public struct TruthPair: Sendable, Hashable {
    public var pair: QAPair
    public var truth: TextTruth
}

/// Which phrasings a split may use: training uses only seen frames and pairings; the test and
/// validation splits draw held-out ones about half the time.
public enum PhrasingPool: Sendable {
    case training, evaluation
}

struct PeopleWriter {
    let face: FaceAttributes
    var rng: FaceRNG
    let pool: PhrasingPool
    let they: Bool

    init(face: FaceAttributes, rng: FaceRNG, pool: PhrasingPool, theyChance: Float = 0.1) {
        var r = rng
        self.face = face
        they = r.chance(theyChance)
        self.rng = r
        self.pool = pool
    }

    var male: Bool { face.isMale }
    var pron: String { they ? "they" : (male ? "he" : "she") }
    var poss: String { they ? "their" : (male ? "his" : "her") }
    var obj: String { they ? "them" : (male ? "him" : "her") }
    var be: String { they ? "are" : "is" }
    var has: String { they ? "have" : "has" }
    var doesnt: String { they ? "don't" : "doesn't" }

    static func capital(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }
    static func article(_ np: String) -> String { TextContext.withArticle(np) }
    /// "a hat" → "hat"; "specs" stays.
    static func bare(_ np: String) -> String {
        for a in ["a ", "an "] where np.hasPrefix(a) { return String(np.dropFirst(a.count)) }
        return np
    }

    /// The forms whose every claim (as `PhraseMatcher` reads them) holds for the face: "no
    /// glasses" also denies sunglasses, so it is no answer for a face in shades.
    func truthful(_ forms: [String]) -> [String] {
        let kept = forms.filter { PhraseMatcher.shared.claims(in: Lexicon.fill($0, poss: poss)).allSatisfy { $0.holds(for: face) } }
        return kept.isEmpty ? forms : kept
    }

    // MARK: Frames

    /// A frame from `frames`: training picks among seen ones; evaluation picks a held-out one
    /// when `heldOut` and there is one.
    mutating func frame(_ frames: [Frame], heldOut: Bool) -> Frame {
        let seen = frames.filter { !$0.heldOut }, held = frames.filter(\.heldOut)
        switch pool {
        case .training: return rng.pick(seen.isEmpty ? frames : seen)
        case .evaluation: return rng.pick(heldOut && !held.isEmpty ? held : (seen.isEmpty ? frames : seen))
        }
    }

    /// A form for `frame` from `forms`: in training never a held-out pairing; in evaluation a
    /// held-out pairing when `wantHeld` and one exists. Returns the form and whether its pairing is held out.
    mutating func form(_ forms: [String], frame: Frame, wantHeld: Bool) -> (String, Bool) {
        let tagged = forms.enumerated().map { ($0.element, Frames.pairingHeldOut(frame: frame.id, form: $0.element, formIndex: $0.offset)) }
        let seen = tagged.filter { !$0.1 }, held = tagged.filter { $0.1 }
        if pool == .evaluation && wantHeld && !held.isEmpty { return rng.pick(held) }
        return rng.pick(seen)
    }

    /// The question subject: mostly the pronoun, sometimes "this person", "the woman", "the girl".
    mutating func subject() -> (text: String, plural: Bool) {
        switch rng.below(8) {
        case 0: return ("this person", false)
        case 1:
            let nouns = Lexicon.people(for: face).map(\.noun).filter { !["someone", "face", "individual", "female"].contains($0) }
            return ("the " + rng.pick(nouns), false)
        default: return (pron, they)
        }
    }

    /// Fills a frame's placeholders.
    mutating func render(_ frame: Frame, x: String = "", thing: (String, Bool)? = nil, group: String = "") -> String {
        let (s, plural) = subject()
        var text = frame.text
        let raw = text.hasPrefix("~")
        if raw { text.removeFirst() }
        let subjectPoss = s == pron ? poss : (s == "this person" ? "their" : "the")
        let subjectObj = s == pron ? obj : "them"
        var out = text
            .replacingOccurrences(of: "{s}", with: s)
            .replacingOccurrences(of: "{be}", with: plural ? "are" : "is")
            .replacingOccurrences(of: "{do}", with: plural ? "do" : "does")
            .replacingOccurrences(of: "{have}", with: plural ? "have" : "has")
            .replacingOccurrences(of: "{poss}", with: subjectPoss)
            .replacingOccurrences(of: "{obj}", with: subjectObj)
            .replacingOccurrences(of: "{x}", with: Lexicon.fill(x, poss: subjectPoss))
            .replacingOccurrences(of: "{g}", with: group)
        if let (t, tPlural) = thing {
            out = out.replacingOccurrences(of: "{t}", with: t).replacingOccurrences(of: "{tbe}", with: tPlural ? "are" : "is")
        }
        if raw { return out.lowercased().replacingOccurrences(of: "?", with: "") }
        return PeopleWriter.capital(out)
    }

    // MARK: Yes/no

    /// A yes/no question about one attribute, expected `yes`.
    mutating func yesNo(_ attribute: FaceAttribute, heldOut: Bool) -> TruthPair {
        let forms = Lexicon.forms(attribute)
        let on = face.has(attribute)
        // Thing frames for attributes that are things, half the time.
        let useThing = !forms.things.isEmpty && rng.chance(0.5)
        let frames = useThing ? Frames.yesNoThing : Frames.yesNoState
        let f = frame(frames, heldOut: heldOut && rng.chance(0.5))
        let candidates = useThing ? forms.things : forms.states
        var (form, pairingHeld) = self.form(on ? truthful(candidates) : candidates, frame: f, wantHeld: heldOut && !f.heldOut)
        if useThing && (f.text.hasPrefix("Any ") || f.text.hasPrefix("Spot any") || f.text == "{x}?" || f.text.hasPrefix("Got ")) {
            form = PeopleWriter.bare(form)
        }
        if !useThing && forms.gradable && !form.contains(" ") && rng.chance(0.15) { form = rng.pick(Lexicon.degreeWords) + " " + form }
        let question = render(f, x: form)
        let answer = yesNoAnswer(attribute, on: on, form: Lexicon.fill(form, poss: poss), thing: useThing, forms: forms)
        let truth = TextTruth(kind: "yesno", key: attribute.name, value: on ? "present" : "absent", expect: on ? "yes" : "no",
                              frame: f.id, heldOut: f.heldOut || pairingHeld, form: form)
        return TruthPair(pair: QAPair(question: question, answer: answer), truth: truth)
    }

    mutating func yesNoAnswer(_ attribute: FaceAttribute, on: Bool, form: String, thing: Bool, forms: Lexicon.AttributeForms) -> String {
        let P = PeopleWriter.capital(pron)
        if on {
            // A flag that covers two values ("grey-haired" for grey or white hair, "wavy" for wavy
            // or curly) is confirmed with the value itself.
            if case .appearance(let a) = attribute, Appearance.hairColorFlags.contains(a) || a == .wavyHair {
                let d = face.details
                let word = a == .wavyHair ? rng.pick(Lexicon.words(.hairTexture, d.hairTexture?.rawValue ?? "wavy"))
                                          : rng.pick(Lexicon.words(.hairColor, d.hairColor.rawValue))
                return rng.pick(["Yes.", "Yes, \(poss) hair is \(word).", "Yep, \(word)."])
            }
            let full = thing ? "\(pron) \(has) \(form)" : "\(pron) \(be) \(form)"
            return rng.pick(["Yes.", "Yep.", "Yes, \(full).", "Yeah, \(full).", "Yes - \(form).", "Yes, \(full).", "Definitely, \(full)."])
        }
        // The fact of absence first, and the fact that holds instead where there is one.
        if case .appearance(let a) = attribute, Appearance.hairColorFlags.contains(a) {
            if face.has(.bald) { return "No, \(pron) \(be) bald." }
            return "No, \(poss) hair is \(rng.pick(Lexicon.words(.hairColor, face.details.hairColor.rawValue)))."
        }
        if case .emotion = attribute {
            return "No, \(pron) \(be) \(rng.pick(Lexicon.forms(.emotion(face.emotion)).states))."
        }
        let absent = Lexicon.fill(rng.pick(truthful(forms.absent)), poss: poss)
        let full = thing ? "\(pron) \(doesnt) have \(form)" : "\(pron) \(be) not \(form)"
        let short = thing ? "\(P) \(doesnt), no." : "\(P) \(be) not, no."
        return rng.pick(["No.", "Nope.", "No, \(full).", "No, \(full).", "No - \(absent).", "Not at all, \(absent).", short])
    }

    /// An attribute for a yes/no question: one the face shows (`yes`) or does not.
    mutating func yesNoTarget(yes: Bool) -> FaceAttribute {
        let r = rng.unit()
        let pool: [FaceAttribute]
        if r < 0.15 { pool = Emotion.allCases.map { .emotion($0) } }
        else if r < 0.3 { pool = Action.allCases.map { .action($0) } }
        else { pool = Appearance.allCases.map { .appearance($0) } }
        let matching = pool.filter { face.has($0) == yes && visible($0) }
        if let pick = matching.isEmpty ? nil : rng.pick(matching) { return pick }
        let any = FaceAttribute.all.filter { face.has($0) == yes && visible($0) }
        return rng.pick(any)
    }

    /// Whether the render can show the attribute's state (the eyes behind sunglasses cannot).
    func visible(_ a: FaceAttribute) -> Bool {
        if case .action(let act) = a, face.has(.sunglasses), ActionRules.needsVisibleEyes.contains(act) { return false }
        if case .appearance(.bagsUnderEyes) = a, face.has(.sunglasses) { return false }
        return true
    }

    // MARK: Wh

    /// The wh keys that can be asked of this face (details present and visible, emotion, action).
    var whKeys: [String] {
        var keys = DetailField.allCases.filter { f in
            guard face.details.value(f) != nil else { return false }
            if f == .hairColor || f == .hairLength || f == .hairTexture { return !face.has(.bald) }
            if f == .eyeColor { return face.eyeColorVisible }
            return true
        }.map(\.rawValue)
        keys += ["emotion", "action"]
        return keys
    }

    mutating func wh(_ key: String, heldOut: Bool) -> TruthPair {
        let f = frame(Frames.wh(key), heldOut: heldOut)
        let colour = Frames.colourThing[key]
        let question = render(f, thing: colour.map { ($0.thing, $0.plural) })
        let value: String, answer: String
        switch key {
        case "emotion":
            value = face.emotion.rawValue
            let w = rng.pick(Lexicon.forms(.emotion(face.emotion)).states)
            answer = rng.pick(["\(PeopleWriter.capital(w)).", "\(PeopleWriter.capital(pron)) \(be) \(w).", "\(PeopleWriter.capital(pron)) \(they ? "seem" : "seems") \(w).",
                               "\(PeopleWriter.capital(w)), by the look of \(obj)."])
        case "action":
            var acts = TextContext.actionPriority.filter { face.has($0) }
            if face.has(.sleep) { acts.removeAll { $0 == .eyesClosed } }
            value = acts.isEmpty ? "none" : acts.map(\.rawValue).joined(separator: "+")
            if acts.isEmpty {
                answer = rng.pick(["Nothing in particular.", "Nothing much, \(pron) \(be) just looking at the camera.", "Nothing, just posing."])
            } else {
                let words = acts.map { Lexicon.fill(rng.pick(Lexicon.forms(.action($0)).states), poss: poss) }
                let list = TextContext.list(words)
                answer = rng.pick(["\(PeopleWriter.capital(list)).", "\(PeopleWriter.capital(pron)) \(be) \(list).", "\(PeopleWriter.capital(list)), it seems."])
            }
        default:
            let field = DetailField(rawValue: key)!
            value = face.details.value(field) ?? ""
            let w = rng.pick(Lexicon.words(field, value))
            answer = detailAnswer(field, word: w)
        }
        return TruthPair(pair: QAPair(question: question, answer: answer),
                         truth: TextTruth(kind: "wh", key: key, value: value, frame: f.id, heldOut: f.heldOut))
    }

    /// A short or full answer naming the detail first.
    mutating func detailAnswer(_ field: DetailField, word w: String) -> String {
        let W = PeopleWriter.capital(w), P = PeopleWriter.capital(pron), Poss = PeopleWriter.capital(poss)
        if let (thing, plural) = Frames.colourThing[field.rawValue] {
            let verb = plural ? "are" : "is"
            return rng.pick(["\(W).", "\(Poss) \(thing) \(verb) \(w).", "\(W) - \(poss) \(thing) \(verb) \(w)."])
        }
        let plural = w.hasSuffix("s") && !w.hasSuffix("ss")
        switch field {
        case .hatKind: return rng.pick(["\(PeopleWriter.capital(PeopleWriter.article(w))).", "\(P) \(be) wearing \(PeopleWriter.article(w)).", "\(W)."])
        case .necklaceKind:
            let np = plural ? w : PeopleWriter.article(w)
            return rng.pick(["\(PeopleWriter.capital(np)).", "\(P) \(be) wearing \(np).", "\(W)."])
        case .earringKind:
            let np = plural ? w : "\(w) earrings"
            return rng.pick(["\(PeopleWriter.capital(np)).", "\(P) \(be) wearing \(np).", "\(W)."])
        case .earringMaterial, .necklaceMaterial:
            let thing = field == .earringMaterial ? "earrings are" : "necklace is"
            return rng.pick(["\(W).", "\(Poss) \(thing) \(w).", "\(W), I think."])
        case .eyewearStyle:
            let glasses = face.has(.sunglasses) ? rng.pick(["sunglasses", "shades"]) : rng.pick(["glasses", "specs"])
            return rng.pick(["\(W) ones.", "\(W) \(glasses).", "\(Poss) \(glasses) are \(w)."])
        case .hairLength, .hairTexture: return rng.pick(["\(W).", "\(Poss) hair is \(w).", "It's \(w)."])
        case .faceShape: return rng.pick(["\(W).", "\(Poss) face is \(w).", "\(W), mostly."])
        case .skinTone: return rng.pick(["\(W).", "\(P) \(has) \(w) skin.", "\(Poss) skin is \(w)."])
        default: return "\(W)."
        }
    }

    // MARK: Groups

    mutating func group(_ g: Frames.Group, heldOut: Bool) -> TruthPair {
        let frames = Frames.groupGeneric + g.frames
        let f = frame(frames, heldOut: heldOut)
        let noun = rng.pick(g.nouns)
        let question = render(f, group: noun)
        let shown = g.members.filter { face.has($0) }
        let value = shown.isEmpty ? "none" : shown.map(\.rawValue).joined(separator: "+")
        let answer: String
        if shown.isEmpty {
            answer = rng.pick(["No, none.", "No, \(pron) \(has) no \(noun).", "Nope, no \(noun) at all.", "Not at all.", "No."])
        } else {
            let things = TextContext.list(shown.map { rng.pick(truthful(Lexicon.forms(.appearance($0)).things)) })
            answer = rng.pick(["Yes, \(things).", "Yes - \(things).", "Yep: \(things).", "Yes, \(pron) \(has) \(things)."])
        }
        return TruthPair(pair: QAPair(question: question, answer: answer),
                         truth: TextTruth(kind: "group", key: g.name, value: value, expect: shown.isEmpty ? "no" : "yes",
                                          frame: f.id, heldOut: f.heldOut))
    }

    // MARK: Describe

    mutating func describe(caption: String, heldOut: Bool) -> TruthPair {
        let f = frame(Frames.describe, heldOut: heldOut)
        return TruthPair(pair: QAPair(question: render(f), answer: caption),
                         truth: TextTruth(kind: "describe", key: "all", value: "caption", frame: f.id, heldOut: f.heldOut))
    }
}

/// The VQA pairs of one image in people's words (≥ 8): a describe request, the emotion, three
/// yes/no questions (one true, one false, one either), two wh-questions, a group question, and
/// half the time the reasoning question (the cue behind the emotion or action).
public enum PeopleVQA {
    public static func pairs(for face: FaceAttributes, caption: String, pool: PhrasingPool, rng: inout FaceRNG) -> [TruthPair] {
        var w = PeopleWriter(face: face, rng: rng, pool: pool)
        func held() -> Bool { pool == .evaluation && w.rng.chance(0.5) }
        var out: [TruthPair] = []
        out.append(w.describe(caption: caption, heldOut: held()))
        out.append(w.wh("emotion", heldOut: held()))
        for yes in [true, false, w.rng.chance(0.5)] { out.append(w.yesNo(w.yesNoTarget(yes: yes), heldOut: held())) }
        var keys = w.whKeys.filter { $0 != "emotion" }
        w.rng.shuffle(&keys)
        for key in keys.prefix(2) { out.append(w.wh(key, heldOut: held())) }
        out.append(w.group(w.rng.pick(Frames.groups), heldOut: held()))
        if w.rng.chance(0.5) {
            var old = TextContext(face: face, rng: w.rng, theyChance: 0)
            let pair = old.reasoningQuestion()
            w.rng = old.rng
            var acts = TextContext.actionPriority.filter { face.has($0) }
            if face.has(.sleep) { acts.removeAll { $0 == .eyesClosed } }
            let truth = acts.isEmpty
                ? TextTruth(kind: "reasoning", key: "emotion", value: face.emotion.rawValue, frame: "reasoning", heldOut: false)
                : TextTruth(kind: "reasoning", key: "action", value: acts.map(\.rawValue).joined(separator: "+"), frame: "reasoning", heldOut: false)
            out.append(TruthPair(pair: pair, truth: truth))
        }
        // The describe request stays first (it carries the image); the rest in any order.
        var rest = Array(out.dropFirst())
        w.rng.shuffle(&rest)
        rng = w.rng
        return [out[0]] + rest
    }
}
