/// Base colours for every named value. The renderer jitters each one a little per image
/// (nuisance): "blue eyes" covers a range of blues, never a different name's colour.
enum Palette {
    static func skin(_ t: SkinTone) -> RGB {
        switch t {
        case .pale: return RGB(0.98, 0.87, 0.81)
        case .fair: return RGB(0.96, 0.78, 0.64)
        case .medium: return RGB(0.86, 0.64, 0.48)
        case .olive: return RGB(0.76, 0.62, 0.42)
        case .tan: return RGB(0.76, 0.52, 0.34)
        case .brown: return RGB(0.55, 0.36, 0.23)
        case .dark: return RGB(0.33, 0.21, 0.14)
        }
    }

    static func hair(_ c: HairColor) -> RGB {
        switch c {
        case .black: return RGB(0.07, 0.06, 0.06)
        case .brown: return RGB(0.36, 0.21, 0.11)
        case .auburn: return RGB(0.52, 0.19, 0.09)
        case .red: return RGB(0.82, 0.33, 0.12)
        case .blond: return RGB(0.88, 0.72, 0.40)
        case .platinumBlond: return RGB(0.95, 0.92, 0.80)
        case .gray: return RGB(0.58, 0.58, 0.59)
        case .white: return RGB(0.93, 0.93, 0.94)
        }
    }

    static func eye(_ c: EyeColor) -> RGB {
        switch c {
        case .brown: return RGB(0.42, 0.22, 0.08)
        case .hazel: return RGB(0.58, 0.48, 0.18)
        case .green: return RGB(0.20, 0.62, 0.28)
        case .blue: return RGB(0.22, 0.50, 0.90)
        case .gray: return RGB(0.60, 0.64, 0.68)
        }
    }

    static func named(_ c: NamedColor) -> RGB {
        switch c {
        case .black: return RGB(0.10, 0.10, 0.11)
        case .white: return RGB(0.95, 0.95, 0.95)
        case .gray: return RGB(0.55, 0.55, 0.56)
        case .red: return RGB(0.85, 0.12, 0.12)
        case .blue: return RGB(0.14, 0.30, 0.82)
        case .green: return RGB(0.13, 0.58, 0.24)
        case .yellow: return RGB(0.96, 0.84, 0.14)
        case .orange: return RGB(0.97, 0.50, 0.08)
        case .purple: return RGB(0.50, 0.20, 0.66)
        case .pink: return RGB(0.97, 0.52, 0.72)
        case .brown: return RGB(0.45, 0.27, 0.13)
        }
    }

    static func lens(_ c: LensColor) -> RGB {
        switch c {
        case .black: return RGB(0.06, 0.06, 0.08)
        case .brown: return RGB(0.38, 0.20, 0.08)
        case .green: return RGB(0.08, 0.32, 0.14)
        case .blue: return RGB(0.10, 0.24, 0.60)
        }
    }

    static func jewelry(_ c: Jewelry) -> RGB {
        switch c {
        case .gold: return RGB(0.98, 0.76, 0.18)
        case .silver: return RGB(0.80, 0.83, 0.88)
        case .pearl: return RGB(0.97, 0.95, 0.90)
        }
    }

    static func lipstick(_ c: LipstickColor) -> RGB {
        switch c {
        case .red: return RGB(0.80, 0.04, 0.10)
        case .pink: return RGB(0.95, 0.38, 0.62)
        case .coral: return RGB(0.98, 0.45, 0.32)
        case .plum: return RGB(0.45, 0.08, 0.30)
        }
    }

    static func eyeshadow(_ c: EyeshadowColor) -> RGB {
        switch c {
        case .blue: return RGB(0.22, 0.45, 0.92)
        case .purple: return RGB(0.55, 0.22, 0.78)
        case .green: return RGB(0.22, 0.66, 0.34)
        case .bronze: return RGB(0.66, 0.43, 0.16)
        case .pink: return RGB(0.96, 0.44, 0.66)
        }
    }

    /// A colour within its name: overall brightness ±`amount`, each channel ±amount/3.
    static func jitter(_ c: RGB, _ rng: inout FaceRNG, amount: Float = 0.07) -> RGB {
        let k = 1 + rng.range(-amount, amount)
        let e = amount / 3
        return RGB(clamp01(c.r * k + rng.range(-e, e)), clamp01(c.g * k + rng.range(-e, e)),
                   clamp01(c.b * k + rng.range(-e, e)))
    }

    /// HSV (all 0...1) to RGB, for backgrounds and clothing.
    static func hsv(_ h: Float, _ s: Float, _ v: Float) -> RGB {
        let h6 = (h - h.rounded(.down)) * 6
        let i = Int(h6), f = h6 - Float(i)
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        switch i % 6 {
        case 0: return RGB(v, t, p)
        case 1: return RGB(q, v, p)
        case 2: return RGB(p, v, t)
        case 3: return RGB(p, q, v)
        case 4: return RGB(t, p, v)
        default: return RGB(v, p, q)
        }
    }
}
