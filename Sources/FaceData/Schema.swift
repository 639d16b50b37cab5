/// The 46 attributes of the data set, after CelebV-HQ's vocabulary as UniF²ace-130K uses it:
/// 29 appearance attributes, 10 actions and 7 emotions. Raw values are the stable JSON names.

public enum AttributeGroup: String, Codable, CaseIterable, Sendable {
    case appearance, action, emotion
}

/// 29 appearance attributes (binary). Several are views of a detail field (hair colour flags of
/// `hair_color`, `long_hair` of `hair_length`, ...); `FaceAttributes.violations()` keeps them in step.
public enum Appearance: String, Codable, CaseIterable, Sendable, Comparable {
    case male, young, chubby
    case paleSkin = "pale_skin", rosyCheeks = "rosy_cheeks"
    case recedingHairline = "receding_hairline", bald, bangs
    case blackHair = "black_hair", blondHair = "blond_hair", brownHair = "brown_hair", grayHair = "gray_hair"
    case wavyHair = "wavy_hair", longHair = "long_hair"
    case archedEyebrows = "arched_eyebrows", bushyEyebrows = "bushy_eyebrows"
    case bagsUnderEyes = "bags_under_eyes", eyeglasses, sunglasses, bigNose = "big_nose"
    case stubble, goatee, mustache, sideburns
    case heavyMakeup = "heavy_makeup", earrings, hat, lipstick, necklace

    /// Schema order (the order JSON lists them in).
    public static func < (a: Appearance, b: Appearance) -> Bool { a.order < b.order }
    var order: Int { Appearance.allCases.firstIndex(of: self) ?? 0 }

    /// Facial hair is for men only (a sampling constraint, and a rule in `violations`).
    public static let facialHair: [Appearance] = [.stubble, .goatee, .mustache, .sideburns]
    public static let hairColorFlags: [Appearance] = [.blackHair, .blondHair, .brownHair, .grayHair]
}

/// 10 actions. A face may show up to three at once (one eye action, one mouth action, frown);
/// the compatibility rules live in `ActionRules`.
public enum Action: String, Codable, CaseIterable, Sendable, Comparable {
    case eyesClosed = "eyes_closed", wink, yawn, talk, laugh, frown, shout, sleep
    case lookAround = "look_around", blow

    public static func < (a: Action, b: Action) -> Bool { a.order < b.order }
    var order: Int { Action.allCases.firstIndex(of: self) ?? 0 }

    /// Actions that take over the mouth (at most one per face).
    public static let mouthActions: [Action] = [.yawn, .talk, .laugh, .shout, .blow]
    /// Actions that set the eyes' state (at most one per face; sleep comes with eyes closed).
    public static let eyeActions: [Action] = [.eyesClosed, .wink, .lookAround]
}

/// 7 emotions; every face has exactly one.
public enum Emotion: String, Codable, CaseIterable, Sendable {
    case neutral, happy, sad, angry, fearful, surprised, disgusted
}

/// Any one of the 46 attributes, in schema order: appearance, then actions, then emotions.
public enum FaceAttribute: Hashable, Sendable, CustomStringConvertible {
    case appearance(Appearance)
    case action(Action)
    case emotion(Emotion)

    public static let all: [FaceAttribute] =
        Appearance.allCases.map { .appearance($0) } + Action.allCases.map { .action($0) }
        + Emotion.allCases.map { .emotion($0) }

    /// The stable snake_case name ("bags_under_eyes", "look_around", "happy").
    public var name: String {
        switch self {
        case .appearance(let a): return a.rawValue
        case .action(let a): return a.rawValue
        case .emotion(let e): return e.rawValue
        }
    }

    public var group: AttributeGroup {
        switch self {
        case .appearance: return .appearance
        case .action: return .action
        case .emotion: return .emotion
        }
    }

    /// Looks an attribute up by its stable name.
    public init?(name: String) {
        if let a = Appearance(rawValue: name) { self = .appearance(a) }
        else if let a = Action(rawValue: name) { self = .action(a) }
        else if let e = Emotion(rawValue: name) { self = .emotion(e) }
        else { return nil }
    }

    /// The everyday phrase ("bags under the eyes", "looking around"): the first of `phrases`.
    public var phrase: String { phrases[0] }

    /// Words people use for the attribute, most common first. Each one, read by
    /// `PhraseMatcher`, claims the attribute is present (a test holds them to that).
    public var phrases: [String] {
        switch self {
        case .appearance(let a):
            switch a {
            case .male: return ["male", "man"]
            case .young: return ["young", "youthful"]
            case .chubby: return ["chubby", "plump"]
            case .paleSkin: return ["pale skin", "porcelain skin"]
            case .rosyCheeks: return ["rosy cheeks", "rosy-cheeked"]
            case .recedingHairline: return ["receding hairline"]
            case .bald: return ["bald", "bald head"]
            case .bangs: return ["bangs", "fringe"]
            case .blackHair: return ["black hair", "jet-black hair"]
            case .blondHair: return ["blond hair", "golden blond hair", "platinum blond hair"]
            case .brownHair: return ["brown hair", "chestnut hair"]
            case .grayHair: return ["gray hair", "grey hair", "white hair"]
            case .wavyHair: return ["wavy hair", "curly hair"]
            case .longHair: return ["long hair", "flowing hair"]
            case .archedEyebrows: return ["arched eyebrows", "arched brows", "high-arched eyebrows"]
            case .bushyEyebrows: return ["bushy eyebrows", "bushy brows", "thick bushy eyebrows"]
            case .bagsUnderEyes: return ["bags under the eyes"]
            case .eyeglasses: return ["eyeglasses", "glasses", "spectacles"]
            case .sunglasses: return ["sunglasses", "shades"]
            case .bigNose: return ["big nose", "large nose", "prominent nose"]
            case .stubble: return ["stubble", "five o'clock shadow"]
            case .goatee: return ["goatee"]
            case .mustache: return ["mustache", "moustache"]
            case .sideburns: return ["sideburns"]
            case .heavyMakeup: return ["heavy makeup", "dramatic makeup", "eyeshadow"]
            case .earrings: return ["earrings"]
            case .hat: return ["hat", "beanie", "baseball cap", "fedora", "beret"]
            case .lipstick: return ["lipstick"]
            case .necklace: return ["necklace", "string of pearls"]
            }
        case .action(let a):
            switch a {
            case .eyesClosed: return ["eyes closed", "closed eyes"]
            case .wink: return ["winking", "wink"]
            case .yawn: return ["yawning", "yawn"]
            case .talk: return ["talking", "speaking"]
            case .laugh: return ["laughing", "laughter"]
            case .frown: return ["frowning", "frown"]
            case .shout: return ["shouting", "yelling"]
            case .sleep: return ["sleeping", "asleep"]
            case .lookAround: return ["looking around", "glancing to the side"]
            case .blow: return ["blowing", "blowing air"]
            }
        case .emotion(let e): return Words.emotion(e)
        }
    }

    public var description: String { name }
}

/// Which emotions each action can be shown with; a face's emotion must be allowed by every action
/// it shows (neutral-and-shouting is a contradiction, laughing implies happy, sleeping is neutral).
public enum ActionRules {
    public static func allowedEmotions(_ action: Action) -> Set<Emotion> {
        switch action {
        case .eyesClosed: return [.neutral, .happy, .sad]
        case .wink: return [.neutral, .happy]
        case .yawn: return [.neutral, .sad]
        case .talk: return [.neutral, .happy, .sad, .angry, .surprised]
        case .laugh: return [.happy]
        case .frown: return [.angry, .sad, .disgusted]
        case .shout: return [.angry, .fearful, .surprised]
        case .sleep: return [.neutral]
        case .lookAround: return [.neutral, .happy, .fearful, .surprised]
        case .blow: return [.neutral, .happy]
        }
    }

    /// Pairs of actions that cannot be shown together (beyond "one mouth action, one eye action").
    public static func conflict(_ a: Action, _ b: Action) -> Bool {
        if a == b { return false }
        let mouth = Set(Action.mouthActions), eyes = Set(Action.eyeActions)
        if mouth.contains(a) && mouth.contains(b) { return true }
        if eyes.contains(a) && eyes.contains(b) { return true }
        let pair: Set<Action> = [a, b]
        let forbidden: [Set<Action>] = [
            [.sleep, .yawn], [.sleep, .talk], [.sleep, .laugh], [.sleep, .shout], [.sleep, .blow],
            [.sleep, .frown], [.sleep, .wink], [.sleep, .lookAround],
            [.frown, .laugh], [.frown, .blow], [.frown, .yawn], [.frown, .wink], [.frown, .eyesClosed],
            [.wink, .yawn], [.wink, .shout], [.lookAround, .yawn], [.lookAround, .blow],
            [.eyesClosed, .talk], [.eyesClosed, .shout],
        ]
        return forbidden.contains(pair)
    }

    /// Actions that another action implies (sleeping means the eyes are closed).
    public static func implied(by action: Action) -> [Action] {
        action == .sleep ? [.eyesClosed] : []
    }

    /// Actions that need visible eyes (impossible to show behind sunglasses).
    public static let needsVisibleEyes: Set<Action> = [.eyesClosed, .wink, .sleep, .lookAround, .yawn]
}
