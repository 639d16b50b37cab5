/// Detailed, varied captions written from the attribute record alone.
///
/// A caption opens with who is pictured, then describes face, hair, eyes, brows, eyewear, nose,
/// mouth and makeup, facial hair, jewellery, hat, expression and actions in a shuffled order,
/// with varied templates, synonyms and references (she / the woman / they). Every word that
/// claims something comes from `Phrases`/`Words`, so `PhraseMatcher` can check it; details that
/// the render hides (eye colour behind sunglasses or closed lids) are never mentioned.
public enum CaptionWriter {
    public static func caption(for face: FaceAttributes, rng: inout FaceRNG) -> String {
        var w = TextContext(face: face, rng: rng, theyChance: 0.2)
        var body: [String] = []
        var tail: [String] = []
        w.sentence(w.faceSentence(), into: &body)
        w.sentence(w.hairSentence(), into: &body)
        w.sentence(w.eyesSentence(), into: &body)
        w.sentence(w.browsSentence(), into: &body)
        w.sentence(w.eyewearSentence(), into: &body)
        w.sentence(w.noseSentence(), into: &body)
        w.sentence(w.mouthSentence(), into: &body)
        w.sentence(w.facialHairSentence(), into: &body)
        w.sentence(w.jewelrySentence(), into: &body)
        w.sentence(w.hatSentence(), into: &body)
        w.rng.shuffle(&body)
        w.sentence(w.expressionSentence(), into: &tail)
        w.sentence(w.actionSentence(), into: &tail)
        // Expression and actions either right after the introduction or at the end.
        let parts = w.rng.chance(0.4) ? [w.intro()] + tail + body : [w.intro()] + body + tail
        rng = w.rng
        return parts.joined(separator: " ")
    }
}

/// Shared state of one text: the face, the random stream, how the person is referred to, and
/// what has already been said (so that no detail is repeated).
struct TextContext {
    let face: FaceAttributes
    var rng: FaceRNG
    /// Refer to the person as "they" throughout (else she / he).
    let they: Bool
    var said: Set<String> = []

    init(face: FaceAttributes, rng: FaceRNG, theyChance: Float) {
        var r = rng
        self.face = face
        they = r.chance(theyChance)
        self.rng = r
    }

    var d: FaceDetails { face.details }
    var male: Bool { face.isMale }

    // MARK: Words for the person

    /// Subject: "she", "they", or now and then "the woman".
    mutating func subject() -> String {
        if rng.chance(0.15) { return "the " + rng.pick(male ? ["man", "gentleman"] : ["woman", "lady"]) }
        return they ? "they" : (male ? "he" : "she")
    }
    var pronoun: String { they ? "they" : (male ? "he" : "she") }
    var poss: String { they ? "their" : (male ? "his" : "her") }
    var obj: String { they ? "them" : (male ? "him" : "her") }
    /// Verb agreeing with `subject` ("has"/"have"); `s` is the subject just used.
    func verb(_ s: String, _ third: String, _ plural: String) -> String { s == "they" ? plural : third }
    func has(_ s: String) -> String { verb(s, "has", "have") }
    func isVerb(_ s: String) -> String { verb(s, "is", "are") }
    func wears(_ s: String) -> String { verb(s, "wears", "wear") }
    func looks(_ s: String) -> String { verb(s, "looks", "look") }
    func does(_ s: String) -> String { verb(s, "does", "do") }

    var personNoun: [String] { male ? ["man", "gentleman", "guy"] : ["woman", "lady"] }
    var ageWord: [String] { face.has(.young) ? ["young", "youthful"] : ["older", "middle-aged", "elderly", "mature"] }

    // MARK: Helpers

    mutating func sentence(_ s: String?, into list: inout [String]) {
        if let s, !s.isEmpty { list.append(s) }
    }

    /// "a"/"an" for the word that follows.
    static func article(_ next: String) -> String {
        guard let c = next.first else { return "a" }
        return "aeio".contains(c) ? "an" : "a"
    }
    static func withArticle(_ phrase: String) -> String { "\(article(phrase)) \(phrase)" }

    /// Capitalises the first letter and ends with a full stop.
    static func finish(_ s: String) -> String {
        guard let first = s.first else { return s }
        let text = first.uppercased() + s.dropFirst()
        return text.hasSuffix(".") || text.hasSuffix("?") ? text : text + "."
    }

    /// "a, b and c".
    static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
        }
    }

    mutating func pick(_ options: [String]) -> String { rng.pick(options) }

    // MARK: Noun phrases from the record

    mutating func hairNP(length: Bool = true, texture: Bool = true, color: Bool = true) -> String {
        rng.pick(Phrases.hair(length: length ? d.hairLength : nil, texture: texture ? d.hairTexture : nil,
                              color: color ? d.hairColor : nil))
    }
    mutating func eyewearNP() -> String? {
        if face.has(.eyeglasses) {
            return rng.pick(Phrases.glasses(style: rng.chance(0.8) ? d.eyewearStyle : nil, frame: rng.chance(0.8) ? d.frameColor : nil))
        }
        if face.has(.sunglasses) {
            return rng.pick(Phrases.sunglasses(style: rng.chance(0.7) ? d.eyewearStyle : nil, lens: rng.chance(0.8) ? d.lensColor : nil))
        }
        return nil
    }
    mutating func earringsNP() -> String? {
        guard face.has(.earrings) else { return nil }
        return rng.pick(Phrases.earrings(kind: rng.chance(0.85) ? d.earringKind : nil, material: rng.chance(0.85) ? d.earringMaterial : nil))
    }
    mutating func necklaceNP() -> String? {
        guard face.has(.necklace) else { return nil }
        let detailed = rng.chance(0.85)
        return TextContext.withArticle(rng.pick(Phrases.necklace(kind: detailed ? d.necklaceKind : nil,
                                                                 material: detailed ? d.necklaceMaterial : nil)))
    }
    mutating func hatNP() -> String? {
        guard face.has(.hat) else { return nil }
        return TextContext.withArticle(rng.pick(Phrases.hat(kind: d.hatKind, color: rng.chance(0.85) ? d.hatColor : nil)))
    }
    mutating func lipstickNP() -> String? {
        guard face.has(.lipstick) else { return nil }
        return rng.pick(Phrases.lipstick(rng.chance(0.9) ? d.lipstickColor : nil).filter { $0.hasSuffix("lipstick") })
    }

    // MARK: Sentences

    mutating func intro() -> String {
        var adjectives: [String] = []
        if rng.chance(0.3) {
            adjectives.append(face.emotion == .happy && rng.chance(0.5) ? "smiling" : rng.pick(Words.emotion(face.emotion)))
            said.insert("emotion")
        }
        adjectives.append(rng.pick(ageWord))
        if rng.chance(0.25) {
            adjectives.append(rng.pick(Words.skin(d.skinTone)) + "-skinned")
            said.insert("skin")
        }
        let person = TextContext.withArticle(Phrases.join(adjectives + [rng.pick(personNoun)]))
        let shot = pick(["photo", "portrait", "close-up photo", "headshot", "picture"])
        switch rng.below(4) {
        case 0: return TextContext.finish("\(TextContext.withArticle(shot)) of \(person)")
        case 1: return TextContext.finish("this \(shot) shows \(person)")
        case 2: return TextContext.finish("\(person) \(pick(["is pictured from the shoulders up", "appears in this close-up", "is shown in a portrait"]))")
        default: return TextContext.finish("the \(shot) features \(person)")
        }
    }

    mutating func faceSentence() -> String? {
        let shape = rng.pick(Words.shape(d.faceShape))
        let build = face.has(.chubby) ? rng.pick(["chubby", "plump"]) : (rng.chance(0.4) ? rng.pick(["slim", "slender"]) : nil)
        let faceNP = TextContext.withArticle(Phrases.join([build.map { $0 + "," } ?? "", shape, "face"]))
        if said.contains("skin") {
            let s = subject()
            return TextContext.finish("\(s) \(has(s)) \(faceNP)")
        }
        let skin = rng.pick(Phrases.skin(d.skinTone))
        let s = subject()
        switch rng.below(3) {
        case 0: return TextContext.finish("\(s) \(has(s)) \(faceNP) and \(skin)")
        case 1:
            let b = build.map { $0 + " and " } ?? ""
            return TextContext.finish("\(poss) face is \(b)\(shape), and \(poss) \(rng.pick(Phrases.skinIs(d.skinTone)))")
        default: return TextContext.finish("\(s) \(has(s)) \(skin) and \(faceNP)")
        }
    }

    mutating func hairSentence() -> String? {
        let s = subject()
        if face.has(.bald) {
            return TextContext.finish(rng.chance(0.5) ? "\(s) \(isVerb(s)) \(pick(["bald", "completely bald"]))"
                                                      : "\(s) \(has(s)) a shiny bald head")
        }
        var extras: [String] = []
        if face.has(.bangs) { extras.append(pick(["bangs", "a fringe"])) }
        if face.has(.recedingHairline) { extras.append("a receding hairline") }
        let extra = extras.isEmpty ? "" : " with " + TextContext.list(extras)
        if let hat = hatNP(), rng.chance(0.6) {
            said.insert("hat")
            return TextContext.finish("\(s) \(wears(s)) \(hat) over \(poss) \(hairNP())\(extra)")
        }
        switch rng.below(3) {
        case 1 where extras.isEmpty:
            let verb = d.hairLength == .long && rng.chance(0.5) ? "falls past \(poss) shoulders" : "frames \(poss) face"
            return TextContext.finish("\(poss) \(hairNP()) \(verb)")
        case 0, 1: return TextContext.finish("\(s) \(has(s)) \(hairNP())\(extra)")
        default:
            let color = rng.pick(Words.hairColor(d.hairColor))
            return TextContext.finish("\(s) \(has(s)) \(hairNP(color: false))\(extra), and \(poss) \(Phrases.hairIs(color))")
        }
    }

    mutating func eyesSentence() -> String? {
        let bags = face.has(.bagsUnderEyes)
        let makeup = face.has(.heavyMakeup)
        var extras: [String] = []
        if bags { extras.append("bags under them") }
        if makeup && rng.chance(0.6) {
            extras.append(rng.pick(["heavy", "dramatic", "bold"]) + " " + rng.pick(Phrases.eyeshadow(d.eyeshadowColor)))
            said.insert("makeup")
        }
        if face.eyeColorVisible {
            let s = subject()
            let tail = extras.isEmpty ? "" : " with " + TextContext.list(extras)
            if rng.chance(0.5) { return TextContext.finish("\(s) \(has(s)) \(rng.pick(Phrases.eyes(d.eyeColor)))\(tail)") }
            return TextContext.finish("\(poss) \(rng.pick(Phrases.eyesAre(d.eyeColor)))\(tail.isEmpty ? "" : "," + tail)")
        }
        if bags {
            let s = subject()
            return TextContext.finish("\(s) \(has(s)) bags under \(poss) eyes")
        }
        return nil
    }

    mutating func browsSentence() -> String? {
        let arched = face.has(.archedEyebrows), bushy = face.has(.bushyEyebrows)
        if !arched && !bushy && rng.chance(0.3) { return nil }
        let s = subject()
        let np = rng.pick(Phrases.brows(arched: arched, bushy: bushy))
        if (arched || bushy) && rng.chance(0.3) {
            let noun = rng.pick(Phrases.browNouns)
            return TextContext.finish("\(poss) \(noun) are \(arched && bushy ? "bushy and arched" : (arched ? "arched" : "bushy"))")
        }
        return TextContext.finish("\(s) \(has(s)) \(np)")
    }

    mutating func eyewearSentence() -> String? {
        let s = subject()
        guard let np = eyewearNP() else {
            return rng.chance(0.5) ? TextContext.finish("\(s) \(isVerb(s)) not wearing \(pick(["glasses", "any glasses"]))") : nil
        }
        if face.has(.sunglasses) && rng.chance(0.5) {
            return TextContext.finish("\(s) \(wears(s)) \(np) that hide \(poss) eyes")
        }
        return TextContext.finish(rng.chance(0.5) ? "\(s) \(wears(s)) \(np)" : "\(s) \(isVerb(s)) wearing \(np)")
    }

    mutating func noseSentence() -> String? {
        let nose = TextContext.withArticle(rng.pick(Phrases.nose(big: face.has(.bigNose))))
        let s = subject()
        if face.has(.rosyCheeks) {
            return TextContext.finish("\(s) \(has(s)) \(nose) and rosy cheeks")
        }
        return TextContext.finish("\(s) \(has(s)) \(nose)")
    }

    mutating func mouthSentence() -> String? {
        let s = subject()
        var items: [String] = []
        if let lip = lipstickNP() { items.append(lip) }
        if face.has(.heavyMakeup) && !said.contains("makeup") {
            items.append(rng.chance(0.5) ? "heavy makeup" : "heavy makeup with " + rng.pick(Phrases.eyeshadow(d.eyeshadowColor)))
        }
        if !items.isEmpty { return TextContext.finish("\(s) \(wears(s)) \(TextContext.list(items))") }
        if !male && !face.has(.heavyMakeup) && rng.chance(0.4) {
            return TextContext.finish(rng.chance(0.5) ? "\(s) \(wears(s)) no makeup" : "\(s) \(has(s)) natural lips")
        }
        return nil
    }

    mutating func facialHairSentence() -> String? {
        guard male else { return nil }
        let s = subject()
        var items: [String] = []
        if face.has(.mustache) { items.append(TextContext.withArticle(pick(["mustache", "moustache"]))) }
        if face.has(.goatee) { items.append("a goatee") }
        if face.has(.stubble) { items.append(pick(["stubble", "light stubble", "a five o'clock shadow"])) }
        if face.has(.sideburns) { items.append(pick(["sideburns", "long sideburns"])) }
        if items.isEmpty { return TextContext.finish("\(s) \(isVerb(s)) clean-shaven") }
        rng.shuffle(&items)
        return TextContext.finish("\(s) \(pick([has(s), verb(s, "sports", "sport")])) \(TextContext.list(items))")
    }

    mutating func jewelrySentence() -> String? {
        var items: [String] = []
        if let e = earringsNP() { items.append(e) }
        if let n = necklaceNP() { items.append(n) }
        let s = subject()
        if items.isEmpty {
            return rng.chance(0.4) ? TextContext.finish("\(s) \(wears(s)) no jewelry") : nil
        }
        rng.shuffle(&items)
        return TextContext.finish("\(s) \(rng.chance(0.5) ? wears(s) : isVerb(s) + " wearing") \(TextContext.list(items))")
    }

    mutating func hatSentence() -> String? {
        if said.contains("hat") { return nil }
        let s = subject()
        guard let hat = hatNP() else {
            return rng.chance(0.2) ? TextContext.finish("\(s) \(isVerb(s)) not wearing a hat") : nil
        }
        return TextContext.finish(rng.chance(0.5) ? "\(s) \(wears(s)) \(hat)" : "\(hat) sits on \(poss) head")
    }

    /// The visible signs of an emotion, in words that never contradict the mouth or eye action.
    func emotionCue() -> String? {
        let mouthFree = face.mouthAction == nil && !face.has(.sleep)
        let eyesFree = face.eyeColorVisible && !face.has(.wink) && !face.has(.lookAround)
        switch face.emotion {
        case .neutral: return mouthFree ? "with relaxed lips" : nil
        case .happy: return mouthFree ? "with a warm smile" : nil
        case .sad: return mouthFree ? "with downturned lips and a tear on \(poss) cheek" : "with a tear on \(poss) cheek"
        case .angry: return "with lowered brows" + (mouthFree ? " and tight lips" : "")
        case .fearful: return eyesFree ? "with wide eyes and raised brows" : "with raised brows"
        case .surprised: return eyesFree ? "with wide eyes and raised eyebrows" : "with raised eyebrows"
        case .disgusted: return "with a wrinkled nose" + (mouthFree ? " and a curled upper lip" : "")
        }
    }

    mutating func expressionSentence() -> String? {
        let s = subject()
        let adjective = rng.pick(Words.emotion(face.emotion))
        if said.contains("emotion") {
            // The introduction named the emotion already: describe how it shows, if anything.
            guard let cue = emotionCue(), rng.chance(0.6) else { return nil }
            return TextContext.finish("\(s) \(isVerb(s)) shown \(cue)")
        }
        switch rng.below(3) {
        case 0:
            if let cue = emotionCue() { return TextContext.finish("\(s) \(looks(s)) \(adjective), \(cue)") }
            return TextContext.finish("\(s) \(looks(s)) \(adjective)")
        case 1: return TextContext.finish("\(poss) expression is \(adjective)")
        default:
            if face.emotion == .neutral { return TextContext.finish("\(poss) face is \(adjective)") }
            return TextContext.finish("\(poss) face shows \(rng.pick(Words.emotionNoun(face.emotion)))")
        }
    }

    mutating func actionSentence() -> String? {
        var acts = face.actions.sorted()
        if acts.isEmpty { return nil }
        // Sleeping already says the eyes are closed.
        if face.has(.sleep) { acts.removeAll { $0 == .eyesClosed } }
        let s = subject()
        var verbs: [String] = []
        var eyesClosed = false
        for a in acts {
            switch a {
            case .eyesClosed: eyesClosed = true
            case .blow: verbs.append("blowing air with \(poss) cheeks puffed out")
            case .sleep: verbs.append(pick(["asleep", "sleeping"]))
            default: verbs.append(rng.pick(Words.gerund(a)))
            }
        }
        if verbs.isEmpty {
            return TextContext.finish(rng.chance(0.5) ? "\(s) \(has(s)) \(poss) eyes closed" : "\(poss) eyes are closed")
        }
        let tail = eyesClosed ? " with \(poss) eyes closed" : (face.has(.sleep) && rng.chance(0.5) ? " with \(poss) eyes closed" : "")
        return TextContext.finish("\(s) \(isVerb(s)) \(TextContext.list(verbs))\(tail)")
    }
}
