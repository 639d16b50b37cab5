/// Text-to-image prompts as people type them: from one item ("grandpa") to full descriptions of
/// twenty and more, as comma lists, bare lower-case words, fragments, sentences or "a photo of
/// …", items in any order, with the facts each item states beside the text.
public enum PromptWriter {
    /// One stated item: how it reads in a list, as a predicate, and what it states.
    struct Item {
        /// In a list: "red beanie", "no glasses", "grinning".
        var bare: String
        /// After the subject: "is wearing a red beanie", "has no glasses", "is grinning".
        var predicate: String
        var facts: [PromptFact]
    }

    /// Token budget: a prompt longer than this by `tokenCount` loses items from its end until it
    /// fits (the model reads `maxPromptTokens - 2` tokens; nothing is cut silently).
    public struct Budget: Sendable {
        public var tokenCount: @Sendable (String) -> Int
        public var maxTokens: Int
        public init(maxTokens: Int, tokenCount: @escaping @Sendable (String) -> Int) { self.maxTokens = maxTokens; self.tokenCount = tokenCount }
        /// Without a tokenizer: about 1.7 tokens a word and one per punctuation mark, a safe
        /// over-estimate for the shipped byte-level BPE on the data set's words.
        public static let estimate = Budget(maxTokens: 94) { text in
            let words = text.split { $0 == " " }.count
            let marks = text.filter { ",.;:!?-/()".contains($0) }.count
            return (words * 17 + 9) / 10 + marks
        }
    }

    public static func prompt(for face: FaceAttributes, pool: PhrasingPool, budget: Budget = .estimate, rng: inout FaceRNG) -> Prompt {
        var w = PeopleWriter(face: face, rng: rng, pool: pool, theyChance: 0)
        let wantHeld = pool == .evaluation && w.rng.chance(0.5)
        let frame = w.frame(Frames.prompt, heldOut: wantHeld)
        // The person noun, then the other items in a shuffled order.
        let nouns = Lexicon.people(for: face)
        let personFrame = Frame(id: frame.id, text: "", heldOut: frame.heldOut)
        let (person, personHeld) = w.form(nouns.map(\.noun), frame: personFrame, wantHeld: wantHeld && !frame.heldOut)
        let noun = nouns.first { $0.noun == person }!
        var personFacts: [PromptFact] = []
        if let m = noun.male { personFacts.append(.present(.appearance(.male), m)) }
        if let y = noun.young { personFacts.append(.present(.appearance(.young), y)) }
        var pool = items(&w)
        w.rng.shuffle(&pool)
        // Short prompts are common: half have at most 6 items, a fifth 13 or more.
        let r = w.rng.unit()
        let total = pool.count + 1
        let wanted = r < 0.45 ? 1 + w.rng.below(6) : (r < 0.8 ? 7 + w.rng.below(6) : 13 + w.rng.below(max(1, total - 12)))
        let withPerson = wanted > 1 || w.rng.chance(0.5)
        var chosen = Array(pool.prefix(max(0, min(pool.count, wanted - (withPerson ? 1 : 0)))))
        if chosen.isEmpty && !withPerson { chosen = Array(pool.prefix(1)) }
        let personItem: (String, [PromptFact])? = withPerson ? (person, personFacts) : nil
        var text = render(frame, person: personItem?.0, items: chosen, w: &w)
        let drawn = chosen.count
        while chosen.count > (withPerson ? 0 : 1) && budget.tokenCount(text) > budget.maxTokens {
            chosen.removeLast()
            text = render(frame, person: personItem?.0, items: chosen, w: &w)
        }
        rng = w.rng
        let facts = (personItem?.1 ?? []) + chosen.flatMap(\.facts)
        return Prompt(text: text, facts: facts, items: chosen.count + (withPerson ? 1 : 0), frame: frame.id,
                      heldOut: frame.heldOut || (withPerson && personHeld), droppedItems: drawn - chosen.count)
    }

    // MARK: Items

    static func items(_ w: inout PeopleWriter) -> [Item] {
        let face = w.face, d = face.details
        var out: [Item] = []
        func pick(_ forms: [String]) -> String { Lexicon.fill(w.rng.pick(forms), poss: w.poss) }
        func word(_ f: DetailField, _ v: String) -> String { w.rng.pick(Lexicon.words(f, v)) }
        func state(_ a: FaceAttribute, degree: Bool = true) {
            let forms = Lexicon.forms(a)
            var s = pick(w.truthful(forms.states))
            if degree && forms.gradable && !s.contains(" ") && w.rng.chance(0.2) { s = w.rng.pick(Lexicon.degreeWords) + " " + s }
            out.append(Item(bare: s, predicate: "\(w.be) \(s)", facts: [.present(a)]))
        }
        func thing(_ a: FaceAttribute, _ extra: [PromptFact] = [], np: String? = nil) {
            let forms = Lexicon.forms(a)
            let t = np ?? pick(w.truthful(forms.things))
            let verb = forms.worn ? "\(w.be) wearing" : w.has
            out.append(Item(bare: PeopleWriter.bare(t), predicate: "\(verb) \(t)", facts: [.present(a)] + extra))
        }
        func absent(_ a: FaceAttribute, _ extra: [FaceAttribute] = []) {
            let f = pick(w.truthful(Lexicon.forms(a).absent))
            let predicate = f.hasPrefix("no ") ? "\(w.has) \(f)" : "\(w.be) \(f)"
            out.append(Item(bare: f, predicate: predicate, facts: ([a] + extra).map { .present($0, false) }))
        }
        let ap = { (a: Appearance) in FaceAttribute.appearance(a) }

        // Hair.
        if face.has(.bald) {
            if w.rng.chance(0.5) { state(ap(.bald)) } else { thing(ap(.bald)) }
        } else {
            let c = d.hairColor
            var colourFacts: [PromptFact] = [.detail(.hairColor, c.rawValue)]
            if let flag = c.flag { colourFacts.append(.present(ap(flag))) }
            let cw = word(.hairColor, c.rawValue)
            out.append(Item(bare: "\(cw) hair", predicate: "\(w.has) \(cw) hair", facts: colourFacts))
            if let l = d.hairLength {
                let lw = word(.hairLength, l.rawValue)
                out.append(Item(bare: "\(lw) hair", predicate: "\(w.has) \(lw) hair",
                                facts: [.detail(.hairLength, l.rawValue), .present(ap(.longHair), l == .long)]))
            }
            if let t = d.hairTexture {
                let tw = word(.hairTexture, t.rawValue)
                out.append(Item(bare: "\(tw) hair", predicate: "\(w.has) \(tw) hair",
                                facts: [.detail(.hairTexture, t.rawValue), .present(ap(.wavyHair), t != .straight)]))
            }
            if face.has(.bangs) { thing(ap(.bangs)) } else if w.rng.chance(0.3) && !face.has(.hat) { absent(ap(.bangs)) }
            if face.has(.recedingHairline) { thing(ap(.recedingHairline)) }
            if w.rng.chance(0.25) { absent(ap(.bald)) }
        }
        // Face and skin.
        let sw = word(.skinTone, d.skinTone.rawValue)
        out.append(Item(bare: "\(sw) skin", predicate: "\(w.has) \(sw) skin",
                        facts: [.detail(.skinTone, d.skinTone.rawValue)] + (d.skinTone == .pale ? [.present(ap(.paleSkin))] : [])))
        let fw = word(.faceShape, d.faceShape.rawValue)
        out.append(Item(bare: "\(fw) face", predicate: "\(w.has) \(PeopleWriter.article(fw + " face"))", facts: [.detail(.faceShape, d.faceShape.rawValue)]))
        if face.eyeColorVisible {
            let ew = word(.eyeColor, d.eyeColor.rawValue)
            out.append(Item(bare: "\(ew) eyes", predicate: "\(w.has) \(ew) eyes", facts: [.detail(.eyeColor, d.eyeColor.rawValue)]))
        }
        for a in [Appearance.archedEyebrows, .bushyEyebrows, .bagsUnderEyes, .rosyCheeks, .bigNose] where face.has(a) { thing(ap(a)) }
        if face.has(.chubby) { state(ap(.chubby)) } else if w.rng.chance(0.3) { absent(ap(.chubby)) }
        if !face.has(.bigNose) && w.rng.chance(0.4) { absent(ap(.bigNose)) }
        if !face.has(.rosyCheeks) && w.rng.chance(0.15) { absent(ap(.rosyCheeks)) }
        if !face.has(.bushyEyebrows) && w.rng.chance(0.2) { absent(ap(.bushyEyebrows)) }
        if !face.has(.bagsUnderEyes) && w.rng.chance(0.15) { absent(ap(.bagsUnderEyes)) }
        // Age and gender said as words of their own ("old", "female") as well as by the noun.
        if w.rng.chance(0.3) { if face.has(.young) { state(ap(.young)) } else { absent(ap(.young)) } }
        if w.rng.chance(0.15) { if face.isMale { state(ap(.male), degree: false) } else { absent(ap(.male)) } }
        // Eyewear.
        if face.has(.eyeglasses) {
            var facts: [PromptFact] = []
            var words: [String] = []
            if let f = d.frameColor, w.rng.chance(0.6) { words.append(word(.frameColor, f.rawValue) + "-framed"); facts.append(.detail(.frameColor, f.rawValue)) }
            if let s = d.eyewearStyle, w.rng.chance(0.6) { words.append(word(.eyewearStyle, s.rawValue)); facts.append(.detail(.eyewearStyle, s.rawValue)) }
            let base = pick(["glasses", "specs", "spectacles", "eyeglasses"])
            thing(ap(.eyeglasses), facts, np: (words + [base]).joined(separator: " "))
        } else if face.has(.sunglasses) {
            var facts: [PromptFact] = []
            var words: [String] = []
            if let l = d.lensColor, w.rng.chance(0.6) { words.append(word(.lensColor, l.rawValue)); facts.append(.detail(.lensColor, l.rawValue)) }
            if let s = d.eyewearStyle, w.rng.chance(0.6) { words.append(word(.eyewearStyle, s.rawValue)); facts.append(.detail(.eyewearStyle, s.rawValue)) }
            let base = pick(["sunglasses", "shades", "sunnies"])
            thing(ap(.sunglasses), facts, np: (words + [base]).joined(separator: " "))
        } else if w.rng.chance(0.4) {
            absent(ap(.eyeglasses))
        }
        if !face.has(.sunglasses) && w.rng.chance(0.2) { absent(ap(.sunglasses)) }
        // Jewellery, hat, makeup.
        if face.has(.earrings), let k = d.earringKind, let m = d.earringMaterial {
            let kw = word(.earringKind, k.rawValue)
            let np = (kw.hasSuffix("s") ? [word(.earringMaterial, m.rawValue), kw] : [word(.earringMaterial, m.rawValue), kw, "earrings"]).joined(separator: " ")
            thing(ap(.earrings), [.detail(.earringKind, k.rawValue), .detail(.earringMaterial, m.rawValue)], np: np)
        } else if !face.has(.earrings) && w.rng.chance(0.3) { absent(ap(.earrings)) }
        if face.has(.necklace), let k = d.necklaceKind, let m = d.necklaceMaterial {
            let kw = word(.necklaceKind, k.rawValue)
            let np = k == .pearls ? kw : PeopleWriter.article(word(.necklaceMaterial, m.rawValue) + " " + kw)
            var facts: [PromptFact] = [.detail(.necklaceKind, k.rawValue)]
            if k != .pearls { facts.append(.detail(.necklaceMaterial, m.rawValue)) }
            thing(ap(.necklace), facts, np: np)
        } else if !face.has(.necklace) && w.rng.chance(0.3) { absent(ap(.necklace)) }
        if face.has(.hat), let k = d.hatKind, let c = d.hatColor {
            let np = PeopleWriter.article(word(.hatColor, c.rawValue) + " " + word(.hatKind, k.rawValue))
            thing(ap(.hat), [.detail(.hatKind, k.rawValue), .detail(.hatColor, c.rawValue)], np: np)
        } else if !face.has(.hat) && w.rng.chance(0.3) { absent(ap(.hat)) }
        if face.has(.lipstick), let c = d.lipstickColor {
            thing(ap(.lipstick), [.detail(.lipstickColor, c.rawValue)], np: word(.lipstickColor, c.rawValue) + " " + pick(["lipstick", "lips", "lippy"]))
        } else if !face.has(.lipstick) && !male(face) && w.rng.chance(0.25) { absent(ap(.lipstick)) }
        if face.has(.heavyMakeup), let c = d.eyeshadowColor {
            if w.rng.chance(0.5) { thing(ap(.heavyMakeup)) }
            else { thing(ap(.heavyMakeup), [.detail(.eyeshadowColor, c.rawValue)], np: word(.eyeshadowColor, c.rawValue) + " eyeshadow") }
        } else if w.rng.chance(0.2) { absent(ap(.heavyMakeup)) }
        // Facial hair.
        if face.isMale {
            let shown = Appearance.facialHair.filter { face.has($0) }
            for a in shown { if Lexicon.forms(ap(a)).states.isEmpty || w.rng.chance(0.6) { thing(ap(a)) } else { state(ap(a)) } }
            if shown.isEmpty && w.rng.chance(0.5) {
                out.append(Item(bare: "clean-shaven", predicate: "\(w.be) clean-shaven",
                                facts: [.stubble, .goatee, .mustache].map { .present(ap($0), false) }))
            }
        }
        // Expression and actions.
        state(.emotion(face.emotion))
        if face.emotion != .happy && w.rng.chance(0.15) { absent(.emotion(.happy)) }
        var acts = TextContext.actionPriority.filter { face.has($0) }
        if face.has(.sleep) { acts.removeAll { $0 == .eyesClosed } }
        for a in acts { state(.action(a), degree: false) }
        if !face.has(.sleep) && w.rng.chance(0.15) { absent(.action(.sleep)) }
        if acts.isEmpty && w.rng.chance(0.15) { absent(.action(.eyesClosed)) }
        if !face.has(.talk) && face.mouthAction == nil && w.rng.chance(0.1) { absent(.action(.talk)) }
        return out
    }

    static func male(_ face: FaceAttributes) -> Bool { face.isMale }

    // MARK: Styles

    static func render(_ frame: Frame, person: String?, items: [Item], w: inout PeopleWriter) -> String {
        let list = items.map(\.bare)
        let P = person.map { PeopleWriter.article($0) } ?? "a person"
        let pBare = person ?? "person"
        func comma(_ xs: [String]) -> String { xs.joined(separator: ", ") }
        func andList(_ xs: [String]) -> String { TextContext.list(xs) }
        let preds = andList(items.map(\.predicate))
        // Styles without a person noun fall back to the bare list.
        let withPerson = ([person].compactMap { $0 }) + list
        let index = Int(frame.id.split(separator: ".").last.map(String.init) ?? "0") ?? 0
        if items.isEmpty { return [P, pBare, "\(P)", "portrait of \(P)"][index % 4] }
        switch index {
        case 0: return comma(withPerson)
        case 1: return withPerson.joined(separator: " ").lowercased()
        case 2: return "a photo of \(P) with \(andList(list))"
        case 3: return "portrait of \(P), \(comma(list))"
        case 4, 18:
            let intro = index == 4 ? "\(PeopleWriter.capital(P))." : "A photo of \(P)."
            let subject = PeopleWriter.capital(w.pron)
            return ([intro] + items.map { "\(subject) \($0.predicate)." }).joined(separator: " ")
        case 5: return "\(P) with \(andList(list))"
        case 6: return "\(pBare), \(comma(list))"
        case 7: return "close-up of \(P) with \(andList(list))"
        case 8: return "draw \(P) with \(andList(list))"
        case 9: return "show me \(P) who \(preds)"
        case 10: return "\(PeopleWriter.capital(P)) who \(preds)."
        case 11: return "headshot: \(comma(withPerson))"
        case 12: return person.map { "\(comma(list)); \($0)" } ?? comma(list)
        case 13: return "an image of \(P): \(comma(list))"
        case 14: return "make a face - \(comma(withPerson))"
        case 15: return "\(comma(withPerson)), photo"
        case 16: return "I want \(P) that \(preds)"
        case 17: return "picture of \(P) with \(andList(list)), please"
        case 19: return "generate \(P), \(comma(list))"
        case 20: return "face of \(P) with \(andList(list))"
        case 21: return withPerson.joined(separator: " / ")
        case 22: return "\(pBare) - \(comma(list))"
        case 23: return "selfie of \(P) with \(andList(list))"
        default: return person.map { "\(comma(list)), \($0)" } ?? comma(list)
        }
    }
}
