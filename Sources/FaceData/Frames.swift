/// The sentence frames of the grammar, and which of them are held out.
///
/// A frame is a template with an id that never changes. About a fifth of the frames of each
/// list (chosen by a hash of the id, so adding a frame never moves another) is held out: used
/// only in the test split and the validation split. So is a share of the pairings of a question
/// frame with a surface form (never a form's first, canonical, pairing), so that every form
/// still appears in training in other frames: a model that understands the words, not the
/// strings, answers the held-out phrasings as well as the seen ones.
///
/// Placeholders: {s} subject, {be} is/are, {do} does/do, {have} has/have, {poss} his/her/their,
/// {obj} him/her/them, {x} the surface form asked about, {t} the thing a field describes,
/// {tbe} is/are agreeing with {t}, {g} a group noun. A frame written with a leading "~" stays
/// lower-case, without a question mark (as people type).
public struct Frame: Sendable, Hashable {
    public let id: String
    public let text: String
    public let heldOut: Bool
}

public enum FrameKind: String, CaseIterable, Sendable {
    case yesNoState = "yn-state", yesNoThing = "yn-thing", wh, group, describe, prompt
}

public enum Frames {
    /// Share of each list held out.
    public static let heldOutShare = 0.2
    /// Share of (frame, form) pairings held out (forms other than the first).
    public static let heldOutPairingShare: UInt64 = 10

    /// FNV-1a: a stable hash of a string (Swift's `hashValue` changes per run).
    static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// Builds a list of frames `<prefix>.<n>`; the ~20% with the smallest hashes are held out.
    /// Ids listed in `seen` (frames an older model was trained on) are never held out.
    static func list(_ prefix: String, _ texts: [String], seen: Set<Int> = []) -> [Frame] {
        let ids = texts.indices.map { "\(prefix).\($0)" }
        let heldCount = Int((Double(texts.count) * heldOutShare).rounded())
        let held = Set(ids.enumerated().filter { !seen.contains($0.offset) }.map(\.element)
            .sorted { hash($0) < hash($1) }.prefix(heldCount))
        return zip(ids, texts).map { Frame(id: $0, text: $1, heldOut: held.contains($0)) }
    }

    /// Whether the pairing of `frame` with `form` (the `formIndex`th form of its slot) is held out.
    public static func pairingHeldOut(frame: String, form: String, formIndex: Int) -> Bool {
        formIndex > 0 && hash(frame + "|" + form) % 100 < heldOutPairingShare
    }

    // MARK: Yes/no questions

    /// Frames for "is <state>?" questions: {x} is a predicate after "is" ("bald", "wearing specs").
    public static let yesNoState = list("yn-state", [
        "{be} {s} {x}?", "Would you say {s} {be} {x}?", "Can you tell if {s} {be} {x}?", "Do you think {s} {be} {x}?",
        "{s} {be} {x}, right?", "Is it true that {s} {be} {x}?", "~{be} {s} {x} or not", "Tell me whether {s} {be} {x}.",
        "Yes or no: {be} {s} {x}?", "Quick question: {be} {s} {x}?", "{do} {s} seem to be {x}?", "Would you describe {obj} as {x}?",
        "Am I right that {s} {be} {x}?", "I think {s} {be} {x}. Correct?", "Is the person in this picture {x}?", "In this photo, {be} {s} {x}?",
        "Could you check if {s} {be} {x}?", "Would it be fair to say {s} {be} {x}?", "{x}?", "~{be} {s} {x}", "Can you see whether {s} {be} {x}?",
        "Looking at {obj}, {be} {s} {x}?", "Hey, {be} {s} {x}?", "Be honest: {be} {s} {x}?", "Is this person {x}?", "So {be} {s} {x}?",
    ])

    /// Frames for "has <thing>?" questions: {x} is a noun phrase ("a goatee", "specs").
    public static let yesNoThing = list("yn-thing", [
        "{do} {s} have {x}?", "{have} {s} got {x}?", "Any {x}?", "Can you see {x}?", "Do you see {x} on {obj}?",
        "{do} {s} happen to have {x}?", "Would you say {s} {have} {x}?", "Can you tell if {s} {have} {x}?", "{s} {have} {x}, right?",
        "Is it true that {s} {have} {x}?", "Any sign of {x}?", "{x}?", "Got {x}?", "Does the person in this picture have {x}?",
        "Yes or no: {do} {s} have {x}?", "~{do} {s} have {x}", "Could you check whether {s} {have} {x}?", "Has this person got {x}?",
        "Spot any {x}?", "I'm wondering if {s} {have} {x}. {do} {s}?", "Is there {x} to be seen?", "Do I see {x} there?",
    ])

    // MARK: Wh-questions

    /// Colour questions: {t} the thing ("hair", "eyes"), {tbe} its verb.
    public static let whColour = list("wh-colour", [
        "What colour {tbe} {poss} {t}?", "What color {tbe} {poss} {t}?", "Which colour {tbe} {poss} {t}?", "What's the colour of {poss} {t}?",
        "Tell me the color of {poss} {t}.", "{t} colour?", "~what color {tbe} the {t}", "Can you say what colour {poss} {t} {tbe}?",
        "Describe the colour of {poss} {t}.", "What shade {tbe} {poss} {t}?",
    ])

    /// Frames per field and for emotion and action (the colour fields also use `whColour`).
    public static let whField: [String: [Frame]] = [
        "hat_kind": list("wh-hat", ["What is on {poss} head?", "What kind of hat {be} {s} wearing?", "What {have} {s} got on {poss} head?",
                                     "What type of hat is it?", "Which hat {be} {s} wearing?", "~what is on top of {poss} head"]),
        "necklace_kind": list("wh-necklace", ["What's around {poss} neck?", "What kind of necklace {be} {s} wearing?",
                                              "What {be} {s} wearing around {poss} neck?", "Describe the necklace.", "What type of necklace is it?"]),
        "necklace_material": list("wh-necklace-material", ["What is {poss} necklace made of?", "Is the necklace gold, silver or pearl?",
                                                           "What material is {poss} necklace?", "What metal is the necklace?",
                                                           "Which material is {poss} necklace made from?"]),
        "earring_kind": list("wh-earrings", ["What kind of earrings {be} {s} wearing?", "What's in {poss} ears?", "What type of earrings are they?",
                                             "Describe {poss} earrings.", "What {do} {s} have in {poss} ears?"]),
        "earring_material": list("wh-earring-material", ["What are {poss} earrings made of?", "What material are the earrings?",
                                                         "Are the earrings gold, silver or pearl?", "What metal are {poss} earrings?",
                                                         "Which material are {poss} earrings made from?"]),
        "eyewear_style": list("wh-eyewear", ["What style of glasses {be} {s} wearing?", "What shape are {poss} glasses?",
                                             "What kind of frames {do} {s} have?", "Describe the glasses.", "What type of eyewear is that?",
                                             "What shape are the lenses?"]),
        "hair_length": list("wh-hair-length", ["How long is {poss} hair?", "Is {poss} hair short, medium or long?", "What length is {poss} hair?",
                                               "How long {do} {s} wear {poss} hair?", "Hair length?", "~how long is the hair"]),
        "hair_texture": list("wh-hair-texture", ["Is {poss} hair straight, wavy or curly?", "What texture is {poss} hair?",
                                                 "What's {poss} hair like, straight or curly?", "How would you describe the texture of {poss} hair?",
                                                 "Straight, wavy or curly hair?"]),
        "face_shape": list("wh-face-shape", ["What shape is {poss} face?", "What is the shape of {poss} face?", "How would you describe {poss} face shape?",
                                             "Face shape?", "Is {poss} face round, oval, square or heart-shaped?"]),
        "skin_tone": list("wh-skin", ["What is {poss} skin tone?", "How would you describe {poss} complexion?", "What colour is {poss} skin?",
                                      "How light or dark is {poss} skin?", "What's {poss} complexion like?", "Skin tone?"]),
        "emotion": list("wh-emotion", ["How {do} {s} feel?", "How {be} {s} feeling?", "What mood {be} {s} in?", "What emotion does {poss} face show?",
                                       "What is {poss} expression?", "What's {poss} mood?", "How {do} {s} look, emotionally?", "Mood?",
                                       "What {be} {s} feeling right now?", "How would you read {poss} expression?", "~how {do} {s} feel",
                                       "What kind of mood {do} {s} seem to be in?"]),
        "action": list("wh-action", ["What {be} {s} doing?", "What {be} {s} up to?", "What's going on with {obj}?", "What {be} {s} doing right now?",
                                     "Describe what {s} {be} doing.", "What {be} {s} doing with {poss} face?", "~what {be} {s} doing",
                                     "{be} {s} doing anything in particular?"]),
    ]

    /// The thing each colour field describes, and whether it is plural.
    public static let colourThing: [String: (thing: String, plural: Bool)] = [
        "hair_color": ("hair", false), "eye_color": ("eyes", true), "frame_color": ("glasses frames", true), "lens_color": ("lenses", true),
        "hat_color": ("hat", false), "lipstick_color": ("lipstick", false), "eyeshadow_color": ("eyeshadow", false),
    ]

    /// Every wh frame that can ask about `key` (a detail field, "emotion" or "action").
    public static func wh(_ key: String) -> [Frame] {
        (colourThing[key] != nil ? whColour : []) + (whField[key] ?? [])
    }

    // MARK: Group questions

    public struct Group: Sendable {
        public let name: String
        public let members: [Appearance]
        public let nouns: [String]
        public let frames: [Frame]
    }

    /// Generic group frames: {g} a group noun ("facial hair", "jewellery").
    public static let groupGeneric = list("group", [
        "Any {g}?", "{do} {s} have any {g}?", "Is there any {g}?", "Can you see any {g}?", "Do you see any {g} on {obj}?",
        "{be} {s} sporting any {g}?", "{do} {s} have {g} of any kind?", "~any {g}", "Tell me if {s} {have} any {g}.", "Got any {g}?",
        "{g}: yes or no?", "Would you say {s} {have} any {g}?", "Can you spot {g} anywhere?", "Is any {g} visible?", "Do I see {g}?",
        "Any sign of {g}?", "Hmm, any {g}?", "Is there {g} on {obj}?", "Does this person have any {g}?", "Quick check: any {g}?",
    ])

    public static let groups: [Group] = [
        Group(name: "facial_hair", members: Appearance.facialHair, nouns: ["facial hair", "beard", "whiskers"],
              frames: list("group-facial-hair", ["Anything growing on {poss} chin or upper lip?", "{have} {s} got a beard of any sort?",
                                                 "Is {poss} face hairy?"])),
        Group(name: "jewellery", members: [.earrings, .necklace], nouns: ["jewellery", "jewelry", "bling"],
              frames: list("group-jewellery", ["Anything around {poss} neck or in {poss} ears?", "{be} {s} wearing anything shiny?",
                                               "{be} {s} wearing any jewellery?", "Any jewelry on {obj}?"])),
        Group(name: "eyewear", members: [.eyeglasses, .sunglasses], nouns: ["eyewear", "glasses of any kind"],
              frames: list("group-eyewear", ["Anything covering {poss} eyes?", "Is anything over {poss} eyes?",
                                             "{be} {s} wearing anything on {poss} eyes?", "~anything covering the eyes"])),
        Group(name: "headwear", members: [.hat], nouns: ["headwear", "headgear"],
              frames: list("group-headwear", ["Anything on {poss} head?", "Is there anything on top of {poss} head?",
                                              "{be} {s} wearing anything on {poss} head?"])),
        Group(name: "makeup", members: [.lipstick, .heavyMakeup], nouns: ["makeup", "make-up", "cosmetics"],
              frames: list("group-makeup", ["{be} {s} wearing anything on {poss} lips or eyelids?", "Is {poss} face made up?",
                                            "{be} {s} wearing any makeup?"])),
    ]

    // MARK: Describe requests and prompts

    /// Requests for a caption. The first is the one the shipped model was trained on, never held out.
    public static let describe = list("describe", [
        "Describe this face in detail.", "Describe this face.", "What {do} {s} look like?", "Tell me about this person.",
        "Who is in this picture?", "Describe the person in the photo.", "Can you describe {obj}?", "Give me a description of this face.",
        "What do you see?", "Caption this image.", "Write a caption for this photo.", "~describe", "Tell me what this person looks like.",
        "What can you tell me about {poss} appearance?", "Describe {poss} looks.", "How would you describe this person?",
        "Put this face into words.", "Describe everything you notice about {obj}.", "What's this person like?", "Talk me through {poss} features.",
        "~describe this face", "Give me a caption.",
    ], seen: [0])

    /// Prompt styles; `PromptWriter` renders each (the text here names the style).
    public static let prompt = list("prompt", [
        "comma list", "lower-case words without punctuation", "a photo of P with L", "portrait of P, L", "sentences", "P with L",
        "P, L", "close-up of P with L", "draw P with L", "show me P who Q", "P who Q.", "headshot: L", "L; P", "an image of P: L",
        "make a face - L", "L, photo", "I want P that Q", "picture of P with L, please", "a photo of P. Sentences", "generate P, L",
        "face of P with L", "slash list", "P - L", "selfie of P with L", "L (list first, then P)",
    ])

    /// Grammar problems, one line each: a kind with fewer than 20 frames or no seen frame, a
    /// wh key or attribute asked in fewer than 5 frames, a form whose every pairing is held out.
    public static func problems() -> [String] {
        var out: [String] = []
        for (kind, frames) in all.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            if frames.count < 20 { out.append("frames: \(kind.rawValue) has \(frames.count) frames (at least 20)") }
            if !frames.contains(where: { !$0.heldOut }) { out.append("frames: \(kind.rawValue) has no frame seen in training") }
        }
        for key in DetailField.allCases.map(\.rawValue) + ["emotion", "action"] {
            let frames = wh(key)
            if frames.count < 5 { out.append("frames: \(key) is asked in \(frames.count) wh frames (at least 5)") }
            if !frames.contains(where: { !$0.heldOut }) { out.append("frames: \(key) has no wh frame seen in training") }
        }
        for attribute in FaceAttribute.all {
            let forms = Lexicon.forms(attribute)
            for (frames, list) in [(yesNoState, forms.states), (yesNoThing, forms.things)] {
                for (i, form) in list.enumerated() where !frames.contains(where: { !$0.heldOut && !pairingHeldOut(frame: $0.id, form: form, formIndex: i) }) {
                    out.append("frames: \"\(form)\" (\(attribute.name)) appears in no seen pairing")
                }
            }
        }
        return out
    }

    /// Every frame, by kind (for checks and counts).
    public static var all: [FrameKind: [Frame]] {
        [.yesNoState: yesNoState, .yesNoThing: yesNoThing,
         .wh: whColour + whField.keys.sorted().flatMap { whField[$0]! },
         .group: groupGeneric + groups.flatMap(\.frames), .describe: describe, .prompt: prompt]
    }
}
