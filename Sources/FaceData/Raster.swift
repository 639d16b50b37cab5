import Foundation
import Imaging

/// A colour with float channels in 0...1 (sRGB values; blending in sRGB is fine at this scale).
struct RGB: Sendable {
    var r: Float, g: Float, b: Float

    init(_ r: Float, _ g: Float, _ b: Float) { self.r = r; self.g = g; self.b = b }

    @inline(__always) static func * (c: RGB, k: Float) -> RGB { RGB(c.r * k, c.g * k, c.b * k) }
    @inline(__always) static func * (c: RGB, k: RGB) -> RGB { RGB(c.r * k.r, c.g * k.g, c.b * k.b) }
    @inline(__always) static func + (a: RGB, b: RGB) -> RGB { RGB(a.r + b.r, a.g + b.g, a.b + b.b) }

    /// `self` moved towards `other` by `t`.
    @inline(__always) func mix(_ other: RGB, _ t: Float) -> RGB {
        RGB(r + (other.r - r) * t, g + (other.g - g) * t, b + (other.b - b) * t)
    }

    var luminance: Float { 0.299 * r + 0.587 * g + 0.114 * b }

    static let white = RGB(1, 1, 1)
    static let black = RGB(0, 0, 0)
}

/// What a shader returns for one sample: coverage/opacity and colour. `a <= 0` leaves the pixel.
struct Paint {
    var a: Float
    var c: RGB
    @inline(__always) init(_ a: Float, _ c: RGB) { self.a = a; self.c = c }
    static let none = Paint(0, RGB(0, 0, 0))
}

/// An axis-aligned box in face coordinates.
struct Box {
    var x0: Float, y0: Float, x1: Float, y1: Float
    init(_ x0: Float, _ y0: Float, _ x1: Float, _ y1: Float) { self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1 }
    /// The box around an ellipse (axis-aligned radii).
    static func around(_ cx: Float, _ cy: Float, _ rx: Float, _ ry: Float) -> Box { Box(cx - rx, cy - ry, cx + rx, cy + ry) }
    func grown(_ m: Float) -> Box { Box(x0 - m, y0 - m, x1 + m, y1 + m) }
}

/// A supersampled float canvas. Shapes are described in *face coordinates* (x right, y down,
/// the image spanning -1...1 before the pose); shaders return a soft coverage from a signed
/// distance, and the box downsample to the output size finishes the anti-aliasing.
///
/// Each shape visits only the samples inside its bounding box, mapped through the pose, so the
/// cost is proportional to the area the shapes cover.
struct Canvas {
    let n: Int
    var px: [Float]
    // Pose: view = scale * R(roll) * face + (tx, ty); view spans -1...1 over the canvas.
    let cosR: Float, sinR: Float, scale: Float, tx: Float, ty: Float

    init(n: Int, roll: Float, scale: Float, tx: Float, ty: Float) {
        self.n = n
        self.px = [Float](repeating: 0, count: n * n * 3)
        self.cosR = cos(roll); self.sinR = sin(roll)
        self.scale = scale; self.tx = tx; self.ty = ty
    }

    /// Face coordinates -> canvas sample coordinates (continuous).
    @inline(__always) func toSample(_ x: Float, _ y: Float) -> (Float, Float) {
        let vx = scale * (cosR * x - sinR * y) + tx
        let vy = scale * (sinR * x + cosR * y) + ty
        let h = Float(n) * 0.5
        return ((vx + 1) * h, (vy + 1) * h)
    }

    /// Paints every sample whose face coordinates fall in `box` with `shader(x, y)`.
    @inline(__always)
    mutating func fill(_ box: Box, _ shader: (Float, Float) -> Paint) {
        // Sample-space bounds of the rotated box.
        var sx0 = Float.greatestFiniteMagnitude, sy0 = Float.greatestFiniteMagnitude
        var sx1 = -Float.greatestFiniteMagnitude, sy1 = -Float.greatestFiniteMagnitude
        for (x, y) in [(box.x0, box.y0), (box.x1, box.y0), (box.x0, box.y1), (box.x1, box.y1)] {
            let (sx, sy) = toSample(x, y)
            sx0 = min(sx0, sx); sx1 = max(sx1, sx); sy0 = min(sy0, sy); sy1 = max(sy1, sy)
        }
        let i0 = max(0, Int(sx0.rounded(.down))), i1 = min(n - 1, Int(sx1.rounded(.up)))
        let j0 = max(0, Int(sy0.rounded(.down))), j1 = min(n - 1, Int(sy1.rounded(.up)))
        if i0 > i1 || j0 > j1 { return }

        // Inverse pose, stepped incrementally along a row.
        let step = 2 / Float(n)
        let inv = 1 / scale
        let dxdi = cosR * step * inv, dydi = -sinR * step * inv
        let n = self.n
        px.withUnsafeMutableBufferPointer { buf in
            for j in j0...j1 {
                let vy = (Float(j) + 0.5) * step - 1 - ty
                let vx = (Float(i0) + 0.5) * step - 1 - tx
                var fx = (cosR * vx + sinR * vy) * inv
                var fy = (-sinR * vx + cosR * vy) * inv
                var o = (j * n + i0) * 3
                for _ in i0...i1 {
                    if fx >= box.x0 && fx <= box.x1 && fy >= box.y0 && fy <= box.y1 {
                        let p = shader(fx, fy)
                        if p.a > 0 {
                            let a = min(p.a, 1)
                            buf[o] += (p.c.r - buf[o]) * a
                            buf[o + 1] += (p.c.g - buf[o + 1]) * a
                            buf[o + 2] += (p.c.b - buf[o + 2]) * a
                        }
                    }
                    fx += dxdi; fy += dydi; o += 3
                }
            }
        }
    }

    /// Fills every sample from view-space coordinates (-1...1, unposed): the background.
    mutating func fillView(_ shader: (Float, Float) -> RGB) {
        let n = self.n
        let step = 2 / Float(n)
        px.withUnsafeMutableBufferPointer { buf in
            for j in 0..<n {
                let vy = (Float(j) + 0.5) * step - 1
                for i in 0..<n {
                    let c = shader((Float(i) + 0.5) * step - 1, vy)
                    let o = (j * n + i) * 3
                    buf[o] = c.r; buf[o + 1] = c.g; buf[o + 2] = c.b
                }
            }
        }
    }
}

// MARK: - Shape helpers (face coordinates)

/// Cheap sine (parabolic approximation, max error ~0.001): textures call it per sample.
@inline(__always) func fsin(_ x: Float) -> Float {
    // Wrap to -pi...pi.
    var t = x * 0.159_154_94 // 1/(2pi)
    t -= (t + 0.5).rounded(.down)
    let y = 8 * t - 16 * t * abs(t) // in -1...1, t in -0.5...0.5
    return 0.225 * (y * abs(y) - y) + y
}

@inline(__always) func clamp01(_ x: Float) -> Float { min(1, max(0, x)) }

@inline(__always) func smoothstep(_ e0: Float, _ e1: Float, _ x: Float) -> Float {
    let t = clamp01((x - e0) / (e1 - e0))
    return t * t * (3 - 2 * t)
}

/// Squared normalised ellipse radius: <= 1 inside.
@inline(__always) func ellipse(_ x: Float, _ y: Float, _ cx: Float, _ cy: Float, _ rx: Float, _ ry: Float) -> Float {
    let u = (x - cx) / rx, v = (y - cy) / ry
    return u * u + v * v
}

/// A deterministic hash of a position to 0...1 (stubble, brow hair, knit texture).
@inline(__always) func hashNoise(_ x: Float, _ y: Float) -> Float {
    var h = UInt32(bitPattern: Int32(truncatingIfNeeded: Int(x * 1024))) &* 0x8DA6_B343
    h ^= UInt32(bitPattern: Int32(truncatingIfNeeded: Int(y * 1024))) &* 0xD816_3841
    h ^= h >> 13; h = h &* 0x85EB_CA6B; h ^= h >> 16
    return Float(h & 0xFFFF) * (1.0 / 65535.0)
}

/// A polyline stroke with thickness varying along it; `distance(x, y)` returns how far the point
/// is inside the stroke (> 0 inside) and the parameter 0...1 along the line.
struct Stroke {
    var xs: [Float] = [], ys: [Float] = []
    var halfWidths: [Float] = []
    var box: Box

    /// A quadratic Bézier from p0 through control c to p1, sampled in `segments` pieces,
    /// half-width going from w0 to w1.
    init(_ p0: (Float, Float), _ c: (Float, Float), _ p1: (Float, Float), w0: Float, w1: Float, segments: Int = 8) {
        var bx0 = Float.greatestFiniteMagnitude, by0 = bx0, bx1 = -bx0, by1 = -bx0
        for k in 0...segments {
            let t = Float(k) / Float(segments), s = 1 - t
            let x = s * s * p0.0 + 2 * s * t * c.0 + t * t * p1.0
            let y = s * s * p0.1 + 2 * s * t * c.1 + t * t * p1.1
            xs.append(x); ys.append(y); halfWidths.append(w0 + (w1 - w0) * t)
            bx0 = min(bx0, x); bx1 = max(bx1, x); by0 = min(by0, y); by1 = max(by1, y)
        }
        box = Box(bx0, by0, bx1, by1).grown(max(w0, w1) + 0.002)
    }

    /// A straight-segment polyline through `points` with constant half-width.
    init(points: [(Float, Float)], halfWidth: Float) {
        self.init(points: points, halfWidths: [Float](repeating: halfWidth, count: points.count))
    }

    /// A straight-segment polyline with a half-width per point (interpolated along segments).
    init(points: [(Float, Float)], halfWidths widths: [Float]) {
        var bx0 = Float.greatestFiniteMagnitude, by0 = bx0, bx1 = -bx0, by1 = -bx0
        for (x, y) in points {
            xs.append(x); ys.append(y)
            bx0 = min(bx0, x); bx1 = max(bx1, x); by0 = min(by0, y); by1 = max(by1, y)
        }
        halfWidths = widths
        box = Box(bx0, by0, bx1, by1).grown((widths.max() ?? 0) + 0.002)
    }

    /// (signed depth inside the stroke, parameter along it). Depth <= 0 is outside.
    @inline(__always) func depth(_ x: Float, _ y: Float) -> (Float, Float) {
        var best: Float = -1, bestT: Float = 0
        let segs = xs.count - 1
        for k in 0..<segs {
            let ax = xs[k], ay = ys[k], dx = xs[k + 1] - ax, dy = ys[k + 1] - ay
            let len2 = dx * dx + dy * dy
            var t = len2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / len2 : 0
            t = clamp01(t)
            let ex = x - (ax + t * dx), ey = y - (ay + t * dy)
            let d = (ex * ex + ey * ey).squareRoot()
            let w = halfWidths[k] + (halfWidths[k + 1] - halfWidths[k]) * t
            let inside = w - d
            if inside > best { best = inside; bestT = (Float(k) + t) / Float(segs) }
        }
        return (best, bestT)
    }
}
