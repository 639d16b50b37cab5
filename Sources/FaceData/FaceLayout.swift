import Foundation

/// Variation that captions never mention: pose, light, background, clothing and the exact shade
/// of every named colour. Drawn from its own seed so the same attributes can be re-rendered
/// under the same (or another) nuisance.
struct Nuisance {
    var yaw: Float, roll: Float, scale: Float, dx: Float, dy: Float
    var light: (x: Float, y: Float, z: Float)
    var ambient: Float, intensity: Float
    var tint: RGB
    var backgroundKind: Int           // 0 solid, 1 vertical gradient, 2 radial
    var background0: RGB, background1: RGB
    var clothing: RGB
    var scoop: Float                  // neckline radius
    var skin: RGB, hair: RGB, eyes: RGB, lips: RGB
    var frame: RGB, lens: RGB, hat: RGB, earring: RGB, necklace: RGB, lipstick: RGB, eyeshadow: RGB
    var winkRight: Bool, lookRight: Bool, pomPom: Bool, smileTeeth: Bool, tearRight: Bool

    init(seed: UInt64, attrs: FaceAttributes) {
        var rng = FaceRNG(seed: seed)
        let d = attrs.details
        yaw = rng.range(-0.07, 0.07)
        roll = rng.range(-0.09, 0.09) + (attrs.has(.sleep) ? 0.22 : 0)
        scale = rng.range(0.95, 1.04)
        dx = rng.range(-0.04, 0.04)
        dy = rng.range(-0.03, 0.03)
        let lx = rng.range(-0.6, 0.6), ly = rng.range(-0.7, -0.15), lz: Float = 0.75
        let norm = 1 / (lx * lx + ly * ly + lz * lz).squareRoot()
        light = (lx * norm, ly * norm, lz * norm)
        ambient = rng.range(0.45, 0.6)
        intensity = rng.range(0.92, 1.08)
        let warm = rng.range(-0.05, 0.05)
        tint = RGB(1 + warm, 1, 1 - warm)
        backgroundKind = rng.below(3)
        background0 = Palette.hsv(rng.unit(), rng.range(0.08, 0.55), rng.range(0.35, 0.95))
        background1 = background0.mix(Palette.hsv(rng.unit(), rng.range(0.05, 0.5), rng.range(0.3, 0.95)), rng.range(0.3, 0.8))
        clothing = Palette.hsv(rng.unit(), rng.range(0.1, 0.8), rng.range(0.2, 0.9))
        scoop = rng.range(0.22, 0.27)

        skin = Palette.jitter(Palette.skin(d.skinTone), &rng, amount: 0.04)
        hair = Palette.jitter(Palette.hair(d.hairColor), &rng, amount: 0.06)
        eyes = Palette.jitter(Palette.eye(d.eyeColor), &rng, amount: 0.06)
        // Natural lips: the skin, redder and darker; a little pinker on women.
        let lipBase = attrs.isMale ? RGB(0.80, 0.55, 0.52) : RGB(0.86, 0.52, 0.55)
        lips = skin * lipBase
        frame = Palette.jitter(Palette.named(d.frameColor ?? .black), &rng)
        lens = Palette.jitter(Palette.lens(d.lensColor ?? .black), &rng, amount: 0.05)
        hat = Palette.jitter(Palette.named(d.hatColor ?? .red), &rng)
        earring = Palette.jitter(Palette.jewelry(d.earringMaterial ?? .gold), &rng, amount: 0.04)
        necklace = Palette.jitter(Palette.jewelry(d.necklaceMaterial ?? .gold), &rng, amount: 0.04)
        lipstick = Palette.jitter(Palette.lipstick(d.lipstickColor ?? .red), &rng, amount: 0.05)
        eyeshadow = Palette.jitter(Palette.eyeshadow(d.eyeshadowColor ?? .blue), &rng, amount: 0.05)
        winkRight = rng.chance(0.5)
        lookRight = rng.chance(0.5)
        pomPom = rng.chance(0.5)
        smileTeeth = rng.chance(0.5)
        tearRight = rng.chance(0.5)
    }
}

/// Where the parts of the face are, in face coordinates (x right, y down; the image spans
/// -1...1 before the pose is applied).
struct FaceGeometry {
    var cy: Float = -0.04          // head centre (x is 0)
    var rx: Float                  // half-width at the cheeks
    var ryTop: Float = 0.50
    var ryBot: Float
    var shape: FaceShape
    var squareness: Float          // 0 ellipse jaw ... 1 square jaw
    var chinTaper: Float           // heart faces narrow to the chin
    var eyeY: Float, eyeDX: Float = 0.16, eyeW: Float = 0.094, eyeH: Float = 0.056
    var browY: Float
    var noseY: Float, noseScale: Float
    var mouthY: Float, mouthW: Float
    var hairlineY: Float
    var neckHalf: Float, shoulderHalf: Float
    var yaw: Float
    /// Half-widths of the lower head, sampled (cheap per-sample lookups).
    private var jawTable: [Float] = []

    init(_ a: FaceAttributes, yaw: Float) {
        self.yaw = yaw
        shape = a.details.faceShape
        let male = a.isMale
        switch shape {
        case .oval: rx = 0.36; ryBot = 0.53; squareness = 0.1; chinTaper = 0.12
        case .round: rx = 0.40; ryBot = 0.46; squareness = 0.0; chinTaper = 0.0
        case .square: rx = 0.39; ryBot = 0.48; squareness = 0.85; chinTaper = 0.05
        case .heart: rx = 0.39; ryBot = 0.52; squareness = 0.0; chinTaper = 0.42
        }
        if male { rx *= 1.04; squareness = min(1, squareness + 0.3) } else { rx *= 0.97 }
        if a.has(.chubby) { rx *= 1.12; ryBot += 0.02; chinTaper *= 0.4; squareness *= 0.6 }
        eyeY = cy + 0.04
        browY = eyeY - 0.115
        noseScale = a.has(.bigNose) ? 1.5 : 1.0
        noseY = eyeY + 0.175 + (a.has(.bigNose) ? 0.02 : 0)
        mouthY = eyeY + 0.305
        mouthW = 0.105
        hairlineY = cy - 0.30
        neckHalf = male ? 0.175 : 0.145
        shoulderHalf = male ? 0.92 : 0.80
        if a.has(.chubby) { neckHalf += 0.03 }
        var table = [Float](repeating: 0, count: 65)
        for k in 0...64 {
            let t = Float(k) / 64
            let ellipse = (1 - t * t).squareRoot()
            let square = pow(max(0, 1 - pow(t, 4)), 0.25)
            table[k] = (ellipse + (square - ellipse) * squareness) * (1 - chinTaper * t * t)
        }
        jawTable = table
    }

    /// Head half-width at height y (0 outside the head).
    @inline(__always) func halfWidth(_ y: Float) -> Float {
        if y < cy {
            let v = (y - cy) / ryTop
            let q = 1 - v * v
            return q > 0 ? rx * 0.98 * q.squareRoot() : 0
        }
        let t = (y - cy) / ryBot * 64
        if t >= 64 { return 0 }
        let k = Int(t), f = t - Float(k)
        return rx * (jawTable[k] + (jawTable[k + 1] - jawTable[k]) * f)
    }

    var chinY: Float { cy + ryBot }
    var topY: Float { cy - ryTop }

    /// Horizontal offset of a feature at relative depth `depth` (nose 1, eyes 0.5, ears -0.3).
    @inline(__always) func shift(_ depth: Float) -> Float { yaw * depth }
}

/// Parts of the picture, used to check that an attribute changes the pixels where it should.
public enum FaceRegion: String, CaseIterable, Sendable {
    case hairTop, forehead, brows, eyes, nose, mouth, cheeks, lowerFace, ears, sideburns, neck, shoulders, midFace, face, whole

    /// The region's box in face coordinates (before pose).
    func box(_ g: FaceGeometry) -> Box {
        let w = g.rx + 0.1
        switch self {
        case .hairTop: return Box(-w - 0.1, -1, w + 0.1, g.eyeY - 0.05)
        case .forehead: return Box(-w, g.topY - 0.1, w, g.eyeY - 0.04)
        case .brows: return Box(-0.36, g.browY - 0.09, 0.36, g.eyeY - 0.03)
        case .eyes: return Box(-0.36, g.browY - 0.03, 0.36, g.eyeY + 0.13)
        case .nose: return Box(-0.15, g.eyeY - 0.02, 0.15, g.noseY + 0.09)
        case .mouth: return Box(-0.22, g.mouthY - 0.1, 0.22, g.mouthY + 0.12)
        case .cheeks: return Box(-w, g.eyeY + 0.02, w, g.mouthY + 0.08)
        case .lowerFace: return Box(-w, g.noseY - 0.05, w, g.chinY + 0.1)
        case .ears: return Box(-w - 0.15, g.eyeY - 0.1, w + 0.15, g.eyeY + 0.34)
        case .sideburns: return Box(-w, g.eyeY - 0.15, w, g.mouthY)
        case .neck: return Box(-0.5, g.chinY - 0.05, 0.5, 1.05)
        case .shoulders: return Box(-1.05, g.cy + 0.15, 1.05, 1.05)
        case .midFace: return Box(-w, g.browY - 0.1, w, g.chinY + 0.05)
        case .face: return Box(-w - 0.05, g.topY - 0.05, w + 0.05, g.chinY + 0.08)
        case .whole: return Box(-2, -2, 2, 2)
        }
    }
}

extension FaceAttribute {
    /// Where a change of this attribute must show up.
    public var region: FaceRegion {
        switch self {
        case .appearance(let a):
            switch a {
            case .male, .paleSkin: return .whole
            case .young, .chubby: return .face
            case .rosyCheeks: return .cheeks
            case .recedingHairline, .bangs: return .forehead
            case .bald, .blackHair, .blondHair, .brownHair, .grayHair, .wavyHair, .hat: return .hairTop
            case .longHair: return .shoulders
            case .archedEyebrows, .bushyEyebrows: return .brows
            case .bagsUnderEyes, .eyeglasses, .sunglasses, .heavyMakeup: return .eyes
            case .bigNose: return .nose
            case .stubble, .goatee: return .lowerFace
            case .mustache, .lipstick: return .mouth
            case .sideburns: return .sideburns
            case .earrings: return .ears
            case .necklace: return .neck
            }
        case .action(let a):
            switch a {
            case .eyesClosed, .wink, .lookAround: return .eyes
            case .talk: return .mouth
            case .blow: return .lowerFace
            case .yawn, .laugh, .frown, .shout: return .midFace
            case .sleep: return .whole
            }
        case .emotion: return .midFace
        }
    }
}

/// The pose and geometry of one render, for tools that need to know where things are
/// (tests, eval crops).
public struct FaceLayout {
    let nuisance: Nuisance
    let geometry: FaceGeometry

    public init(_ attrs: FaceAttributes, nuisanceSeed: UInt64) {
        nuisance = Nuisance(seed: nuisanceSeed, attrs: attrs)
        geometry = FaceGeometry(attrs, yaw: nuisance.yaw)
    }

    /// The pixel rectangle (x0, y0, x1, y1), clamped to the image, that covers `region`
    /// in an image of `size`×`size`.
    public func pixelBox(_ region: FaceRegion, size: Int) -> (x0: Int, y0: Int, x1: Int, y1: Int) {
        let b = region.box(geometry)
        let n = nuisance
        let c = cos(n.roll), s = sin(n.roll)
        var x0 = Float.greatestFiniteMagnitude, y0 = x0, x1 = -x0, y1 = -x0
        for (x, y) in [(b.x0, b.y0), (b.x1, b.y0), (b.x0, b.y1), (b.x1, b.y1)] {
            let vx = n.scale * (c * x - s * y) + n.dx, vy = n.scale * (s * x + c * y) + n.dy
            let px = (vx + 1) * 0.5 * Float(size), py = (vy + 1) * 0.5 * Float(size)
            x0 = min(x0, px); x1 = max(x1, px); y0 = min(y0, py); y1 = max(y1, py)
        }
        func clampPx(_ v: Float) -> Int { max(0, min(size - 1, Int(v))) }
        return (clampPx(x0), clampPx(y0), clampPx(x1), clampPx(y1))
    }
}
