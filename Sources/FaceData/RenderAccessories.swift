import Foundation

/// Glasses, earrings, necklaces and the small cues that make emotions and actions readable at
/// 64×64 (a tear, a bead of sweat, "Z"s over a sleeper, puffs of air in front of blowing lips).
extension FacePainter {
    // MARK: - Eyewear

    /// Signed distance to the lens outline of `style` centred at (cx, cy); `side` mirrors aviators.
    @inline(__always) func lensDistance(_ x: Float, _ y: Float, _ cx: Float, _ cy: Float,
                                        _ style: EyewearStyle, _ big: Float, _ side: Float) -> Float {
        let lx = x - cx, ly = y - cy
        switch style {
        case .round:
            return 0.082 * big - (lx * lx + ly * ly).squareRoot()
        case .rectangular:
            let hx = 0.102 * big, hy = 0.066 * big, r: Float = 0.022
            let qx = abs(lx) - (hx - r), qy = abs(ly) - (hy - r)
            let ox = max(qx, 0), oy = max(qy, 0)
            return -((ox * ox + oy * oy).squareRoot() + min(max(qx, qy), 0) - r)
        case .aviator:
            // A teardrop: flat brow bar on top, bulging down and out.
            let sx = lx - side * 0.3 * max(0, ly)
            let body = ellipseDistance(sx, ly - 0.012 * big, 0.1 * big, 0.085 * big)
            return min(body, ly + 0.06 * big - side * 0.08 * lx)
        }
    }

    func eyewear(_ c: inout Canvas) {
        guard let style = a.details.eyewearStyle else { return }
        let sun = a.has(.sunglasses)
        let big: Float = sun ? 1.12 : 1.0
        let t: Float = sun ? 0.018 : 0.019
        let frame = sun ? n.lens * 0.45 + RGB(0.03, 0.03, 0.03) : n.frame
        let lensCol = n.lens
        let cy = g.eyeY + 0.005
        var halfWidth: Float = 0.1 * big
        if style == .round { halfWidth = 0.082 * big }
        for side: Float in [-1, 1] {
            let cx = g.eyeX(side)
            let reach = 0.13 * big
            c.fill(Box(cx - reach, cy - reach, cx + reach, cy + reach + 0.03)) { x, y in
                let d = lensDistance(x, y, cx, cy, style, big, side)
                let frameCov = cov(t - abs(d))
                var alpha = frameCov
                var col = frame * lit((x - cx) * 3, (y - cy) * 5 - 0.3)
                if d > 0 {
                    let streak = fsin((x - cx + y - cy) * 38)
                    if sun {
                        let grad = 0.75 + 0.5 * clamp01((y - cy + 0.08) / 0.16)
                        var lc = lensCol * grad
                        if streak > 0.75 { lc = lc.mix(.white, 0.3) }
                        col = lc.mix(col, frameCov)
                        alpha = max(cov(d), frameCov) * 0.97
                    } else if frameCov < 1 {
                        let glass: Float = streak > 0.8 ? 0.3 : 0.05
                        col = RGB(1, 1, 1).mix(col, frameCov)
                        alpha = max(glass, frameCov)
                    }
                } else if frameCov <= 0 && !sun {
                    // The frame's shadow on the skin below it.
                    let ds = lensDistance(x, y - 0.02, cx, cy, style, big, side)
                    let sh = cov(t - abs(ds))
                    return sh > 0 ? Paint(sh * 0.25, RGB(0, 0, 0)) : .none
                }
                return alpha > 0 ? Paint(alpha, col) : .none
            }
            // Arm from the outer edge of the lens back to the ear.
            let x0 = cx + side * (halfWidth - 0.005), x1 = side * (g.halfWidth(g.eyeY) + 0.012)
            drawStroke(&c, Stroke(points: [(x0, cy - 0.03 * big), (x1, cy - 0.018)], halfWidth: t * 0.8), frame)
        }
        // Bridge over the nose.
        let xl = g.eyeX(-1) + halfWidth - 0.01, xr = g.eyeX(1) - halfWidth + 0.01
        let by = cy - 0.03 * big
        drawStroke(&c, Stroke((xl, by), ((xl + xr) * 0.5, by - 0.02), (xr, by), w0: t * 0.85, w1: t * 0.85, segments: 4), frame)
    }

    // MARK: - Jewellery

    /// Shaded metal or pearl at a point of a small rounded piece with normal (nx, ny).
    @inline(__always) func jewel(_ base: RGB, _ nx: Float, _ ny: Float) -> RGB {
        let l = lit(nx, ny)
        let spec = clamp01((l - 1.0) * 4)
        return (base * (0.6 + 0.45 * l)).mix(.white, spec * 0.6)
    }

    func earrings(_ c: inout Canvas) {
        guard let kind = a.details.earringKind else { return }
        let pearl = a.details.earringMaterial == .pearl
        let metal = n.earring
        for side: Float in [-1, 1] {
            let (lx, ly) = earLobe(side)
            switch kind {
            case .stud:
                let r: Float = 0.032
                c.fill(Box.around(lx, ly, r + 0.01, r + 0.01)) { x, y in
                    let dd = r - ((x - lx) * (x - lx) + (y - ly) * (y - ly)).squareRoot()
                    let k = cov(dd)
                    return k > 0 ? Paint(k, jewel(metal, (x - lx) / r, (y - ly) / r)) : .none
                }
            case .hoop:
                let r: Float = 0.06, cy = ly + r - 0.008, t: Float = 0.013
                c.fill(Box.around(lx, cy, r + t + 0.01, r + t + 0.01)) { x, y in
                    let dist = ((x - lx) * (x - lx) + (y - cy) * (y - cy)).squareRoot()
                    let k = cov(t - abs(dist - r))
                    if k <= 0 { return .none }
                    return Paint(k, jewel(metal, (x - lx) / (r + t) * 0.8, (y - cy) / (r + t) * 0.8))
                }
            case .drop:
                let dy = ly + 0.075, rx: Float = 0.027, ry: Float = pearl ? 0.027 : 0.036
                drawStroke(&c, Stroke(points: [(lx, ly), (lx, dy - ry + 0.005)], halfWidth: 0.007), metal * 0.9)
                c.fill(Box.around(lx, dy, rx + 0.01, ry + 0.01)) { x, y in
                    let k = cov(ellipseDistance(x - lx, y - dy, rx, ry))
                    return k > 0 ? Paint(k, jewel(metal, (x - lx) / rx * 0.8, (y - dy) / ry * 0.8)) : .none
                }
            }
        }
    }

    func necklace(_ c: inout Canvas) {
        guard let kind = a.details.necklaceKind else { return }
        let base = n.necklace
        let hw = g.neckHalf + 0.035
        let y0 = g.shoulderY - 0.04
        let depth: Float = kind == .pearls ? 0.11 : (kind == .pendant ? 0.15 : 0.13)
        let count = 14
        let points: [(Float, Float)] = (0...count).map { i in
            let ang = Float.pi * Float(i) / Float(count)
            return (-hw * cos(ang), y0 + depth * sin(ang))
        }
        if kind == .pearls {
            let r: Float = 0.024
            let beads = (0..<16).map { i -> (Float, Float) in
                let ang = Float.pi * (Float(i) + 0.5) / 16
                return (-hw * cos(ang), y0 + depth * sin(ang))
            }
            c.fill(Box(-hw - 0.04, y0 - 0.04, hw + 0.04, y0 + depth + 0.04)) { x, y in
                var best: Float = -1, bx: Float = 0, by: Float = 0
                for (px0, py0) in beads {
                    let dd = r - ((x - px0) * (x - px0) + (y - py0) * (y - py0)).squareRoot()
                    if dd > best { best = dd; bx = px0; by = py0 }
                }
                let k = cov(best)
                return k > 0 ? Paint(k, jewel(base, (x - bx) / r * 0.8, (y - by) / r * 0.8)) : .none
            }
            return
        }
        // Chain: a shadow, then the links.
        let shadowPts = points.map { ($0.0, $0.1 + 0.012) }
        drawStroke(&c, Stroke(points: shadowPts, halfWidth: 0.014), RGB(0, 0, 0), alpha: 0.3)
        let chain = Stroke(points: points, halfWidth: 0.014)
        c.fill(chain.box) { x, y in
            let (d, t) = chain.depth(x, y)
            let k = cov(d)
            if k <= 0 { return .none }
            return Paint(k, base * (0.85 + 0.3 * fsin(t * 180)))
        }
        if kind == .pendant {
            let py = y0 + depth + 0.04, rx: Float = 0.034, ry: Float = 0.045
            c.fill(Box.around(0, py, rx + 0.01, ry + 0.01)) { x, y in
                let dd = ellipseDistance(x, y - py, rx, ry)
                let k = cov(dd)
                if k <= 0 { return .none }
                let inGem = ellipseDistance(x, y - py, rx * 0.55, ry * 0.55) > 0
                return Paint(k, inGem ? jewel(n.gem, x / rx, (y - py) / ry) : jewel(base, x / rx, (y - py) / ry))
            }
        }
    }

    // MARK: - Cues

    func cues(_ c: inout Canvas) {
        let water = RGB(0.62, 0.84, 1.0), waterEdge = RGB(0.25, 0.48, 0.85)
        func drop(_ c: inout Canvas, _ tx: Float, _ ty: Float, _ r: Float) {
            let tipY = ty - r * 2.4
            c.fill(Box(tx - r - 0.01, tipY - 0.01, tx + r + 0.01, ty + r + 0.01)) { x, y in
                let d: Float
                if y < ty {
                    d = min(r * (y - tipY) / (ty - tipY) - abs(x - tx), y - tipY)
                } else {
                    d = r - ((x - tx) * (x - tx) + (y - ty) * (y - ty)).squareRoot()
                }
                let k = cov(d)
                if k <= 0 { return .none }
                var col = d < 0.008 ? waterEdge : water
                let hx = x - (tx - r * 0.35), hy = y - (ty - r * 0.2)
                if hx * hx + hy * hy < r * r * 0.09 { col = .white }
                return Paint(k, col)
            }
        }
        if e.tear {
            let side: Float = n.tearRight ? 1 : -1
            let tx = g.eyeX(side) + side * 0.025
            let ty = g.eyeY + 0.16
            drawStroke(&c, Stroke(points: [(tx - side * 0.01, g.eyeY + 0.05), (tx, ty - 0.05)], halfWidth: 0.008), water, alpha: 0.7)
            drop(&c, tx, ty, 0.026)
        }
        if e.sweat {
            let side: Float = n.tearRight ? -1 : 1
            drop(&c, side * (g.rx - 0.06), g.hairlineY + 0.1, 0.028)
        }
        if e.zzz {
            let side: Float = n.zzzRight ? 1 : -1
            let ink = n.background0.luminance > 0.55 ? RGB(0.1, 0.12, 0.32) : RGB(0.96, 0.96, 1.0)
            let letters: [(Float, Float, Float)] = [(g.rx + 0.05, g.topY + 0.1, 0.075), (g.rx + 0.16, g.topY - 0.03, 0.095),
                                                     (g.rx + 0.29, g.topY - 0.17, 0.115)]
            for (lx, ly, s) in letters {
                let x0 = side * lx - s * 0.5
                drawStroke(&c, Stroke(points: [(x0, ly), (x0 + s, ly), (x0, ly + s), (x0 + s, ly + s)], halfWidth: max(0.013, s * 0.13)), ink)
            }
        }
        if a.has(.blow) {
            // Puffs of air leaving the pursed lips.
            let side: Float = n.blowRight ? 1 : -1
            let mx = g.shift(0.8)
            for k in 0..<3 {
                let r = 0.014 + Float(k) * 0.006
                let px0 = mx + side * (0.02 + Float(k) * 0.045), py0 = g.mouthY + 0.06 + Float(k) * 0.035
                c.fill(Box.around(px0, py0, r + 0.015, r + 0.015)) { x, y in
                    let dist = ((x - px0) * (x - px0) + (y - py0) * (y - py0)).squareRoot()
                    let ring = cov(0.007 - abs(dist - r))
                    let fillIn = cov(r - dist) * 0.45
                    let alpha = max(ring * 0.85, fillIn)
                    return alpha > 0 ? Paint(alpha, ring > fillIn ? RGB(0.7, 0.85, 1.0) : .white) : .none
                }
            }
        }
    }
}
