/// Question–answer pairs about a face, written from the attribute record alone.
///
/// Questions vary (templates, references to the person); answers are short and regular
/// ("Her eyes are green.", "Yes, he is wearing eyeglasses.", "She is probably yawning: her mouth
/// is wide open in a tall oval and her eyes are half closed.") so that a small model can learn
/// them. Each image gets 7 or 8 pairs: its emotion, one reasoning question (the action and the
/// cue that shows it, or the cue behind the emotion), one presence question answered "yes",
/// one answered "no", and appearance details; training images may get a hair-colour check more.
public struct QAPair: Codable, Hashable, Sendable {
    public let question: String
    public let answer: String
    public init(question: String, answer: String) { self.question = question; self.answer = answer }
}

public enum VQAWriter {
    public static func pairs(for face: FaceAttributes, rng: inout FaceRNG) -> [QAPair] {
        var w = TextContext(face: face, rng: rng, theyChance: 0)
        var pairs = [w.emotionQuestion(), w.reasoningQuestion(), w.presenceQuestion(yes: true), w.presenceQuestion(yes: false)]
        var pool = w.detailQuestions()
        w.rng.shuffle(&pool)
        // At least one question about colours of the face itself (eyes or hair), then any.
        if let i = pool.firstIndex(where: { $0.kind == .eyesOrHair }) { pairs.append(pool.remove(at: i).pair) }
        let total = w.rng.chance(0.5) ? 7 : 8
        while pairs.count < total, !pool.isEmpty { pairs.append(pool.removeFirst().pair) }
        w.rng.shuffle(&pairs)
        rng = w.rng
        return pairs
    }

    /// One more hair-colour yes/no question ("Is her hair brown?"), asked about the face's own
    /// colour or another at even odds, inserted among `pairs` (none when it would repeat one of
    /// their questions). Training images get it: comparing the asked colour with the one the
    /// answer names is the skill the presence questions alone, at one in twenty, did not teach.
    public static func addingHairColourCheck(to pairs: [QAPair], for face: FaceAttributes, rng: inout FaceRNG) -> [QAPair] {
        var w = TextContext(face: face, rng: rng, theyChance: 0)
        let colours: [Appearance] = [.blackHair, .blondHair, .brownHair, .grayHair]
        let own = colours.filter { face.has($0) }, other = colours.filter { !face.has($0) }
        let asked = !own.isEmpty && w.rng.chance(0.5) ? w.rng.pick(own) : w.rng.pick(other)
        let check = w.presence(asked)
        var out = pairs
        if !pairs.contains(where: { $0.question == check.question }) { out.insert(check, at: w.rng.below(pairs.count + 1)) }
        rng = w.rng
        return out
    }
}

extension TextContext {
    struct Detail { enum Kind { case eyesOrHair, other }; let kind: Kind; let pair: QAPair }

    /// "she" / "the woman" / "this person" in questions.
    mutating func questionSubject() -> String {
        switch rng.below(6) {
        case 0: return "this person"
        case 1: return "the " + (male ? "man" : "woman")
        default: return pronoun
        }
    }
    var Sub: String { TextContext.capital(pronoun) }
    var Poss: String { TextContext.capital(poss) }
    static func capital(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

    mutating func ask(_ templates: [String], _ answer: String) -> QAPair {
        QAPair(question: TextContext.capital(rng.pick(templates)), answer: TextContext.finish(answer))
    }

    // MARK: Emotion and reasoning

    mutating func emotionQuestion() -> QAPair {
        let q = questionSubject(), qp = q == pronoun ? poss : "\(q)'s"
        let be = q == "they" ? "are" : "is"
        return ask(["how does \(q) feel?", "what emotion does \(qp) face show?", "what is \(qp) expression?",
                    "how is \(q) feeling?", "what mood \(be) \(q) in?"],
                   "\(Sub) looks \(face.emotion.rawValue)")
    }

    /// The visible cue for an action, consistent with what the renderer draws.
    func actionCue(_ a: Action) -> String {
        let eyesFree = !face.has(.eyesClosed) && !face.has(.wink) && !face.has(.lookAround) && !face.has(.sleep)
        switch a {
        case .yawn: return "\(poss) mouth is wide open in a tall oval" + (eyesFree ? " and \(poss) eyes are half closed" : "")
        case .talk: return "\(poss) mouth is partly open and \(poss) upper teeth show"
        case .laugh: return "\(poss) mouth is wide open in a broad smile" + (eyesFree ? " and \(poss) eyes are squeezed shut" : "")
        case .shout: return "\(poss) mouth is wide open and shows both rows of teeth"
        case .blow: return "\(poss) lips are pursed, \(poss) cheeks are puffed out and puffs of air leave \(poss) lips"
        case .wink: return "one of \(poss) eyes is closed while the other is open"
        case .eyesClosed: return "both of \(poss) eyes are closed"
        case .sleep: return "\(poss) eyes are closed, \(poss) head is tilted to one side and Z letters float above \(obj)"
        case .frown: return "\(poss) eyebrows are drawn down and together, with creases between them"
        case .lookAround: return "\(poss) eyes are turned to one side"
        }
    }

    /// The visible cue for an emotion (used when the face shows no action).
    func emotionReason() -> String {
        switch face.emotion {
        case .neutral: return "\(poss) mouth is relaxed and \(poss) eyebrows are level"
        case .happy: return "\(poss) mouth curves up in a smile"
        case .sad: return "\(poss) mouth turns down, \(poss) inner eyebrows are raised and a tear runs down \(poss) cheek"
        case .angry: return "\(poss) eyebrows are pulled down into a V and \(poss) lips are pressed tight"
        case .fearful: return "\(poss) eyebrows are raised and drawn together, and a drop of sweat runs down \(poss) forehead"
        case .surprised: return "\(poss) eyebrows are raised high and \(poss) mouth is open in an O"
        case .disgusted: return "\(poss) nose is wrinkled and \(poss) upper lip is raised on one side"
        }
    }

    /// Actions in the order a person would name them first (sleep before the closed eyes it implies).
    static let actionPriority: [Action] = [.sleep, .yawn, .laugh, .shout, .talk, .blow, .wink, .lookAround, .frown, .eyesClosed]

    mutating func reasoningQuestion() -> QAPair {
        var acts = TextContext.actionPriority.filter { face.has($0) }
        if face.has(.sleep) { acts.removeAll { $0 == .eyesClosed } }
        let q = questionSubject()
        let be = q == "they" ? "are" : "is"
        if acts.isEmpty {
            let adjective = face.emotion.rawValue
            return ask(["why does \(q) look \(adjective)?", "what makes \(q == pronoun ? obj : q) look \(adjective)?",
                        "what in the face shows that \(q) \(be) \(adjective)?"],
                       "\(Sub) looks \(adjective): \(emotionReason())")
        }
        let shown = Array(acts.prefix(2))
        let gerunds = shown.map { $0 == .eyesClosed ? "keeping \(poss) eyes closed" : Words.gerund($0)[0] }
        let cues = shown.map(actionCue)
        return ask(["what \(be) \(q) doing?", "what \(be) \(q) doing right now?", "describe what \(q) \(be) doing.",
                    "what is happening in this picture?"],
                   "\(Sub) is probably \(TextContext.list(gerunds)): \(cues.joined(separator: ", and "))")
    }

    // MARK: Presence (yes / no)

    /// A yes/no question about one appearance attribute, answered from the record.
    mutating func presenceQuestion(yes: Bool) -> QAPair {
        let facialHair = Set(Appearance.facialHair)
        let candidates = Appearance.allCases.filter { a in
            a != .male && face.has(a) == yes && (male || yes || !facialHair.contains(a))
        }
        guard let attr = candidates.isEmpty ? nil : rng.pick(candidates) else { return genderQuestion(yes: yes) }
        return presence(attr)
    }

    mutating func genderQuestion(yes: Bool) -> QAPair {
        let asked = yes == male ? "man" : "woman"
        let actual = male ? "man" : "woman"
        return ask(["is this person a \(asked)?", "is this a \(asked)?"], yes ? "Yes, this is a \(actual)" : "No, this is a \(actual)")
    }

    mutating func presence(_ attr: Appearance) -> QAPair {
        let q = questionSubject()
        let qp = q == pronoun ? poss : "\(q)'s"
        let isQ = q == "they" ? "are" : "is", doesQ = q == "they" ? "do" : "does"
        let on = face.has(attr)
        let yesNo = on ? "Yes, " : "No, "
        var hairNow: String { Phrases.hair(length: d.hairLength, texture: nil, color: d.hairColor)[0] }
        func wearing(_ thing: String, question: [String]? = nil) -> QAPair {
            ask(question ?? ["\(isQ) \(q) wearing \(thing)?"], yesNo + (on ? "\(pronoun) is wearing \(thing)" : "\(pronoun) is not wearing \(thing)"))
        }
        func having(_ thing: String, noAnswer: String) -> QAPair {
            ask(["\(doesQ) \(q) have \(thing)?"], yesNo + (on ? "\(pronoun) has \(thing)" : noAnswer))
        }
        switch attr {
        case .male: return genderQuestion(yes: on)
        case .young: return ask(["\(isQ) \(q) young?"], on ? "Yes, \(pronoun) is young" : "No, \(pronoun) is older")
        case .chubby: return ask(["\(isQ) \(q) chubby?", "\(doesQ) \(q) have a chubby face?"], on ? "Yes, \(pronoun) is chubby" : "No, \(pronoun) is slim")
        case .paleSkin:
            return having("pale skin", noAnswer: "\(pronoun) has \(d.skinTone.rawValue) skin")
        case .rosyCheeks: return having("rosy cheeks", noAnswer: "\(poss) cheeks are not rosy")
        case .recedingHairline: return having("a receding hairline", noAnswer: "\(pronoun) does not have a receding hairline")
        case .bald: return ask(["\(isQ) \(q) bald?"], on ? "Yes, \(pronoun) is bald" : "No, \(pronoun) has \(hairNow)")
        case .bangs: return having("bangs", noAnswer: "\(pronoun) does not have bangs")
        case .blackHair, .blondHair, .brownHair, .grayHair:
            let asked = ["black_hair": "black", "blond_hair": "blond", "brown_hair": "brown", "gray_hair": "gray"][attr.rawValue] ?? ""
            // The colour first, the verdict last ("Her hair is blond, so no."): a small model names
            // the colour it sees far more reliably than it compares the asked colour with the face
            // in a first "Yes"/"No" token (verdict-first answers were right at about chance).
            let actual = face.has(.bald) ? "\(Sub) is bald" : "\(Poss) \(Phrases.hairIs(Words.hairColor(d.hairColor)[0]))"
            return ask(["\(doesQ) \(q) have \(asked) hair?", "is \(qp) hair \(asked)?"], actual + (on ? ", so yes" : ", so no"))
        case .wavyHair:
            let actual = face.has(.bald) ? "\(pronoun) is bald" : "\(poss) \(Phrases.hairIs(d.hairTexture?.rawValue ?? "straight"))"
            return ask(["is \(qp) hair wavy?", "\(doesQ) \(q) have wavy hair?"], yesNo + actual)
        case .longHair:
            let actual = face.has(.bald) ? "\(pronoun) is bald" : "\(poss) \(Phrases.hairIs(Words.hairLength(d.hairLength ?? .short)[0]))"
            return ask(["\(doesQ) \(q) have long hair?", "is \(qp) hair long?"], yesNo + actual)
        case .archedEyebrows:
            return ask(["are \(qp) eyebrows arched?", "\(doesQ) \(q) have arched eyebrows?"],
                       yesNo + "\(poss) eyebrows are \(on ? "" : "not ")arched")
        case .bushyEyebrows:
            return ask(["are \(qp) eyebrows bushy?", "\(doesQ) \(q) have bushy eyebrows?"],
                       yesNo + "\(poss) eyebrows are \(on ? "" : "not ")bushy")
        case .bagsUnderEyes:
            return ask(["\(doesQ) \(q) have bags under \(q == pronoun ? poss : "the") eyes?"],
                       on ? "Yes, \(pronoun) has bags under \(poss) eyes" : "No, \(pronoun) has no bags under \(poss) eyes")
        case .eyeglasses: return wearing("eyeglasses", question: ["\(isQ) \(q) wearing eyeglasses?", "\(doesQ) \(q) wear glasses?"])
        case .sunglasses: return wearing("sunglasses")
        case .bigNose: return having("a big nose", noAnswer: "\(pronoun) has a small nose")
        case .stubble: return having("stubble", noAnswer: "\(pronoun) does not have stubble")
        case .goatee: return having("a goatee", noAnswer: "\(pronoun) does not have a goatee")
        case .mustache: return having("a mustache", noAnswer: "\(pronoun) does not have a mustache")
        case .sideburns: return having("sideburns", noAnswer: "\(pronoun) does not have sideburns")
        case .heavyMakeup: return wearing("heavy makeup")
        case .earrings: return wearing("earrings")
        case .hat: return wearing("a hat")
        case .lipstick: return wearing("lipstick")
        case .necklace: return wearing("a necklace")
        }
    }

    // MARK: Appearance details

    /// Canonical noun phrases for answers (first variant of each builder: regular wording).
    var glassesAnswer: String? {
        if face.has(.eyeglasses), let style = d.eyewearStyle, let frame = d.frameColor {
            return "\(Words.style(style)[0]) glasses with \(Words.color(frame)[0]) frames"
        }
        if face.has(.sunglasses) { return Phrases.sunglasses(style: d.eyewearStyle, lens: d.lensColor)[0] }
        return nil
    }
    var earringsAnswer: String? { face.has(.earrings) ? Phrases.earrings(kind: d.earringKind, material: d.earringMaterial)[0] : nil }
    var necklaceAnswer: String? {
        face.has(.necklace) ? TextContext.withArticle(Phrases.necklace(kind: d.necklaceKind, material: d.necklaceMaterial)[0]) : nil
    }
    var hatAnswer: String? { face.has(.hat) ? TextContext.withArticle(Phrases.hat(kind: d.hatKind, color: d.hatColor)[0]) : nil }
    var hairAnswer: String {
        if face.has(.bald) { return "\(pronoun) is bald" }
        var extras: [String] = []
        if face.has(.bangs) { extras.append("bangs") }
        if face.has(.recedingHairline) { extras.append("a receding hairline") }
        let hair = Phrases.hair(length: d.hairLength, texture: d.hairTexture, color: d.hairColor)[0]
        return "\(pronoun) has \(hair)" + (extras.isEmpty ? "" : " with " + TextContext.list(extras))
    }
    /// Why the eye colour cannot be seen.
    var hiddenEyes: String {
        if face.has(.sunglasses) { return "\(poss) eyes are hidden behind sunglasses" }
        if face.has(.eyesClosed) || face.has(.sleep) { return "\(poss) eyes are closed, so their colour cannot be seen" }
        return "\(poss) eyes are squeezed shut, so their colour cannot be seen"
    }

    mutating func detailQuestions() -> [Detail] {
        var out: [Detail] = []
        func add(_ pair: QAPair) { out.append(Detail(kind: .other, pair: pair)) }
        func addEyesOrHair(_ pair: QAPair) { out.append(Detail(kind: .eyesOrHair, pair: pair)) }
        let q = questionSubject()
        let qp = q == pronoun ? poss : "\(q)'s"
        let isQ = q == "they" ? "are" : "is"

        addEyesOrHair(ask(["what colour are \(qp) eyes?", "what color are \(qp) eyes?", "what is \(qp) eye colour?"],
                             face.eyeColorVisible ? "\(poss) \(Phrases.eyesAre(d.eyeColor)[0])" : hiddenEyes))
        addEyesOrHair(ask(["describe \(qp) hair.", "what does \(qp) hair look like?", "what is \(qp) hairstyle like?"], hairAnswer))
        if !face.has(.bald) {
            addEyesOrHair(ask(["what colour is \(qp) hair?", "what color is \(qp) hair?"],
                                 "\(poss) \(Phrases.hairIs(Words.hairColor(d.hairColor)[0]))"))
        }
        add(ask(["what is \(qp) skin tone?", "how would you describe \(qp) complexion?"],
                "\(pronoun) has \(Phrases.skin(d.skinTone)[0])"))
        add(ask(["what shape is \(qp) face?", "what is the shape of \(qp) face?"],
                "\(pronoun) has \(TextContext.withArticle(Phrases.face(d.faceShape)[0]))"))
        add(ask(["how old does \(q) look?", "\(isQ) \(q) young or old?"], face.has(.young) ? "\(pronoun) is young" : "\(pronoun) is older"))
        add(ask(["is this a man or a woman?", "is this person a man or a woman?"], male ? "This is a man" : "This is a woman"))

        let accessories = [glassesAnswer, hatAnswer, earringsAnswer, necklaceAnswer].compactMap { $0 }
        add(ask(["what accessories \(isQ) \(q) wearing?", "what is \(q) wearing on \(q == pronoun ? poss : "the") face and head?"],
                accessories.isEmpty ? "\(pronoun) is not wearing any accessories" : "\(pronoun) is wearing \(TextContext.list(accessories))"))
        if male {
            var hair: [String] = []
            if face.has(.mustache) { hair.append("a mustache") }
            if face.has(.goatee) { hair.append("a goatee") }
            if face.has(.stubble) { hair.append("stubble") }
            if face.has(.sideburns) { hair.append("sideburns") }
            add(ask(["does \(q) have facial hair?", "does \(q) have a beard or a mustache?"],
                    hair.isEmpty ? "No, \(pronoun) is clean-shaven" : "Yes, \(pronoun) has \(TextContext.list(hair))"))
        }
        if let hat = hatAnswer {
            add(ask(["what is \(q) wearing on \(q == pronoun ? poss : "the") head?", "what kind of hat \(isQ) \(q) wearing?"],
                    "\(pronoun) is wearing \(hat)"))
        }
        if let glasses = glassesAnswer {
            add(ask(["what kind of \(face.has(.sunglasses) ? "sunglasses" : "glasses") \(isQ) \(q) wearing?", "describe \(qp) glasses."],
                    "\(pronoun) is wearing \(glasses)"))
        }
        if let earrings = earringsAnswer {
            add(ask(["what earrings \(isQ) \(q) wearing?", "describe \(qp) earrings."], "\(pronoun) is wearing \(earrings)"))
        }
        if let necklace = necklaceAnswer {
            add(ask(["what kind of necklace \(isQ) \(q) wearing?", "describe \(qp) necklace."], "\(pronoun) is wearing \(necklace)"))
        }
        if let color = d.lipstickColor, face.has(.lipstick) {
            add(ask(["what colour is \(qp) lipstick?", "what color lipstick \(isQ) \(q) wearing?"],
                    "\(poss) lipstick is \(Words.lipstick(color)[0])"))
        }
        if face.has(.heavyMakeup), let shadow = d.eyeshadowColor {
            add(ask(["describe \(qp) makeup.", "what makeup \(isQ) \(q) wearing?"],
                    "\(pronoun) is wearing heavy makeup with \(Phrases.eyeshadow(shadow)[0])"))
        }
        // An action asked about directly: yes for one it shows, no for one it does not.
        let shown = TextContext.actionPriority.filter { face.has($0) && $0 != .eyesClosed }
        let notShown = Action.allCases.filter { !face.has($0) && $0 != .eyesClosed }
        if let a = rng.chance(0.5) ? shown.first : nil {
            let g = Words.gerund(a)[0]
            add(ask(["\(isQ) \(q) \(g)?"], "Yes, \(pronoun) is \(g)"))
        } else if !notShown.isEmpty {
            let a = rng.pick(notShown)
            let g = Words.gerund(a)[0]
            add(ask(["\(isQ) \(q) \(g)?"], "No, \(pronoun) is not \(g)"))
        }
        return out
    }
}
