/// The words people use for every slot of the schema: many surface forms per attribute, detail
/// value, action and emotion (nouns, adjectives, -ing forms, British and American spellings,
/// colloquial words), written from what the attribute means. The grammar (`PeopleText`) writes
/// prompts, questions and answers from these forms, `PhraseMatcher` reads them back, and
/// `TruthGrader` uses them to grade free answers.
///
/// A slot is an attribute (its values: present / absent) or a detail field (its values); within
/// one slot no form may name two values ("grey" may be a hair colour and an eye colour, but
/// within hair colour it names grey only). `Lexicon.problems()` checks that, and that every
/// value is reachable.
public enum Lexicon {
    /// How an attribute is said.
    public struct AttributeForms: Sendable {
        /// Predicates after "is": "bald", "wearing specs", "asleep", "grinning".
        public var states: [String]
        /// Noun phrases after "has"/"can you see" (with an article where English needs one):
        /// "a goatee", "specs". Empty for attributes that are no thing (emotions, age).
        public var things: [String]
        /// Items that state its absence: "no glasses", "clean-shaven", "not smiling".
        public var absent: [String]
        /// Whether degree words ("slightly", "very") can go before its adjective forms.
        public var gradable: Bool
        /// Worn (glasses, hats, jewellery, makeup) rather than had.
        public var worn: Bool

        /// Every form that says the attribute is present.
        public var present: [String] { states + things }
    }

    /// Degree words, read as nothing more than the word they modify.
    public static let degreeWords = ["slightly", "very", "a bit", "a little", "quite", "really", "somewhat", "rather", "pretty", "super", "kind of"]

    /// Every form of "yes" and of "no" an answer may open (or close) with.
    public static let yesWords = ["yes", "yep", "yeah", "yup", "sure", "definitely", "absolutely", "indeed", "of course", "correct",
                                  "that's right", "certainly", "uh-huh", "affirmative"]
    public static let noWords = ["no", "nope", "nah", "not at all", "not really", "negative", "none", "definitely not", "no way",
                                 "nothing"]
    /// Words that turn the phrase after them into a statement of absence.
    public static let negators: Set<String> = ["no", "not", "isn't", "aren't", "doesn't", "don't", "without", "never", "hasn't",
                                               "haven't", "nor", "neither", "non", "nothing"]

    // MARK: People

    /// Nouns for a person, by what they imply: gender (nil: either) and age (nil: any).
    public struct PersonNoun: Sendable, Hashable {
        public let noun: String
        public let male: Bool?
        public let young: Bool?
    }

    public static let people: [PersonNoun] = {
        func n(_ words: [String], _ male: Bool?, _ young: Bool?) -> [PersonNoun] { words.map { PersonNoun(noun: $0, male: male, young: young) } }
        return n(["boy", "young man", "lad", "teen boy", "young guy", "schoolboy"], true, true)
            + n(["old man", "grandpa", "grandad", "granddad", "grandfather", "older man", "elderly man", "old guy", "senior gentleman", "old-timer"], true, false)
            + n(["girl", "young woman", "teen girl", "young lady", "lass", "gal", "schoolgirl"], false, true)
            + n(["old woman", "grandma", "granny", "grandmother", "older woman", "elderly lady", "old lady", "senior lady"], false, false)
            + n(["man", "guy", "gentleman", "dude", "fellow", "bloke", "chap"], true, nil)
            + n(["woman", "lady", "female"], false, nil)
            + n(["kid", "teen", "teenager", "youngster", "young person", "young adult"], nil, true)
            + n(["elderly person", "senior", "old person", "pensioner"], nil, false)
            + n(["person", "someone", "face", "individual"], nil, nil)
    }()

    /// The nouns that fit a face (all their implications true).
    public static func people(for face: FaceAttributes) -> [PersonNoun] {
        people.filter { p in (p.male.map { $0 == face.isMale } ?? true) && (p.young.map { $0 == face.has(.young) } ?? true) }
    }

    // MARK: Attributes

    public static func forms(_ attribute: FaceAttribute) -> AttributeForms {
        func f(_ states: [String], _ things: [String] = [], absent: [String], gradable: Bool = false, worn: Bool = false) -> AttributeForms {
            AttributeForms(states: states, things: things, absent: absent, gradable: gradable, worn: worn)
        }
        switch attribute {
        case .appearance(let a):
            switch a {
            case .male: return f(["male", "a man", "a guy", "a bloke", "a gentleman"], absent: ["female", "a woman", "a lady", "a gal"])
            case .young: return f(["young", "youthful", "young-looking", "a young person"], absent: ["old", "older", "elderly", "middle-aged", "mature", "getting on in years"], gradable: true)
            case .chubby: return f(["chubby", "plump", "chubby-cheeked", "podgy", "tubby", "round-cheeked"], absent: ["slim", "slender", "lean", "thin-faced"], gradable: true)
            case .paleSkin: return f(["pale", "pale-skinned", "porcelain-skinned", "pasty"], ["pale skin", "porcelain skin", "a pale complexion"], absent: ["not pale"], gradable: true)
            case .rosyCheeks: return f(["rosy-cheeked", "flushed", "blushing"], ["rosy cheeks", "red cheeks", "pink cheeks", "flushed cheeks"], absent: ["no rosy cheeks", "no blush"])
            case .recedingHairline: return f(["balding", "thinning on top"], ["a receding hairline", "a high receding hairline", "a hairline going back"], absent: ["no receding hairline"])
            case .bald: return f(["bald", "bald-headed", "hairless on top", "completely bald"], ["a bald head", "a shaved head", "a shaven head", "a smooth bald head"], absent: ["not bald", "a full head of hair"])
            case .bangs: return f(["sporting a fringe"], ["bangs", "a fringe", "a fringe haircut", "a bang haircut"], absent: ["no bangs", "no fringe"])
            case .blackHair: return f(["black-haired", "dark-haired", "raven-haired"], ["black hair", "dark hair", "jet-black hair", "raven hair"], absent: ["no black hair"])
            case .blondHair: return f(["blond", "blonde", "blond-haired", "blonde-haired", "fair-haired", "golden-haired"], ["blond hair", "blonde hair", "golden hair", "fair hair"], absent: ["not blond", "not blonde"])
            case .brownHair: return f(["brown-haired", "brunette", "brunet"], ["brown hair", "chestnut hair", "brunette hair", "mousy hair"], absent: ["no brown hair"])
            case .grayHair: return f(["gray-haired", "grey-haired", "silver-haired", "white-haired"], ["gray hair", "grey hair", "silver hair", "white hair"], absent: ["no gray hair", "no grey hair"])
            case .wavyHair: return f(["wavy-haired", "wavy-headed"], ["wavy hair", "waves", "wavy locks", "a wavy hairdo"], absent: ["no waves", "not wavy-haired"])
            case .longHair: return f(["long-haired"], ["long hair", "flowing hair", "long locks", "hair past the shoulders"], absent: ["no long hair", "not long-haired"])
            case .archedEyebrows: return f(["arch-browed"], ["arched eyebrows", "arched brows", "high-arched brows", "curved brows"], absent: ["no arched eyebrows", "flat brows"])
            case .bushyEyebrows: return f(["bushy-browed", "beetle-browed"], ["bushy eyebrows", "bushy brows", "thick eyebrows", "thick brows", "heavy brows"], absent: ["no bushy eyebrows", "thin brows"])
            case .bagsUnderEyes: return f(["puffy-eyed", "baggy-eyed", "hollow-eyed"], ["bags under the eyes", "eye bags", "puffy eyes", "baggy eyes"], absent: ["no eye bags", "no bags under the eyes"])
            case .eyeglasses: return f(["bespectacled", "wearing glasses", "wearing specs"], ["glasses", "eyeglasses", "spectacles", "specs", "reading glasses", "prescription glasses"], absent: ["no glasses", "no specs", "without glasses"], worn: true)
            case .sunglasses: return f(["wearing shades", "wearing sunglasses"], ["sunglasses", "shades", "sunnies", "dark glasses", "sunspecs"], absent: ["no sunglasses", "no shades"], worn: true)
            case .bigNose: return f(["big-nosed", "large-nosed"], ["a big nose", "a large nose", "a prominent nose", "a long nose", "a hefty nose"], absent: ["a small nose", "a button nose", "a little nose", "a neat nose"])
            case .stubble: return f(["stubbly", "stubbled", "unshaven", "scruffy-faced"], ["stubble", "a five o'clock shadow", "scruff", "light stubble"], absent: ["no stubble", "no five o'clock shadow"])
            case .goatee: return f(["sporting a goatee"], ["a goatee", "a goatee beard", "a chin beard", "a little pointed beard"], absent: ["no goatee"])
            case .mustache: return f(["mustachioed", "moustached"], ["a mustache", "a moustache", "a tache", "a mustache on the upper lip"], absent: ["no mustache", "no moustache"])
            case .sideburns: return f(["sporting sideburns"], ["sideburns", "long sideburns", "sideboards", "mutton chops"], absent: ["no sideburns"])
            case .heavyMakeup: return f(["heavily made-up", "made up", "all dolled up", "wearing heavy makeup"], ["heavy makeup", "heavy make-up", "lots of makeup", "dramatic makeup", "bold makeup", "full makeup"], absent: ["no heavy makeup", "minimal makeup"], worn: true)
            case .earrings: return f(["wearing earrings"], ["earrings", "ear-rings", "ear jewellery", "ear jewelry"], absent: ["no earrings", "without earrings"], worn: true)
            case .hat: return f(["wearing a hat", "wearing headwear"], ["a hat", "headwear", "a lid", "something on the head"], absent: ["no hat", "bareheaded", "hatless"], worn: true)
            case .lipstick: return f(["wearing lipstick", "wearing lip colour"], ["lipstick", "lippy", "lip colour", "lip color", "painted lips"], absent: ["no lipstick", "bare lips"], worn: true)
            case .necklace: return f(["wearing a necklace"], ["a necklace", "a neck chain", "something around the neck"], absent: ["no necklace", "without a necklace"], worn: true)
            }
        case .action(let a):
            switch a {
            case .eyesClosed: return f(["closing {poss} eyes", "keeping {poss} eyes shut", "eyes-closed", "shut-eyed"], ["closed eyes", "eyes closed", "eyes shut", "shut eyes"], absent: ["eyes open", "with open eyes"])
            case .wink: return f(["winking", "giving a wink", "winking one eye", "mid-wink"], ["a wink"], absent: ["not winking"])
            case .yawn: return f(["yawning", "mid-yawn", "giving a big yawn", "stifling a yawn"], ["a yawn"], absent: ["not yawning"])
            case .talk: return f(["talking", "speaking", "chatting", "mid-sentence", "saying something"], absent: ["not talking", "silent"])
            case .laugh: return f(["laughing", "giggling", "cracking up", "chuckling", "in fits of laughter"], ["a laugh"], absent: ["not laughing"])
            case .frown: return f(["frowning", "scowling", "glowering", "knitting {poss} brows"], ["a frown", "a scowl"], absent: ["not frowning"])
            case .shout: return f(["shouting", "yelling", "screaming", "hollering", "bellowing"], absent: ["not shouting"])
            case .sleep: return f(["sleeping", "asleep", "dozing", "napping", "snoozing", "dozing off", "fast asleep"], absent: ["awake", "not sleeping"])
            case .lookAround: return f(["looking around", "looking away", "glancing sideways", "looking to the side", "peeking sideways"], ["a sideways glance"], absent: ["looking at the camera", "not looking around"])
            case .blow: return f(["blowing", "blowing air", "puffing out {poss} cheeks", "puffing {poss} cheeks", "blowing out air"], ["puffed-out cheeks"], absent: ["not blowing"])
            }
        case .emotion(let e):
            switch e {
            case .neutral: return f(["neutral", "calm", "expressionless", "blank-faced", "straight-faced", "deadpan", "poker-faced", "unemotional"], absent: ["not neutral", "not calm"])
            case .happy: return f(["happy", "cheerful", "joyful", "smiling", "grinning", "glad", "pleased", "beaming", "in a good mood"], ["a smile", "a grin", "a big smile"], absent: ["not happy", "not smiling", "unsmiling"], gradable: true)
            case .sad: return f(["sad", "unhappy", "sorrowful", "upset", "gloomy", "tearful", "miserable", "crying"], absent: ["not sad"], gradable: true)
            case .angry: return f(["angry", "furious", "annoyed", "mad", "cross", "irritated", "livid", "fuming"], absent: ["not angry"], gradable: true)
            case .fearful: return f(["fearful", "scared", "frightened", "afraid", "terrified", "nervous", "anxious", "spooked"], absent: ["not scared", "not afraid"], gradable: true)
            case .surprised: return f(["surprised", "astonished", "amazed", "shocked", "startled", "stunned", "taken aback"], absent: ["not surprised"], gradable: true)
            case .disgusted: return f(["disgusted", "repulsed", "grossed out", "revolted", "sickened", "appalled"], absent: ["not disgusted"], gradable: true)
            }
        }
    }

    // MARK: Detail values

    /// The words for a detail value (adjectives for colours and kinds, nouns for hats and
    /// necklaces), most common first.
    public static func words(_ field: DetailField, _ value: String) -> [String] {
        switch field {
        case .skinTone:
            return ["pale": ["pale", "porcelain", "very fair"], "fair": ["fair", "light", "light-toned"], "medium": ["medium", "medium-toned", "mid-toned"],
                    "olive": ["olive", "olive-toned"], "tan": ["tan", "tanned", "sun-tanned", "bronzed"], "brown": ["brown", "warm brown"],
                    "dark": ["dark", "deep brown", "ebony"]][value] ?? [value]
        case .faceShape:
            return ["oval": ["oval", "oval-shaped", "egg-shaped"], "round": ["round", "moon-shaped", "circular"], "square": ["square", "squarish", "boxy", "angular"],
                    "heart": ["heart-shaped", "heart shape", "heart"]][value] ?? [value]
        case .hairColor:
            return ["black": ["black", "jet-black", "raven", "dark"], "brown": ["brown", "chestnut", "brunette", "mousy"], "auburn": ["auburn", "copper", "reddish-brown"],
                    "red": ["red", "ginger", "carrot-red", "fiery red"], "blond": ["blond", "blonde", "golden", "fair", "honey blond"],
                    "platinum_blond": ["platinum blond", "platinum blonde", "platinum", "bleached", "ice blond"],
                    "gray": ["gray", "grey", "silver", "salt-and-pepper", "silvery"], "white": ["white", "snow-white", "snowy", "pure white"]][value] ?? [value]
        case .hairLength:
            return ["short": ["short", "cropped", "close-cropped", "buzzed"], "medium": ["medium-length", "chin-length", "shoulder-length", "mid-length"],
                    "long": ["long", "flowing", "waist-length"]][value] ?? [value]
        case .hairTexture:
            return ["straight": ["straight", "sleek", "poker-straight"], "wavy": ["wavy", "wavey", "loosely waved"], "curly": ["curly", "frizzy", "ringleted", "corkscrew"]][value] ?? [value]
        case .eyeColor:
            return ["brown": ["brown", "dark brown", "chocolate", "dark"], "hazel": ["hazel", "amber"], "green": ["green", "emerald"],
                    "blue": ["blue", "bright blue", "light blue", "baby blue"], "gray": ["gray", "grey", "steel-grey", "stormy grey"]][value] ?? [value]
        case .eyewearStyle:
            return ["round": ["round", "circular", "round-rimmed"], "rectangular": ["rectangular", "square-framed", "boxy"], "aviator": ["aviator", "aviator-style", "pilot"]][value] ?? [value]
        case .frameColor, .hatColor:
            return ["gray": ["gray", "grey"], "purple": ["purple", "violet"], "pink": ["pink"], "orange": ["orange"], "brown": ["brown", "tan-coloured"],
                    "black": ["black", "jet-black"], "white": ["white", "off-white"], "red": ["red", "scarlet"], "blue": ["blue", "navy"],
                    "green": ["green"], "yellow": ["yellow", "mustard"]][value] ?? [value]
        case .lensColor:
            return ["black": ["black", "dark", "tinted black"], "brown": ["brown", "amber-tinted"], "green": ["green"], "blue": ["blue", "mirrored blue"]][value] ?? [value]
        case .earringKind:
            return ["stud": ["stud", "studs", "little studs"], "hoop": ["hoop", "hoops", "big hoops"], "drop": ["drop", "dangling", "dangly", "drop-style"]][value] ?? [value]
        case .earringMaterial, .necklaceMaterial:
            return ["gold": ["gold", "golden"], "silver": ["silver", "sterling silver"], "pearl": ["pearl", "pearly"]][value] ?? [value]
        case .hatKind:
            return ["beanie": ["beanie", "woolly hat", "knit cap", "bobble hat", "toque"], "baseball_cap": ["baseball cap", "cap", "ball cap", "ballcap"],
                    "fedora": ["fedora", "trilby", "brimmed hat"], "beret": ["beret", "french beret"]][value] ?? [value]
        case .lipstickColor:
            return ["red": ["red", "bright red", "scarlet", "cherry"], "pink": ["pink", "rosy pink"], "coral": ["coral", "peach"], "plum": ["plum", "dark plum", "berry", "wine"]][value] ?? [value]
        case .eyeshadowColor:
            return ["blue": ["blue"], "purple": ["purple", "violet", "lilac"], "green": ["green"], "bronze": ["bronze", "copper"], "pink": ["pink"]][value] ?? [value]
        case .necklaceKind:
            return ["chain": ["chain", "chain necklace"], "pearls": ["pearls", "pearl necklace", "string of pearls"], "pendant": ["pendant", "locket", "pendant necklace"]][value] ?? [value]
        }
    }

    /// Whether a field's words are colours (used as "<colour> <thing>").
    public static func isColour(_ field: DetailField) -> Bool {
        [.hairColor, .eyeColor, .frameColor, .lensColor, .hatColor, .lipstickColor, .eyeshadowColor].contains(field)
    }

    // MARK: Slots

    /// One slot: its name and every (form, value) it accepts.
    public struct Slot: Sendable {
        public let name: String
        public let values: [(value: String, forms: [String])]
    }

    /// Every attribute slot (values "present"/"absent") and every detail field slot.
    public static var slots: [Slot] {
        FaceAttribute.all.map { a in
            let f = forms(a)
            return Slot(name: a.name, values: [("present", f.present), ("absent", f.absent)])
        } + DetailField.allCases.map { field in Slot(name: field.rawValue, values: field.values.map { ($0, words(field, $0)) }) }
    }

    /// Lexicon problems, one line each (empty when sound): a value without forms, a form that
    /// names two values of one slot, a form written twice.
    public static func problems(in slots: [Slot] = Lexicon.slots) -> [String] {
        var out: [String] = []
        for slot in slots {
            var owner: [String: String] = [:]
            for (value, forms) in slot.values {
                if forms.isEmpty { out.append("lexicon: \(slot.name)=\(value): no surface forms") }
                for form in forms {
                    let key = form.lowercased()
                    if let other = owner[key], other != value {
                        out.append("lexicon: \(slot.name): \"\(form)\" names both \(other) and \(value)")
                    }
                    owner[key] = value
                }
            }
        }
        return out
    }

    /// All surface forms of the lexicon (for tokenizer checks and listings).
    public static var allForms: [String] {
        var seen = Set<String>(), out: [String] = []
        let forms = people.map(\.noun) + slots.flatMap { $0.values.flatMap(\.forms) } + degreeWords + yesWords + noWords
        for f in forms where seen.insert(f).inserted { out.append(f) }
        return out
    }

    /// Replaces "{poss}" in a form.
    static func fill(_ form: String, poss: String) -> String { form.replacingOccurrences(of: "{poss}", with: poss) }

    /// The everyday words the data set must contain (people nouns, spellings, colloquialisms).
    public static let everydayWords = ["girl", "boy", "guy", "lady", "teen", "grandpa", "grandma", "kid", "blonde", "grey",
                                       "colour", "jewellery", "moustache", "haircut", "specs", "shades", "beanie", "fringe",
                                       "dozing", "scowling", "grinning", "slightly", "very", "a bit"]
}
