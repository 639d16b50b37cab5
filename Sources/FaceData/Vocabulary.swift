/// The words captions and answers use, and the phrase matcher that reads them back.
///
/// Every phrase that says something about a face is built by one of the `Phrases` builders below.
/// The writers pick variants from the builders; `PhraseMatcher` enumerates the same builders over
/// every value, so anything a writer can say can be parsed back into claims and checked against
/// the record (tests do this), and eval / prompt completion can map free text onto the schema.

/// One statement a phrase makes about a face.
public enum Claim: Hashable, Sendable, CustomStringConvertible {
    case present(FaceAttribute)
    case absent(FaceAttribute)
    case detail(DetailField, String)

    /// Whether the claim is true of `face` *and visible in its render* (hair colour is not
    /// visible on a bald head, eye colour not behind sunglasses or closed lids).
    public func holds(for face: FaceAttributes) -> Bool {
        switch self {
        case .present(let x): return face.has(x)
        case .absent(let x): return !face.has(x)
        case .detail(let field, let value):
            guard face.details.value(field) == value else { return false }
            switch field {
            case .hairColor: return !face.has(.bald)
            case .eyeColor: return face.eyeColorVisible
            default: return true
            }
        }
    }

    /// The schema key the claim is about: an attribute name or a detail field name.
    public var key: String {
        switch self {
        case .present(let x), .absent(let x): return x.name
        case .detail(let field, _): return field.rawValue
        }
    }

    public var description: String {
        switch self {
        case .present(let x): return "+\(x.name)"
        case .absent(let x): return "-\(x.name)"
        case .detail(let field, let value): return "\(field.rawValue)=\(value)"
        }
    }
}

extension FaceAttributes {
    /// Whether the iris colour can be seen: no sunglasses and at least one eye open.
    public var eyeColorVisible: Bool {
        if has(.sunglasses) || has(.eyesClosed) || has(.sleep) { return false }
        // A laugh squeezes both eyes shut unless another eye action holds them.
        if mouthAction == .laugh && !has(.wink) && !has(.lookAround) { return false }
        return true
    }
}

// MARK: - Words for values

enum Words {
    static func skin(_ t: SkinTone) -> [String] {
        switch t {
        case .pale: return ["pale", "porcelain"]
        case .fair: return ["fair", "light"]
        case .medium: return ["medium", "medium-toned"]
        case .olive: return ["olive"]
        case .tan: return ["tan", "tanned"]
        case .brown: return ["brown"]
        case .dark: return ["dark", "deep brown"]
        }
    }

    static func shape(_ s: FaceShape) -> [String] {
        switch s {
        case .oval: return ["oval"]
        case .round: return ["round"]
        case .square: return ["square"]
        case .heart: return ["heart-shaped"]
        }
    }

    static func hairColor(_ c: HairColor) -> [String] {
        switch c {
        case .black: return ["black", "jet-black"]
        case .brown: return ["brown", "chestnut"]
        case .auburn: return ["auburn"]
        case .red: return ["red", "ginger"]
        case .blond: return ["blond", "golden blond"]
        case .platinumBlond: return ["platinum blond", "platinum"]
        case .gray: return ["gray", "grey"]
        case .white: return ["white", "snow-white"]
        }
    }

    static func hairLength(_ l: HairLength) -> [String] {
        switch l {
        case .short: return ["short", "cropped"]
        case .medium: return ["medium-length", "chin-length"]
        case .long: return ["long", "flowing"]
        }
    }

    static func hairTexture(_ t: HairTexture) -> [String] {
        switch t {
        case .straight: return ["straight", "sleek"]
        case .wavy: return ["wavy"]
        case .curly: return ["curly"]
        }
    }

    static func eyeColor(_ c: EyeColor) -> [String] {
        switch c {
        case .brown: return ["brown", "dark brown"]
        case .hazel: return ["hazel"]
        case .green: return ["green"]
        case .blue: return ["blue", "bright blue"]
        case .gray: return ["gray", "grey"]
        }
    }

    static func color(_ c: NamedColor) -> [String] {
        c == .gray ? ["gray", "grey"] : [c.rawValue]
    }

    static func lens(_ c: LensColor) -> [String] { [c.rawValue] }

    static func style(_ s: EyewearStyle) -> [String] {
        switch s {
        case .round: return ["round"]
        case .rectangular: return ["rectangular"]
        case .aviator: return ["aviator", "aviator-style"]
        }
    }

    static func earring(_ k: EarringKind) -> [String] {
        switch k {
        case .stud: return ["stud"]
        case .hoop: return ["hoop"]
        case .drop: return ["drop", "dangling"]
        }
    }

    static func jewelry(_ m: Jewelry) -> [String] {
        switch m {
        case .gold: return ["gold", "golden"]
        case .silver: return ["silver"]
        case .pearl: return ["pearl"]
        }
    }

    static func hat(_ k: HatKind) -> [String] {
        switch k {
        case .beanie: return ["beanie", "knit beanie", "woolly hat"]
        case .baseballCap: return ["baseball cap", "cap"]
        case .fedora: return ["fedora"]
        case .beret: return ["beret"]
        }
    }

    static func lipstick(_ c: LipstickColor) -> [String] {
        switch c {
        case .red: return ["red", "bright red"]
        case .pink: return ["pink"]
        case .coral: return ["coral"]
        case .plum: return ["plum", "dark plum"]
        }
    }

    static func eyeshadow(_ c: EyeshadowColor) -> [String] { [c.rawValue] }

    /// Adjectives for an emotion ("looks ...").
    static func emotion(_ e: Emotion) -> [String] {
        switch e {
        case .neutral: return ["neutral", "calm", "expressionless"]
        case .happy: return ["happy", "cheerful", "joyful"]
        case .sad: return ["sad", "unhappy", "sorrowful"]
        case .angry: return ["angry", "furious", "annoyed"]
        case .fearful: return ["fearful", "scared", "frightened", "afraid"]
        case .surprised: return ["surprised", "astonished", "amazed"]
        case .disgusted: return ["disgusted", "repulsed"]
        }
    }

    /// Nouns for an emotion ("an expression of ...").
    static func emotionNoun(_ e: Emotion) -> [String] {
        switch e {
        case .neutral: return ["calm"]
        case .happy: return ["happiness", "joy"]
        case .sad: return ["sadness", "sorrow"]
        case .angry: return ["anger", "rage"]
        case .fearful: return ["fear", "alarm"]
        case .surprised: return ["surprise", "astonishment"]
        case .disgusted: return ["disgust", "revulsion"]
        }
    }

    /// "-ing" forms for an action ("she is ...").
    static func gerund(_ a: Action) -> [String] {
        switch a {
        case .eyesClosed: return []      // said with eyes, see `Phrases.action`
        case .wink: return ["winking"]
        case .yawn: return ["yawning"]
        case .talk: return ["talking", "speaking"]
        case .laugh: return ["laughing"]
        case .frown: return ["frowning"]
        case .shout: return ["shouting", "yelling"]
        case .sleep: return ["sleeping", "asleep"]
        case .lookAround: return ["looking around", "glancing to the side"]
        case .blow: return ["blowing", "blowing air"]
        }
    }
}

// MARK: - Phrase builders

/// Phrase builders: each returns the variants a writer may pick from. All builders are
/// enumerated by `PhraseMatcher`, so their claims are known.
enum Phrases {
    static func hair(length: HairLength?, texture: HairTexture?, color: HairColor?) -> [String] {
        var out: [String] = []
        for l in length.map(Words.hairLength) ?? [""] {
            for t in texture.map(Words.hairTexture) ?? [""] {
                for c in color.map(Words.hairColor) ?? [""] {
                    out.append(join([l, t, c, "hair"]))
                }
            }
        }
        return out
    }

    static func hairClaims(length: HairLength?, texture: HairTexture?, color: HairColor?) -> [Claim] {
        var claims: [Claim] = [.absent(.appearance(.bald))]
        if let length {
            claims += [.detail(.hairLength, length.rawValue),
                       length == .long ? .present(.appearance(.longHair)) : .absent(.appearance(.longHair))]
        }
        if let texture {
            claims += [.detail(.hairTexture, texture.rawValue),
                       texture == .straight ? .absent(.appearance(.wavyHair)) : .present(.appearance(.wavyHair))]
        }
        if let color {
            claims.append(.detail(.hairColor, color.rawValue))
            if let flag = color.flag { claims.append(.present(.appearance(flag))) }
        }
        return claims
    }

    /// "her hair is long" style predicates, one property at a time.
    static func hairIs(_ word: String) -> String { "hair is \(word)" }

    static func eyes(_ c: EyeColor) -> [String] { Words.eyeColor(c).map { "\($0) eyes" } }
    static func eyesAre(_ c: EyeColor) -> [String] { Words.eyeColor(c).map { "eyes are \($0)" } }

    static func skin(_ t: SkinTone) -> [String] {
        Words.skin(t).flatMap { ["\($0) skin", "\($0) complexion"] }
    }
    static func skinIs(_ t: SkinTone) -> [String] {
        Words.skin(t).flatMap { ["skin is \($0)", "complexion is \($0)"] }
    }

    static func face(_ s: FaceShape) -> [String] { Words.shape(s).map { "\($0) face" } }
    static func faceIs(_ s: FaceShape) -> [String] { Words.shape(s).map { "face is \($0)" } }

    static let glassesNouns = ["glasses", "eyeglasses", "spectacles"]

    static func glasses(style: EyewearStyle?, frame: NamedColor?) -> [String] {
        var out: [String] = []
        for noun in glassesNouns {
            let styles = style.map(Words.style) ?? [""]
            for s in styles {
                if let frame {
                    for c in Words.color(frame) {
                        out.append(join(["\(c)-framed", s, noun]))
                        out.append(join([s, noun, "with \(c) frames"]))
                    }
                } else {
                    out.append(join([s, noun]))
                }
            }
        }
        return out
    }

    static func sunglasses(style: EyewearStyle?, lens: LensColor?) -> [String] {
        var out: [String] = []
        for s in style.map(Words.style) ?? [""] {
            if let lens {
                for c in Words.lens(lens) {
                    out.append(join([s, "sunglasses with \(c) lenses"]))
                    out.append(join(["\(c)-tinted", s, "sunglasses"]))
                }
            } else {
                out.append(join([s, "sunglasses"]))
            }
        }
        return out
    }

    static func earrings(kind: EarringKind?, material: Jewelry?) -> [String] {
        var out: [String] = []
        for m in material.map(Words.jewelry) ?? [""] {
            for k in kind.map(Words.earring) ?? [""] {
                out.append(join([m, k, "earrings"]))
            }
        }
        return out
    }

    static func necklace(kind: NecklaceKind?, material: Jewelry?) -> [String] {
        guard let kind else { return ["necklace"] }
        switch kind {
        case .pearls: return ["pearl necklace", "string of pearls"]
        case .chain:
            return (material.map(Words.jewelry) ?? [""]).flatMap { m in [join([m, "chain necklace"]), join(["thin", m, "chain"])] }
        case .pendant:
            return (material.map(Words.jewelry) ?? [""]).map { m in join([m, "pendant necklace"]) }
        }
    }

    static func hat(kind: HatKind?, color: NamedColor?) -> [String] {
        let kinds = kind.map(Words.hat) ?? ["hat"]
        return (color.map(Words.color) ?? [""]).flatMap { c in kinds.map { join([c, $0]) } }
    }

    static func lipstick(_ c: LipstickColor?) -> [String] {
        guard let c else { return ["lipstick"] }
        return Words.lipstick(c).flatMap { ["\($0) lipstick", "\($0) lips"] }
    }

    static func eyeshadow(_ c: EyeshadowColor?) -> [String] {
        guard let c else { return ["eyeshadow"] }
        return Words.eyeshadow(c).map { "\($0) eyeshadow" }
    }

    static let browNouns = ["eyebrows", "brows"]

    static func brows(arched: Bool, bushy: Bool) -> [String] {
        let adjectives: [String]
        switch (arched, bushy) {
        case (true, true): adjectives = ["bushy arched", "thick arched"]
        case (true, false): adjectives = ["arched", "high-arched", "thin arched"]
        case (false, true): adjectives = ["bushy", "thick bushy"]
        case (false, false): adjectives = ["natural", "softly curved"]
        }
        return adjectives.flatMap { a in browNouns.map { "\(a) \($0)" } }
    }

    static func browsClaims(arched: Bool, bushy: Bool, adjective: String) -> [Claim] {
        var claims: [Claim] = []
        if arched { claims.append(.present(.appearance(.archedEyebrows))) }
        if bushy { claims.append(.present(.appearance(.bushyEyebrows))) }
        if !arched && !bushy { claims += [.absent(.appearance(.archedEyebrows)), .absent(.appearance(.bushyEyebrows))] }
        if adjective.hasPrefix("thin") { claims.append(.absent(.appearance(.bushyEyebrows))) }
        return claims
    }

    static func nose(big: Bool) -> [String] {
        big ? ["big nose", "large nose", "prominent nose"] : ["small nose", "neat nose"]
    }

    /// The subject-free predicate for an action: "is yawning", "has her eyes closed".
    static func action(_ a: Action) -> [String] {
        switch a {
        case .eyesClosed: return ["eyes closed", "eyes are closed", "closed eyes"]
        default: return Words.gerund(a)
        }
    }

    /// Joins non-empty words with single spaces.
    static func join(_ parts: [String]) -> String { parts.filter { !$0.isEmpty }.joined(separator: " ") }
}

// MARK: - Matcher

/// Reads the schema back out of text: finds every known phrase (longest first, left to right,
/// never across a sentence break) and returns what each one claims.
public struct PhraseMatcher: Sendable {
    public struct Match: Sendable, CustomStringConvertible {
        public let phrase: String
        public let claims: [Claim]
        public var description: String { "\"\(phrase)\" \(claims)" }
    }

    struct Entry: Sendable { let words: [String]; let claims: [Claim] }
    private let byFirstWord: [String: [Entry]]

    public static let shared = PhraseMatcher()

    init() {
        var table: [String: [Entry]] = [:]
        for (phrase, claims) in PhraseMatcher.lexicon() {
            let words = PhraseMatcher.tokenize(phrase)
            guard let first = words.first else { continue }
            table[first, default: []].append(Entry(words: words, claims: claims))
        }
        for key in table.keys { table[key]?.sort { $0.words.count > $1.words.count } }
        byFirstWord = table
    }

    /// Every known phrase in `text`, in order.
    public func matches(in text: String) -> [Match] {
        let words = PhraseMatcher.tokenize(text)
        var out: [Match] = []
        var i = 0
        while i < words.count {
            var advanced = false
            if let candidates = byFirstWord[words[i]] {
                for entry in candidates where i + entry.words.count <= words.count {
                    if words[i..<(i + entry.words.count)].elementsEqual(entry.words) {
                        out.append(Match(phrase: entry.words.joined(separator: " "), claims: entry.claims))
                        i += entry.words.count
                        advanced = true
                        break
                    }
                }
            }
            if !advanced { i += 1 }
        }
        return out
    }

    /// All claims made by `text`.
    public func claims(in text: String) -> [Claim] { matches(in: text).flatMap(\.claims) }

    /// Lower-case words (letters, digits, hyphens, apostrophes); sentence punctuation becomes
    /// a "|" token so that no phrase spans two sentences. Commas are dropped.
    static func tokenize(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for ch in text.lowercased() {
            if ch.isLetter || ch.isNumber || ch == "-" || ch == "'" {
                current.append(ch)
            } else {
                if !current.isEmpty { words.append(current); current = "" }
                if ".!?;:\n".contains(ch) { words.append("|") }
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    // MARK: Lexicon

    /// Every phrase with its claims: the builders above enumerated over all values, plus
    /// fixed words (pronouns, emotions, actions, negations).
    static func lexicon() -> [(String, [Claim])] {
        var out: [(String, [Claim])] = []
        func add(_ phrases: [String], _ claims: [Claim]) { for p in phrases { out.append((p, claims)) } }
        func ap(_ a: Appearance) -> FaceAttribute { .appearance(a) }

        // People.
        add(["he", "him", "his", "himself", "man", "male", "guy", "gentleman"], [.present(ap(.male))])
        add(["she", "her", "hers", "herself", "woman", "female", "lady"], [.absent(ap(.male))])
        add(["young", "youthful"], [.present(ap(.young))])
        add(["older", "elderly", "middle-aged", "mature"], [.absent(ap(.young))])
        add(["chubby", "plump", "chubby-cheeked"], [.present(ap(.chubby))])
        add(["slim", "slender", "lean"], [.absent(ap(.chubby))])

        // Skin and face.
        for t in SkinTone.allCases {
            var claims: [Claim] = [.detail(.skinTone, t.rawValue)]
            if t == .pale { claims.append(.present(ap(.paleSkin))) }
            add(Phrases.skin(t) + Phrases.skinIs(t) + Words.skin(t).map { "\($0)-skinned" }, claims)
        }
        for s in FaceShape.allCases { add(Phrases.face(s) + Phrases.faceIs(s), [.detail(.faceShape, s.rawValue)]) }
        add(["rosy cheeks", "rosy-cheeked", "cheeks are rosy"], [.present(ap(.rosyCheeks))])
        add(["cheeks are not rosy"], [.absent(ap(.rosyCheeks))])

        // Hair.
        for l in [nil] + HairLength.allCases.map(Optional.some) {
            for t in [nil] + HairTexture.allCases.map(Optional.some) {
                for c in [nil] + HairColor.allCases.map(Optional.some) where l != nil || t != nil || c != nil {
                    add(Phrases.hair(length: l, texture: t, color: c), Phrases.hairClaims(length: l, texture: t, color: c))
                }
            }
        }
        for l in HairLength.allCases {
            add(Words.hairLength(l).map(Phrases.hairIs), Phrases.hairClaims(length: l, texture: nil, color: nil))
        }
        for t in HairTexture.allCases {
            add(Words.hairTexture(t).map(Phrases.hairIs), Phrases.hairClaims(length: nil, texture: t, color: nil))
        }
        for c in HairColor.allCases {
            add(Words.hairColor(c).map(Phrases.hairIs), Phrases.hairClaims(length: nil, texture: nil, color: c))
        }
        add(["bald", "bald head"], [.present(ap(.bald))])
        add(["full head of hair"], [.absent(ap(.bald))])
        add(["bangs", "fringe"], [.present(ap(.bangs))])
        add(["not have bangs"], [.absent(ap(.bangs))])
        add(["receding hairline"], [.present(ap(.recedingHairline))])
        add(["not have a receding hairline"], [.absent(ap(.recedingHairline))])

        // Eyes and brows.
        for c in EyeColor.allCases { add(Phrases.eyes(c) + Phrases.eyesAre(c), [.detail(.eyeColor, c.rawValue)]) }
        for arched in [false, true] {
            for bushy in [false, true] {
                for phrase in Phrases.brows(arched: arched, bushy: bushy) {
                    let adjective = String(phrase.split(separator: " ").first ?? "")
                    add([phrase], Phrases.browsClaims(arched: arched, bushy: bushy, adjective: adjective))
                }
            }
        }
        for noun in Phrases.browNouns {
            add(["\(noun) are arched"], [.present(ap(.archedEyebrows))])
            add(["\(noun) are bushy"], [.present(ap(.bushyEyebrows))])
            add(["\(noun) are not arched"], [.absent(ap(.archedEyebrows))])
            add(["\(noun) are not bushy"], [.absent(ap(.bushyEyebrows))])
        }
        add(["bags under"], [.present(ap(.bagsUnderEyes))])
        add(["no bags under"], [.absent(ap(.bagsUnderEyes))])

        // Eyewear.
        for s in [nil] + EyewearStyle.allCases.map(Optional.some) {
            for f in [nil] + NamedColor.allCases.map(Optional.some) {
                var claims: [Claim] = [.present(ap(.eyeglasses))]
                if let s { claims.append(.detail(.eyewearStyle, s.rawValue)) }
                if let f { claims.append(.detail(.frameColor, f.rawValue)) }
                add(Phrases.glasses(style: s, frame: f), claims)
            }
            for l in [nil] + LensColor.allCases.map(Optional.some) {
                var claims: [Claim] = [.present(ap(.sunglasses))]
                if let s { claims.append(.detail(.eyewearStyle, s.rawValue)) }
                if let l { claims.append(.detail(.lensColor, l.rawValue)) }
                add(Phrases.sunglasses(style: s, lens: l), claims)
            }
        }
        add(["shades"], [.present(ap(.sunglasses))])
        add(["not wearing eyeglasses"], [.absent(ap(.eyeglasses))])
        add(["not wearing sunglasses"], [.absent(ap(.sunglasses))])
        add(["not wearing glasses", "no glasses", "not wearing any glasses"], [.absent(ap(.eyeglasses)), .absent(ap(.sunglasses))])

        // Nose, mouth, makeup.
        add(Phrases.nose(big: true) + ["nose is big", "nose is large"], [.present(ap(.bigNose))])
        add(Phrases.nose(big: false) + ["nose is small"], [.absent(ap(.bigNose))])
        add(Phrases.lipstick(nil) + ["wearing lipstick"], [.present(ap(.lipstick))])
        for c in LipstickColor.allCases {
            add(Phrases.lipstick(c) + Words.lipstick(c).map { "lipstick is \($0)" },
                [.present(ap(.lipstick)), .detail(.lipstickColor, c.rawValue)])
        }
        add(["not wearing lipstick", "natural lips", "bare lips"], [.absent(ap(.lipstick))])
        add(["heavy makeup", "heavy eye makeup", "dramatic makeup", "bold makeup"] + Phrases.eyeshadow(nil), [.present(ap(.heavyMakeup))])
        for c in EyeshadowColor.allCases {
            add(Phrases.eyeshadow(c), [.present(ap(.heavyMakeup)), .detail(.eyeshadowColor, c.rawValue)])
        }
        add(["minimal makeup", "light makeup", "not wearing heavy makeup"], [.absent(ap(.heavyMakeup))])
        add(["no makeup"], [.absent(ap(.heavyMakeup)), .absent(ap(.lipstick))])

        // Facial hair.
        add(["stubble", "stubbly", "stubbled", "five o'clock shadow"], [.present(ap(.stubble))])
        add(["goatee"], [.present(ap(.goatee))])
        add(["mustache", "moustache"], [.present(ap(.mustache))])
        add(["sideburns", "long sideburns"], [.present(ap(.sideburns))])
        add(["clean-shaven"], [.absent(ap(.stubble)), .absent(ap(.goatee)), .absent(ap(.mustache))])
        add(["not have stubble"], [.absent(ap(.stubble))])
        add(["not have a goatee"], [.absent(ap(.goatee))])
        add(["not have a mustache"], [.absent(ap(.mustache))])
        add(["not have sideburns"], [.absent(ap(.sideburns))])

        // Jewellery and hats.
        for k in [nil] + EarringKind.allCases.map(Optional.some) {
            for m in [nil] + Jewelry.allCases.map(Optional.some) {
                var claims: [Claim] = [.present(ap(.earrings))]
                if let k { claims.append(.detail(.earringKind, k.rawValue)) }
                if let m { claims.append(.detail(.earringMaterial, m.rawValue)) }
                add(Phrases.earrings(kind: k, material: m), claims)
            }
        }
        add(["necklace"], [.present(ap(.necklace))])
        add(Phrases.necklace(kind: .pearls, material: .pearl),
            [.present(ap(.necklace)), .detail(.necklaceKind, "pearls"), .detail(.necklaceMaterial, "pearl")])
        for k in [NecklaceKind.chain, .pendant] {
            add(Phrases.necklace(kind: k, material: nil), [.present(ap(.necklace)), .detail(.necklaceKind, k.rawValue)])
            for m in [Jewelry.gold, .silver] {
                add(Phrases.necklace(kind: k, material: m),
                    [.present(ap(.necklace)), .detail(.necklaceKind, k.rawValue), .detail(.necklaceMaterial, m.rawValue)])
            }
        }
        add(["not wearing earrings", "not wearing any earrings"], [.absent(ap(.earrings))])
        add(["not wearing a necklace"], [.absent(ap(.necklace))])
        add(["no jewelry", "not wearing any jewelry"], [.absent(ap(.earrings)), .absent(ap(.necklace))])
        for k in [nil] + HatKind.allCases.map(Optional.some) {
            for c in [nil] + NamedColor.allCases.map(Optional.some) {
                var claims: [Claim] = [.present(ap(.hat))]
                if let k { claims.append(.detail(.hatKind, k.rawValue)) }
                if let c { claims.append(.detail(.hatColor, c.rawValue)) }
                add(Phrases.hat(kind: k, color: c), claims)
            }
        }
        add(["not wearing a hat", "bareheaded", "no hat"], [.absent(ap(.hat))])
        add(["not wearing any accessories"],
            [.absent(ap(.eyeglasses)), .absent(ap(.sunglasses)), .absent(ap(.hat)), .absent(ap(.earrings)), .absent(ap(.necklace))])

        // Expression.
        for e in Emotion.allCases {
            add(Words.emotion(e) + Words.emotionNoun(e), [.present(.emotion(e))])
        }
        add(["smiling", "smile"], [.present(.emotion(.happy))])
        for a in Action.allCases {
            add(Phrases.action(a), [.present(.action(a))])
            add(Phrases.action(a).map { "not \($0)" }, [.absent(.action(a))])
        }
        add(["winks", "wink"], [.present(.action(.wink))])
        add(["yawns", "yawn"], [.present(.action(.yawn))])
        add(["laughs", "laughter"], [.present(.action(.laugh))])
        add(["frowns", "frown"], [.present(.action(.frown))])
        add(["shouts"], [.present(.action(.shout))])
        add(["puffed out", "puffing out"], [.present(.action(.blow))])
        return out + peoplesWords(known: Set(out.map { tokenize($0.0).joined(separator: " ") }))
    }

    /// The lexicon's words (`Lexicon`) that the phrases above do not already read: person
    /// nouns, every attribute form and its negations, detail words before their thing.
    static func peoplesWords(known: Set<String>) -> [(String, [Claim])] {
        var out: [(String, [Claim])] = []
        var seen = known
        func add(_ phrases: [String], _ claims: [Claim]) {
            for p in phrases where seen.insert(tokenize(p).joined(separator: " ")).inserted { out.append((p, claims)) }
        }
        func ap(_ a: Appearance) -> FaceAttribute { .appearance(a) }
        func filled(_ forms: [String]) -> [String] { forms.flatMap { f in ["his", "her", "their"].map { Lexicon.fill(f, poss: $0) } } }
        for p in Lexicon.people {
            var claims: [Claim] = []
            if let m = p.male { claims.append(m ? .present(ap(.male)) : .absent(ap(.male))) }
            if let y = p.young { claims.append(y ? .present(ap(.young)) : .absent(ap(.young))) }
            if !claims.isEmpty { add([p.noun], claims) }
        }
        detailWords(add)
        for a in FaceAttribute.all {
            let forms = Lexicon.forms(a)
            let present = filled(forms.present) + forms.things.map(PeopleWriter.bare)
            // Negations first, so that "not wearing specs" is read before "wearing specs".
            let negated = present.flatMap { p in
                ["not \(p)", "isn't \(p)", "aren't \(p)", "no \(PeopleWriter.bare(p))", "without \(p)", "doesn't have \(p)", "don't have \(p)"]
            }
            add(filled(forms.absent) + negated, [.absent(a)])
            add(present, [.present(a)])
        }
        return out
    }

    /// Detail words before the thing they describe ("blonde hair", "hazel eyes", "red beanie").
    static func detailWords(_ add: ([String], [Claim]) -> Void) {
        func ap(_ a: Appearance) -> FaceAttribute { .appearance(a) }
        let things: [DetailField: (nouns: [String], claims: [Claim])] = [
            .hairColor: (["hair", "locks"], []), .hairLength: (["hair", "locks"], []), .hairTexture: (["hair", "locks"], []),
            .eyeColor: (["eyes", "eye"], []), .skinTone: (["skin", "complexion"], []), .faceShape: (["face"], []),
            .frameColor: (["frames", "glasses", "specs"], [.present(ap(.eyeglasses))]),
            .lensColor: (["lenses", "sunglasses", "shades", "sunnies"], [.present(ap(.sunglasses))]),
            .lipstickColor: (["lipstick", "lips", "lippy"], [.present(ap(.lipstick))]),
            .eyeshadowColor: (["eyeshadow", "eye shadow"], [.present(ap(.heavyMakeup))]),
        ]
        for (field, thing) in things.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            for value in field.values {
                let phrases = Lexicon.words(field, value).flatMap { w in thing.nouns.map { "\(w) \($0)" } }
                // Hair words also state their flags ("blonde hair" is blond_hair too).
                var flag: [Claim] = []
                if field == .hairColor, let f = HairColor(rawValue: value)?.flag { flag = [.present(ap(f))] }
                if field == .hairLength, value == HairLength.long.rawValue { flag = [.present(ap(.longHair))] }
                if field == .hairTexture { flag = [value == HairTexture.straight.rawValue ? .absent(ap(.wavyHair)) : .present(ap(.wavyHair))] }
                add(phrases, [.detail(field, value)] + thing.claims + flag)
            }
        }
        for value in DetailField.frameColor.values {
            add(Lexicon.words(.frameColor, value).map { "\($0)-framed" }, [.present(ap(.eyeglasses)), .detail(.frameColor, value)])
        }
        for kind in HatKind.allCases {
            add(Lexicon.words(.hatKind, kind.rawValue), [.present(ap(.hat)), .detail(.hatKind, kind.rawValue)])
            for colour in NamedColor.allCases {
                add(Lexicon.words(.hatColor, colour.rawValue).flatMap { c in Lexicon.words(.hatKind, kind.rawValue).map { "\(c) \($0)" } },
                    [.present(ap(.hat)), .detail(.hatKind, kind.rawValue), .detail(.hatColor, colour.rawValue)])
            }
        }
        for kind in EarringKind.allCases {
            for material in Jewelry.allCases where !(kind == .hoop && material == .pearl) {
                let kinds = Lexicon.words(.earringKind, kind.rawValue).flatMap { $0.hasSuffix("s") ? [$0] : ["\($0) earrings"] }
                add(Lexicon.words(.earringMaterial, material.rawValue).flatMap { m in kinds.map { "\(m) \($0)" } },
                    [.present(ap(.earrings)), .detail(.earringKind, kind.rawValue), .detail(.earringMaterial, material.rawValue)])
            }
        }
        for kind in NecklaceKind.allCases {
            add(Lexicon.words(.necklaceKind, kind.rawValue).filter { $0 != "chain" }, [.present(ap(.necklace)), .detail(.necklaceKind, kind.rawValue)])
            for material in [Jewelry.gold, .silver] where kind != .pearls {
                add(Lexicon.words(.necklaceMaterial, material.rawValue).flatMap { m in Lexicon.words(.necklaceKind, kind.rawValue).map { "\(m) \($0)" } },
                    [.present(ap(.necklace)), .detail(.necklaceKind, kind.rawValue), .detail(.necklaceMaterial, material.rawValue)])
            }
        }
    }

}
