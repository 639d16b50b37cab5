/// Multi-valued details that make descriptions fine-grained. Raw values are the stable JSON
/// values; `Vocabulary` holds the words captions use for them.

public enum SkinTone: String, Codable, CaseIterable, Sendable {
    case pale, fair, medium, olive, tan, brown, dark
}

public enum FaceShape: String, Codable, CaseIterable, Sendable {
    case oval, round, square, heart
}

public enum HairColor: String, Codable, CaseIterable, Sendable {
    case black, brown, auburn, red, blond
    case platinumBlond = "platinum_blond"
    case gray, white

    /// The CelebV-HQ hair-colour flag this colour counts as (auburn and red count as none).
    public var flag: Appearance? {
        switch self {
        case .black: return .blackHair
        case .brown: return .brownHair
        case .blond, .platinumBlond: return .blondHair
        case .gray, .white: return .grayHair
        case .auburn, .red: return nil
        }
    }
}

public enum HairLength: String, Codable, CaseIterable, Sendable {
    case short, medium, long
}

public enum HairTexture: String, Codable, CaseIterable, Sendable {
    case straight, wavy, curly
}

public enum EyeColor: String, Codable, CaseIterable, Sendable {
    case brown, hazel, green, blue, gray
}

public enum EyewearStyle: String, Codable, CaseIterable, Sendable {
    case round, rectangular, aviator
}

/// Colours of things people wear (hats, glasses frames).
public enum NamedColor: String, Codable, CaseIterable, Sendable {
    case black, white, gray, red, blue, green, yellow, orange, purple, pink, brown
}

public enum LensColor: String, Codable, CaseIterable, Sendable {
    case black, brown, green, blue
}

public enum EarringKind: String, Codable, CaseIterable, Sendable {
    case stud, hoop, drop
}

public enum Jewelry: String, Codable, CaseIterable, Sendable {
    case gold, silver, pearl
}

public enum HatKind: String, Codable, CaseIterable, Sendable {
    case beanie
    case baseballCap = "baseball_cap"
    case fedora, beret
}

public enum LipstickColor: String, Codable, CaseIterable, Sendable {
    case red, pink, coral, plum
}

public enum EyeshadowColor: String, Codable, CaseIterable, Sendable {
    case blue, purple, green, bronze, pink
}

public enum NecklaceKind: String, Codable, CaseIterable, Sendable {
    case chain, pearls, pendant
}

/// The detail fields, with the stable JSON key, the values, and when the field is present.
public enum DetailField: String, Codable, CaseIterable, Sendable {
    case skinTone = "skin_tone", faceShape = "face_shape"
    case hairColor = "hair_color", hairLength = "hair_length", hairTexture = "hair_texture"
    case eyeColor = "eye_color"
    case eyewearStyle = "eyewear_style", frameColor = "frame_color", lensColor = "lens_color"
    case earringKind = "earring_kind", earringMaterial = "earring_material"
    case hatKind = "hat_kind", hatColor = "hat_color"
    case lipstickColor = "lipstick_color", eyeshadowColor = "eyeshadow_color"
    case necklaceKind = "necklace_kind", necklaceMaterial = "necklace_material"

    public var values: [String] {
        switch self {
        case .skinTone: return SkinTone.allCases.map(\.rawValue)
        case .faceShape: return FaceShape.allCases.map(\.rawValue)
        case .hairColor: return HairColor.allCases.map(\.rawValue)
        case .hairLength: return HairLength.allCases.map(\.rawValue)
        case .hairTexture: return HairTexture.allCases.map(\.rawValue)
        case .eyeColor: return EyeColor.allCases.map(\.rawValue)
        case .eyewearStyle: return EyewearStyle.allCases.map(\.rawValue)
        case .frameColor, .hatColor: return NamedColor.allCases.map(\.rawValue)
        case .lensColor: return LensColor.allCases.map(\.rawValue)
        case .earringKind: return EarringKind.allCases.map(\.rawValue)
        case .earringMaterial, .necklaceMaterial: return Jewelry.allCases.map(\.rawValue)
        case .hatKind: return HatKind.allCases.map(\.rawValue)
        case .lipstickColor: return LipstickColor.allCases.map(\.rawValue)
        case .eyeshadowColor: return EyeshadowColor.allCases.map(\.rawValue)
        case .necklaceKind: return NecklaceKind.allCases.map(\.rawValue)
        }
    }

    /// The appearance attribute whose presence the field depends on (nil: always present,
    /// except hair length/texture, which are absent exactly when the face is bald).
    public var requires: Appearance? {
        switch self {
        case .skinTone, .faceShape, .hairColor, .eyeColor, .hairLength, .hairTexture: return nil
        case .eyewearStyle: return nil
        case .frameColor: return .eyeglasses
        case .lensColor: return .sunglasses
        case .earringKind, .earringMaterial: return .earrings
        case .hatKind, .hatColor: return .hat
        case .lipstickColor: return .lipstick
        case .eyeshadowColor: return .heavyMakeup
        case .necklaceKind, .necklaceMaterial: return .necklace
        }
    }

    /// When the field is present, in words (exported in schema.json).
    public var presence: String {
        switch self {
        case .hairLength, .hairTexture: return "unless bald"
        case .eyewearStyle: return "with eyeglasses or sunglasses"
        default: return requires.map { "with \($0.rawValue)" } ?? "always"
        }
    }
}

/// The detail values of one face. Optional fields are absent when the thing they describe is.
public struct FaceDetails: Codable, Hashable, Sendable {
    public var skinTone: SkinTone
    public var faceShape: FaceShape
    /// Always set: it also colours eyebrows and facial hair of bald faces.
    public var hairColor: HairColor
    public var hairLength: HairLength?
    public var hairTexture: HairTexture?
    public var eyeColor: EyeColor
    public var eyewearStyle: EyewearStyle?
    public var frameColor: NamedColor?
    public var lensColor: LensColor?
    public var earringKind: EarringKind?
    public var earringMaterial: Jewelry?
    public var hatKind: HatKind?
    public var hatColor: NamedColor?
    public var lipstickColor: LipstickColor?
    public var eyeshadowColor: EyeshadowColor?
    public var necklaceKind: NecklaceKind?
    public var necklaceMaterial: Jewelry?

    public init(skinTone: SkinTone = .fair, faceShape: FaceShape = .oval, hairColor: HairColor = .brown,
                hairLength: HairLength? = .short, hairTexture: HairTexture? = .straight,
                eyeColor: EyeColor = .brown) {
        self.skinTone = skinTone
        self.faceShape = faceShape
        self.hairColor = hairColor
        self.hairLength = hairLength
        self.hairTexture = hairTexture
        self.eyeColor = eyeColor
    }

    enum CodingKeys: String, CodingKey {
        case skinTone = "skin_tone", faceShape = "face_shape", hairColor = "hair_color"
        case hairLength = "hair_length", hairTexture = "hair_texture", eyeColor = "eye_color"
        case eyewearStyle = "eyewear_style", frameColor = "frame_color", lensColor = "lens_color"
        case earringKind = "earring_kind", earringMaterial = "earring_material"
        case hatKind = "hat_kind", hatColor = "hat_color"
        case lipstickColor = "lipstick_color", eyeshadowColor = "eyeshadow_color"
        case necklaceKind = "necklace_kind", necklaceMaterial = "necklace_material"
    }

    /// The value of a field as its stable string, nil when absent.
    public func value(_ field: DetailField) -> String? {
        switch field {
        case .skinTone: return skinTone.rawValue
        case .faceShape: return faceShape.rawValue
        case .hairColor: return hairColor.rawValue
        case .hairLength: return hairLength?.rawValue
        case .hairTexture: return hairTexture?.rawValue
        case .eyeColor: return eyeColor.rawValue
        case .eyewearStyle: return eyewearStyle?.rawValue
        case .frameColor: return frameColor?.rawValue
        case .lensColor: return lensColor?.rawValue
        case .earringKind: return earringKind?.rawValue
        case .earringMaterial: return earringMaterial?.rawValue
        case .hatKind: return hatKind?.rawValue
        case .hatColor: return hatColor?.rawValue
        case .lipstickColor: return lipstickColor?.rawValue
        case .eyeshadowColor: return eyeshadowColor?.rawValue
        case .necklaceKind: return necklaceKind?.rawValue
        case .necklaceMaterial: return necklaceMaterial?.rawValue
        }
    }
}
