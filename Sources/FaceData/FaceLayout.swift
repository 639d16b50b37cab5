import Foundation

/// Variation that captions never mention: pose, light, background, clothing and the exact shade
/// of every named colour. Drawn from its own seed so the same attributes can be re-rendered
/// under the same (or another) nuisance. Every draw happens whatever the attributes are, so
/// toggling one attribute never reshuffles the others' nuisance.
struct Nuisance {
    /// Face units -> view units. Faces fill most of the frame so that small parts (irises,
    /// earrings, frames) still cover whole pixels at 64×64.
    static let baseScale: Float = 1.16

    var yaw: Float, roll: Float, scale: Float, dx: Float, dy: Float
    var light: (x: Float, y: Float, z: Float)
    var ambient: Float, intensity: Float
    var tint: RGB
    var backgroundKind: Int           // 0 solid, 1 vertical gradient, 2 radial
    var background0: RGB, background1: RGB
    var clothing: RGB
    var collarDepth: Float            // neckline depth
    var skin: RGB, hair: RGB, eyes: RGB, lips: RGB
    var frame: RGB, lens: RGB, hat: RGB, hatBand: RGB, earring: RGB, necklace: RGB, lipstick: RGB, eyeshadow: RGB
    var gem: RGB
    var winkRight: Bool, lookRight: Bool, pomPom: Bool, smileTeeth: Bool, tearRight: Bool
    var partRight: Bool, blowRight: Bool, zzzRight: Bool

    init(seed: UInt64, attrs: FaceAttributes) {
        var rng = FaceRNG(seed: seed)
        let d = attrs.details
        yaw = rng.range(-0.06, 0.06)
        let tilt = rng.range(-0.08, 0.08)
        scale = Nuisance.baseScale * rng.range(0.96, 1.03)
        dx = rng.range(-0.035, 0.035)
        dy = rng.range(-0.02, 0.03)
        let lx = rng.range(-0.6, 0.6), ly = rng.range(-0.7, -0.2), lz: Float = 0.8
        let norm = 1 / (lx * lx + ly * ly + lz * lz).squareRoot()
        light = (lx * norm, ly * norm, lz * norm)
        ambient = rng.range(0.42, 0.55)
        intensity = rng.range(0.95, 1.08)
        let warm = rng.range(-0.04, 0.04)
        tint = RGB(1 + warm, 1, 1 - warm)
        backgroundKind = rng.below(3)
        background0 = Palette.hsv(rng.unit(), rng.range(0.08, 0.5), rng.range(0.35, 0.92))
        background1 = background0.mix(Palette.hsv(rng.unit(), rng.range(0.05, 0.5), rng.range(0.3, 0.95)), rng.range(0.4, 0.9))
        clothing = Palette.hsv(rng.unit(), rng.range(0.15, 0.75), rng.range(0.25, 0.85))
        collarDepth = rng.range(0.0, 1.0)

        skin = Palette.jitter(Palette.skin(d.skinTone), &rng, amount: 0.035)
        hair = Palette.jitter(Palette.hair(d.hairColor), &rng, amount: 0.06)
        eyes = Palette.jitter(Palette.eye(d.eyeColor), &rng, amount: 0.06)
        // Natural lips: the skin, redder and darker; a little pinker on women.
        let lipBase = attrs.isMale ? RGB(0.88, 0.66, 0.64) : RGB(0.92, 0.64, 0.66)
        // On darker skin, lips are lighter and pinker than the skin around them.
        lips = skin * lipBase + RGB(0.12, 0.04, 0.06) * max(0, 0.75 - skin.luminance)
        // Older skin is a little duller.
        if !attrs.has(.young) { skin = skin.mix(RGB(skin.luminance, skin.luminance, skin.luminance), 0.18) * 0.96 }
        frame = Palette.jitter(Palette.named(d.frameColor ?? .black), &rng)
        lens = Palette.jitter(Palette.lens(d.lensColor ?? .black), &rng, amount: 0.05)
        hat = Palette.jitter(Palette.named(d.hatColor ?? .red), &rng)
        hatBand = Palette.hsv(rng.unit(), 0.2, rng.range(0.1, 0.3))
        earring = Palette.jitter(Palette.jewelry(d.earringMaterial ?? .gold), &rng, amount: 0.04)
        necklace = Palette.jitter(Palette.jewelry(d.necklaceMaterial ?? .gold), &rng, amount: 0.04)
        lipstick = Palette.jitter(Palette.lipstick(d.lipstickColor ?? .red), &rng, amount: 0.05)
        eyeshadow = Palette.jitter(Palette.eyeshadow(d.eyeshadowColor ?? .blue), &rng, amount: 0.05)
        gem = Palette.hsv(rng.unit(), 0.8, 0.8)
        winkRight = rng.chance(0.5)
        lookRight = rng.chance(0.5)
        pomPom = rng.chance(0.5)
        smileTeeth = rng.chance(0.5)
        tearRight = rng.chance(0.5)
        partRight = rng.chance(0.5)
        blowRight = rng.chance(0.5)
        zzzRight = rng.chance(0.5)
        // A sleeping head droops to one side (a cue, not nuisance).
        roll = tilt + (attrs.has(.sleep) ? (zzzRight ? -0.2 : 0.2) : 0)
    }
}

/// Where the parts of the face are, in face coordinates (x right, y down; the head is centred
/// near the origin, the view spans about -0.86...0.86 after the pose).
struct FaceGeometry {
    var cy: Float = -0.05          // head centre (x is 0)
    var rx: Float                  // half-width at the cheeks
    var ryTop: Float = 0.50
    var ryBot: Float
    var shape: FaceShape
    var squareness: Float          // 0 ellipse jaw ... 1 square jaw
    var chinTaper: Float           // heart faces narrow to the chin
    var eyeY: Float, eyeDX: Float = 0.165, eyeW: Float = 0.098, eyeH: Float = 0.062
    var browY: Float
    var noseY: Float, noseScale: Float
    var mouthY: Float
    var hairlineY: Float
    var earY: Float
    var neckHalf: Float, shoulderHalf: Float, shoulderY: Float
    var yaw: Float
    /// Jaw profile J(t), t = 0 at the cheeks ... 1 at the chin, sampled for cheap lookups.
    private var jawTable: [Float] = []

    init(_ a: FaceAttributes, yaw: Float) {
        self.yaw = yaw
        shape = a.details.faceShape
        let male = a.isMale
        switch shape {
        case .oval: rx = 0.355; ryBot = 0.55; squareness = 0.1; chinTaper = 0.15
        case .round: rx = 0.395; ryBot = 0.47; squareness = 0.0; chinTaper = 0.0
        case .square: rx = 0.385; ryBot = 0.49; squareness = 0.9; chinTaper = 0.06
        case .heart: rx = 0.39; ryBot = 0.53; squareness = 0.0; chinTaper = 0.5
        }
        if male { rx *= 1.03; squareness = min(1, squareness + 0.25) } else { rx *= 0.97 }
        if a.has(.chubby) { rx *= 1.13; ryBot += 0.02; chinTaper *= 0.3; squareness *= 0.5 }
        eyeY = cy + 0.04
        browY = eyeY - 0.115
        noseScale = a.has(.bigNose) ? 1.65 : 1.0
        noseY = eyeY + 0.18 + (a.has(.bigNose) ? 0.025 : 0)
        mouthY = eyeY + 0.31
        hairlineY = cy - 0.31
        earY = eyeY + 0.06
        neckHalf = male ? 0.165 : 0.135
        if a.has(.chubby) { neckHalf += 0.04 }
        shoulderHalf = male ? 0.95 : 0.82
        shoulderY = cy + ryBot + 0.17
        var table = [Float](repeating: 0, count: 66)
        for k in 0...64 {
            let t = Float(k) / 64
            let ellipse = (1 - t * t).squareRoot()
            let square = pow(max(0, 1 - pow(t, 5)), 0.2)
            table[k] = (ellipse + (square - ellipse) * squareness) * (1 - chinTaper * t * t)
        }
        table[65] = 0
        jawTable = table
    }

    var chinY: Float { cy + ryBot }
    var topY: Float { cy - ryTop }

    /// Head half-width at height y (0 outside the head).
    @inline(__always) func halfWidth(_ y: Float) -> Float {
        if y < cy {
            let v = (y - cy) / ryTop
            let q = 1 - v * v
            return q > 0 ? rx * q.squareRoot() : 0
        }
        let t = (y - cy) / ryBot * 64
        if t >= 64 { return 0 }
        let k = Int(t), f = t - Float(k)
        return rx * (jawTable[k] + (jawTable[k + 1] - jawTable[k]) * f)
    }

    /// Signed distance to the head outline (positive inside), in face units. Uses the implicit
    /// form |x|/rx - J(t) and its gradient, so the chin edge is as smooth as the cheeks.
    @inline(__always) func headDistance(_ x: Float, _ y: Float) -> Float {
        let ax = abs(x)
        if y < cy { return ellipseDistance(ax, y - cy, rx, ryTop) }
        let t = (y - cy) / ryBot * 64
        if t >= 64 { return -max(y - chinY, 0) - ax * 0.3 }
        let k = Int(t), f = t - Float(k)
        let j = jawTable[k] + (jawTable[k + 1] - jawTable[k]) * f
        let slope = (jawTable[k + 1] - jawTable[k]) * 64 / ryBot
        let fval = ax / rx - j
        let grad = (1 / (rx * rx) + slope * slope).squareRoot()
        return -fval / grad
    }

    /// Horizontal offset of a feature at relative depth `depth` (nose 1, eyes 0.5, ears -0.3).
    @inline(__always) func shift(_ depth: Float) -> Float { yaw * depth }

    /// Centre of the left (-1) or right (+1) eye.
    @inline(__always) func eyeX(_ side: Float) -> Float { side * eyeDX + shift(0.5) }
}

/// Parts of the picture, used to check that an attribute changes the pixels where it should.
public enum FaceRegion: String, CaseIterable, Sendable {
    case hairTop, forehead, brows, eyes, nose, mouth, cheeks, lowerFace, ears, sideburns, neck, shoulders, midFace, face, whole

    /// The region's box in face coordinates (before pose).
    func box(_ g: FaceGeometry) -> Box {
        let w = g.rx + 0.06
        switch self {
        case .hairTop: return Box(-w - 0.15, g.topY - 0.35, w + 0.15, g.eyeY - 0.05)
        case .forehead: return Box(-w, g.topY - 0.02, w, g.browY + 0.02)
        case .brows: return Box(-0.32, g.browY - 0.09, 0.32, g.eyeY - 0.04)
        case .eyes: return Box(-0.34, g.browY - 0.02, 0.34, g.eyeY + 0.12)
        case .nose: return Box(-0.14, g.eyeY + 0.02, 0.14, g.noseY + 0.07)
        case .mouth: return Box(-0.2, g.mouthY - 0.1, 0.2, g.mouthY + 0.1)
        case .cheeks: return Box(-w, g.eyeY + 0.03, w, g.mouthY + 0.06)
        case .lowerFace: return Box(-w, g.noseY - 0.02, w, g.chinY + 0.08)
        case .ears: return Box(-w - 0.14, g.earY - 0.1, w + 0.14, g.earY + 0.3)
        case .sideburns: return Box(-w, g.eyeY - 0.15, w, g.mouthY)
        case .neck: return Box(-0.45, g.chinY - 0.02, 0.45, g.chinY + 0.4)
        case .shoulders: return Box(-1.0, g.chinY + 0.05, 1.0, 1.0)
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

/// Signed distance to an axis-aligned ellipse centred at the origin (positive inside),
/// first-order accurate near the outline, which is all anti-aliasing needs.
@inline(__always) func ellipseDistance(_ x: Float, _ y: Float, _ rx: Float, _ ry: Float) -> Float {
    let u = x / rx, v = y / ry
    let k = (u * u + v * v).squareRoot()
    if k < 1e-4 { return min(rx, ry) }
    let gx = u / rx, gy = v / ry
    let g = (gx * gx + gy * gy).squareRoot() / k
    return (1 - k) / g
}
