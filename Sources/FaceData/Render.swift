import Foundation
import Imaging

/// The deterministic face renderer: an attribute record plus a nuisance seed in, an RGB image out.
///
/// Shapes are drawn as signed distances in face coordinates on a supersampled canvas, with a
/// one-sample soft edge, and box-filtered down to the output size: anti-aliasing at a fixed cost.
/// Every part is shaded (a directional light over rounded normals), never a flat fill.
public enum FaceRenderer {
    /// Output sizes the renderer accepts (square images).
    public static let sizes = 16...256

    /// Renders `attrs` as a `size`×`size` image. The same (attrs, nuisanceSeed, size) always gives
    /// the same pixels. `size` is clamped to `sizes`.
    public static func render(_ attrs: FaceAttributes, nuisanceSeed: UInt64, size: Int = 64) -> RGBImage {
        let size = min(max(size, sizes.lowerBound), sizes.upperBound)
        // 2×2 samples per pixel: shapes already have a one-sample soft edge from their signed
        // distance, so 3×3 looked the same at 64×64 and cost twice as much.
        let factor = 2
        let nuisance = Nuisance(seed: nuisanceSeed, attrs: attrs)
        var canvas = Canvas(n: size * factor, roll: nuisance.roll, scale: nuisance.scale, tx: nuisance.dx, ty: nuisance.dy)
        let painter = FacePainter(attrs, nuisance, sampleSize: 2 / (Float(size * factor) * nuisance.scale))
        painter.paint(&canvas)
        return canvas.downsample(factor, tint: nuisance.tint)
    }
}

/// Everything one render needs: the record, its nuisance and geometry, the expression, and the
/// colours derived from them. Drawing methods live in extensions (RenderFace, RenderHair,
/// RenderAccessories); each paints one part onto the canvas, back to front.
struct FacePainter {
    let a: FaceAttributes
    let n: Nuisance
    let g: FaceGeometry
    let e: Expression
    /// One canvas sample in face units (the soft-edge width).
    let px: Float
    let invPx: Float
    let skin: RGB
    let hair: RGB
    let brow: RGB
    let beard: RGB
    /// Light-facing surfaces keep their named colour: shading is relative to a face-on normal.
    let lightNorm: Float
    // Looked up per sample by the hair shaders: cached (Set lookups hash a string each time).
    let bangs: Bool, receding: Bool
    let texture: HairTexture
    let hairLength: HairLength?

    init(_ a: FaceAttributes, _ n: Nuisance, sampleSize: Float) {
        self.a = a
        self.n = n
        g = FaceGeometry(a, yaw: n.yaw)
        e = Expression(a, n)
        px = sampleSize
        invPx = 1 / sampleSize
        skin = n.skin
        hair = n.hair
        // Brows and facial hair: the hair colour, shifted away from the skin's brightness so
        // that they read on every skin tone (dark brows on light skin, light ones on dark skin).
        let hairLum = max(n.hair.luminance, 0.01), skinLum = n.skin.luminance
        if hairLum * 0.7 < skinLum + 0.05 {
            let target = max(0.035, min(hairLum * 0.7, skinLum - 0.22))
            brow = n.hair * (target / hairLum)
        } else {
            brow = n.hair * 0.92
        }
        beard = brow.mix(n.hair, 0.3)
        lightNorm = 1 / (n.ambient + (1 - n.ambient) * n.intensity * n.light.z)
        bangs = a.has(.bangs)
        receding = a.has(.recedingHairline)
        texture = a.details.hairTexture ?? .straight
        hairLength = a.details.hairLength
    }

    func paint(_ c: inout Canvas) {
        background(&c)
        hairBack(&c)
        neckAndChest(&c)
        body(&c)
        necklace(&c)
        hairLocks(&c)
        ears(&c)
        cheekPuffs(&c)
        head(&c)
        skinDetails(&c)
        facialHairUnder(&c)
        nose(&c)
        eyes(&c)
        brows(&c)
        mouth(&c)
        mustache(&c)
        hairFront(&c)
        hat(&c)
        earrings(&c)
        eyewear(&c)
        cues(&c)
    }

    // MARK: - Shared helpers

    /// Coverage of a shape from the signed distance to its outline (positive inside).
    @inline(__always) func cov(_ d: Float) -> Float { clamp01(d * invPx + 0.5) }

    /// Diffuse light on a rounded surface with normal (nx, ny, √(1-nx²-ny²)), 1 for a face-on normal.
    @inline(__always) func lit(_ nx: Float, _ ny: Float) -> Float {
        let q = 1 - nx * nx - ny * ny
        let nz = q > 0.02 ? q.squareRoot() : 0.14
        let d = max(0, nx * n.light.x + ny * n.light.y + nz * n.light.z)
        return (n.ambient + (1 - n.ambient) * n.intensity * d) * lightNorm
    }

    /// Skin under shading `s`: shadows turn a little warmer, as skin does.
    @inline(__always) func skinShade(_ s: Float) -> RGB {
        let warm = max(0, 1 - s) * 0.1
        return RGB(skin.r * min(s + warm, 1.12), skin.g * s, skin.b * s * (1 - warm * 0.5))
    }

    /// Skin lighting at face point (x, y), as the head's shader computes it.
    @inline(__always) func faceLight(_ x: Float, _ y: Float) -> Float {
        let nx = (x - g.shift(0.25)) / (g.rx * 1.12)
        let ny = y < g.cy ? (y - g.cy) / (g.ryTop * 1.15) : (y - g.cy) / (g.ryBot * 1.3)
        return lit(nx, ny)
    }

    /// A shaded stroke: paints `stroke` with `color`, alpha `alpha`, soft edges.
    func drawStroke(_ c: inout Canvas, _ stroke: Stroke, _ color: RGB, alpha: Float = 1) {
        c.fill(stroke.box) { x, y in
            let (d, _) = stroke.depth(x, y)
            let k = cov(d)
            return k > 0 ? Paint(k * alpha, color) : .none
        }
    }

    // MARK: - Background, neck, clothes

    func background(_ c: inout Canvas) {
        let kind = n.backgroundKind, b0 = n.background0, b1 = n.background1
        c.fillView { x, y in
            switch kind {
            case 0: return b0.mix(b1, 0.15 * (y + 1))
            case 1: return b0.mix(b1, (y + 1) * 0.5)
            default: return b1.mix(b0, clamp01(1.1 - (x * x + y * y) * 0.6))
            }
        }
    }

    func neckAndChest(_ c: inout Canvas) {
        let half = g.neckHalf, top = g.chinY - 0.25, sy = g.shoulderY
        c.fill(Box(-half - 0.4, top, half + 0.4, 1.2)) { x, y in
            let flare = 0.35 * smoothstep(sy - 0.08, sy + 0.25, y)
            let d = half + flare - abs(x)
            let k = cov(d)
            if k <= 0 { return .none }
            var s = lit(x / (half + flare + 0.12) * 0.8, -0.1)
            // The head shades the neck just under the chin.
            s *= 0.62 + 0.38 * smoothstep(g.chinY - 0.04, g.chinY + 0.16, y)
            return Paint(k, skinShade(s))
        }
    }

    /// Top edge of the clothes (shoulder line) at x.
    @inline(__always) func shoulderTop(_ x: Float) -> Float {
        let t = clamp01((abs(x) - g.neckHalf * 0.8) / (g.shoulderHalf - g.neckHalf * 0.8))
        return g.shoulderY + 0.04 + 0.2 * (1 - (1 - t * t).squareRoot()) + 0.04 * t
    }

    func body(_ c: inout Canvas) {
        let cloth = n.clothing
        let male = a.isMale
        // Neckline: a crew or shallow V for men, a scoop for women; depth is nuisance.
        let w = male ? g.neckHalf + 0.04 + 0.05 * n.collarDepth : g.neckHalf + 0.1 + 0.1 * n.collarDepth
        let depth = male ? 0.05 + 0.07 * n.collarDepth : 0.12 + 0.12 * n.collarDepth
        let vNeck = male && n.collarDepth > 0.6
        let top0 = g.shoulderY - 0.02
        c.fill(Box(-1.3, top0, 1.3, 1.3)) { x, y in
            let dTop = y - shoulderTop(x)
            let u = x / w
            let neckBottom: Float
            if abs(u) >= 1 { neckBottom = -10 }
            else if vNeck { neckBottom = top0 + depth * (1 - abs(u)) + 0.03 }
            else { neckBottom = top0 + depth * (1 - u * u).squareRoot() + 0.02 }
            let dCut = max(abs(x) - w, y - neckBottom)
            let d = min(dTop, dCut)
            let k = cov(d)
            if k <= 0 { return .none }
            var s = lit(x / 1.4, -0.35 + (y - top0) * 0.6)
            // Hem along the neckline and soft folds.
            if dCut < 0.025 { s *= 0.78 }
            s *= 0.93 + 0.07 * fsin(x * 9 + y * 4)
            return Paint(k, cloth * s)
        }
    }
}

extension Canvas {
    /// Box-filters `factor`×`factor` blocks into an 8-bit image, applying a white-balance tint.
    func downsample(_ factor: Int, tint: RGB) -> RGBImage {
        let out = n / factor
        var bytes = [UInt8](repeating: 0, count: out * out * 3)
        let norm = 255 / Float(factor * factor)
        let kr = norm * tint.r, kg = norm * tint.g, kb = norm * tint.b
        px.withUnsafeBufferPointer { src in
            bytes.withUnsafeMutableBufferPointer { dst in
                for y in 0..<out {
                    for x in 0..<out {
                        var r: Float = 0, g: Float = 0, b: Float = 0
                        for dy in 0..<factor {
                            var o = ((y * factor + dy) * n + x * factor) * 3
                            for _ in 0..<factor {
                                r += src[o]; g += src[o + 1]; b += src[o + 2]
                                o += 3
                            }
                        }
                        let d = (y * out + x) * 3
                        dst[d] = UInt8(max(0, min(255, r * kr + 0.5)))
                        dst[d + 1] = UInt8(max(0, min(255, g * kg + 0.5)))
                        dst[d + 2] = UInt8(max(0, min(255, b * kb + 0.5)))
                    }
                }
            }
        }
        return RGBImage(width: out, height: out, pixels: bytes)
    }
}
