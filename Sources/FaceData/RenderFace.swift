import Foundation

/// The head and its features: skin, ears, age and cheek details, facial hair, nose, eyes,
/// brows and mouth. Sizes are chosen so each attribute covers whole pixels at 64×64.
extension FacePainter {
    // MARK: - Head

    /// Centre of the left (-1) or right (+1) ear; the lobe is `earLobe`.
    @inline(__always) func earCentre(_ side: Float) -> (Float, Float) {
        (side * (g.halfWidth(g.earY) + 0.01) + g.shift(-0.3), g.earY)
    }
    @inline(__always) func earLobe(_ side: Float) -> (Float, Float) {
        let (x, y) = earCentre(side)
        return (x + side * 0.006, y + 0.088)
    }

    func ears(_ c: inout Canvas) {
        for side: Float in [-1, 1] {
            let (ex, ey) = earCentre(side)
            let rxE: Float = 0.055, ryE: Float = 0.1
            c.fill(Box.around(ex, ey, rxE + 0.01, ryE + 0.01)) { x, y in
                let d = ellipseDistance(x - ex, y - ey, rxE, ryE)
                let k = cov(d)
                if k <= 0 { return .none }
                var s = lit(side * 0.7, (y - ey) * 2.5) * 0.95
                // The inner fold of the ear is a darker hollow.
                if ellipseDistance(x - ex + side * 0.01, y - ey + 0.006, rxE * 0.5, ryE * 0.62) > 0 { s *= 0.78 }
                return Paint(k, skinShade(s))
            }
        }
    }

    /// Skin that sits under the head outline: a double chin, puffed-out cheeks.
    func cheekPuffs(_ c: inout Canvas) {
        if a.has(.chubby) {
            let cy = g.chinY + 0.005, rx: Float = 0.17, ry: Float = 0.065
            c.fill(Box.around(0, cy, rx + 0.01, ry + 0.01)) { x, y in
                let k = cov(ellipseDistance(x, y - cy, rx, ry))
                if k <= 0 { return .none }
                return Paint(k, skinShade(lit(x / 0.3, (y - cy) * 4 + 0.3) * 0.92))
            }
        }
        if e.puffCheeks {
            for side: Float in [-1, 1] {
                let py = g.mouthY - 0.06
                let cx = side * (g.halfWidth(py) - 0.04), rx: Float = 0.1, ry: Float = 0.11
                c.fill(Box.around(cx, py, rx + 0.01, ry + 0.01)) { x, y in
                    let k = cov(ellipseDistance(x - cx, y - py, rx, ry))
                    if k <= 0 { return .none }
                    return Paint(k, skinShade(lit((x - cx) / 0.13 + side * 0.3, (y - py) / 0.13)))
                }
            }
        }
    }

    func head(_ c: inout Canvas) {
        let bald = a.has(.bald)
        let highlightX = n.light.x * 0.22 + g.shift(0.3), highlightY = g.topY + 0.14
        c.fill(Box(-g.rx - 0.02, g.topY - 0.02, g.rx + 0.02, g.chinY + 0.02)) { x, y in
            let d = g.headDistance(x, y)
            let k = cov(d)
            if k <= 0 { return .none }
            var s = faceLight(x, y)
            s *= 1 - 0.18 * (1 - smoothstep(0, 0.07, d))   // the outline turns away from the light
            var col = skinShade(s)
            if bald {
                // A shiny scalp: the bald head's cue beside the missing hair.
                let dx = x - highlightX, dy = y - highlightY
                let spot = clamp01(1 - (dx * dx + dy * dy) / 0.012)
                col = col.mix(.white, spot * spot * 0.55)
            }
            return Paint(k, col)
        }
    }

    /// Blush, flush, age lines, chubby cheeks: colour and lines on the skin.
    func skinDetails(_ c: inout Canvas) {
        let cheekY = g.eyeY + 0.13
        if a.has(.rosyCheeks) || e.flush > 0 || e.cheekLift > 0 || a.has(.chubby) || e.puffCheeks {
            let rosy: Float = a.has(.rosyCheeks) ? 0.62 : 0
            let flush = e.flush
            let shine: Float = (e.cheekLift > 0 ? 0.16 : 0) + (a.has(.chubby) ? 0.1 : 0) + (e.puffCheeks ? 0.22 : 0)
            let blush = RGB(0.93, 0.28, 0.36)
            c.fill(Box(-g.rx, g.eyeY - 0.02, g.rx, g.mouthY + 0.06)) { x, y in
                let inside = g.headDistance(x, y)
                if inside <= 0 { return .none }
                let edge = cov(inside)
                var alpha: Float = 0
                var col = blush
                for side: Float in [-1, 1] {
                    let cx = side * 0.2 + g.shift(0.4)
                    let q = ellipse(x, y, cx, cheekY - e.cheekLift * 0.02, 0.095, 0.07)
                    if q < 1 {
                        let w = 1 - q
                        if rosy > 0 { alpha = max(alpha, rosy * min(1, w * 1.8)) }
                        if shine > 0 && rosy == 0 { alpha = max(alpha, shine * 2 * w); col = skinShade(1.3) }
                    }
                }
                if flush > 0 {
                    let q = ellipse(x, y, g.shift(0.3), cheekY - 0.02, g.rx * 0.95, 0.2)
                    if q < 1 { alpha = max(alpha, flush * (1 - q) * 2.5); col = blush }
                }
                return alpha > 0 ? Paint(alpha * edge, col) : .none
            }
        }
        if !a.has(.young) { ageLines(&c) }
    }

    /// Forehead lines, crow's feet, nose-to-mouth folds and jowl lines of an older face.
    func ageLines(_ c: inout Canvas) {
        let line = skinShade(0.45)
        let fold = skinShade(1.25).mix(.white, 0.12)
        /// A crease: a dark line with a lit ridge just below it, so it reads on every skin tone.
        func crease(_ c: inout Canvas, _ pts: [(Float, Float)], _ w: Float, _ alpha: Float) {
            drawStroke(&c, Stroke(points: pts.map { ($0.0, $0.1 + w * 1.6) }, halfWidth: w * 0.8), fold, alpha: alpha * 0.55)
            drawStroke(&c, Stroke(points: pts, halfWidth: w), line, alpha: alpha)
        }
        let fx = g.shift(0.3)
        for i in 0..<3 {
            let y0 = g.browY - 0.07 - Float(i) * 0.042
            let half: Float = 0.2 - Float(i) * 0.02
            let pts = stride(from: -half, through: half, by: half / 4).map { x in (x + fx, y0 + 0.6 * x * x) }
            crease(&c, pts, 0.011, 0.75)
        }
        // Neck lines.
        for i in 0..<2 {
            let y0 = g.chinY + 0.07 + Float(i) * 0.05
            let half = g.neckHalf * 0.8
            crease(&c, [(-half, y0 - 0.01), (0, y0 + 0.01), (half, y0 - 0.01)], 0.009, 0.6)
        }
        for side: Float in [-1, 1] {
            let ox = g.eyeX(side) + side * (g.eyeW + 0.025)
            for k in -1...1 {
                let ang = Float(k) * 0.45
                let p1 = (ox + side * 0.065 * cos(ang), g.eyeY + 0.065 * sin(ang))
                drawStroke(&c, Stroke(points: [(ox, g.eyeY), p1], halfWidth: 0.009), line, alpha: 0.65)
            }
            // Under-eye line.
            crease(&c, [(g.eyeX(side) - 0.07, g.eyeY + 0.085), (g.eyeX(side), g.eyeY + 0.1), (g.eyeX(side) + 0.07, g.eyeY + 0.085)],
                   0.008, 0.5)
            let nx = g.shift(1.0) + side * 0.075 * g.noseScale
            let mw = max(e.mouth.w, 0.09)
            let fold = Stroke((nx, g.noseY - 0.01), (side * (mw + 0.05) + g.shift(0.8), g.mouthY - 0.07),
                              (side * (mw + 0.04) + g.shift(0.8), g.mouthY + 0.035), w0: 0.013, w1: 0.008)
            crease(&c, zip(fold.xs, fold.ys).map { ($0, $1) }, 0.012, 0.75)
            crease(&c, [(side * (mw + 0.015) + g.shift(0.8), g.mouthY + 0.04), (side * (mw + 0.03) + g.shift(0.8), g.mouthY + 0.12)],
                   0.009, 0.6)
        }
    }

    // MARK: - Facial hair

    /// Strand texture: light and dark streaks across hair running along `along`.
    @inline(__always) func strands(_ across: Float, _ along: Float, freq: Float) -> Float {
        0.82 + 0.18 * fsin(across * freq + 1.7 * fsin(along * 9))
    }

    func facialHairUnder(_ c: inout Canvas) {
        let mx = g.shift(0.8)
        if a.has(.stubble) {
            let top0 = g.noseY + 0.04
            // Dark stubble shadows light skin; light (gray, blond) stubble speckles darker skin.
            let stubble = beard.luminance < skin.luminance ? beard.mix(skin * 0.5, 0.3) : beard * 1.1
            c.fill(Box(-g.rx, top0 - 0.01, g.rx, g.chinY + 0.01)) { x, y in
                let d = g.headDistance(x, y)
                if d <= -px { return .none }
                let ax = abs(x - mx)
                let dTop = y - (top0 + 0.95 * ax * ax)
                let k = cov(min(d, dTop))
                if k <= 0 { return .none }
                let fade = smoothstep(0, 0.06, dTop) * smoothstep(-0.01, 0.03, d)
                // Fine dots: a grainy shadow, not a solid beard.
                let speck = hashNoise(x * 5.1, y * 5.1)
                return Paint(k * fade * (speck > 0.5 ? 0.75 : 0.3), stubble)
            }
        }
        if a.has(.goatee) {
            // A pointed chin beard: narrow under the lip, widest above the chin, rounded below it.
            let top = g.mouthY + e.mouth.openLo + e.mouth.lipBot + 0.004
            let bottom = g.chinY + 0.035
            c.fill(Box(mx - 0.12, top - 0.01, mx + 0.12, bottom + 0.01)) { x, y in
                let t = clamp01((y - top) / (bottom - top))
                let half = 0.03 + 0.075 * fsin(min(t, 0.75) * 2.1)
                let d = min(half - abs(x - mx), y - top, g.headDistance(x, y) + 0.035)
                let k = cov(d)
                if k <= 0 { return .none }
                var s = lit((x - mx) / 0.25, t - 0.3) * (0.88 + 0.12 * hashNoise(x * 2.5, y * 1.2))
                if d < 0.01 { s *= 0.8 }    // darker rim, so light beards read on light skin
                return Paint(k, beard * s)
            }
        }
        if a.has(.sideburns) {
            for side: Float in [-1, 1] {
                let y0 = g.earY - 0.16, y1 = g.earY + 0.13
                c.fill(Box(side > 0 ? 0 : -g.rx - 0.02, y0, side > 0 ? g.rx + 0.02 : 0, y1 + 0.02)) { x, y in
                    let hw = g.halfWidth(y)
                    let inner = hw - 0.065
                    let dIn = side * x - inner
                    let dOut = hw + 0.008 - side * x
                    let dBottom = y1 - 0.04 * (side * x - inner) / 0.065 - y
                    let d = min(dIn, dOut, dBottom, y - y0)
                    let k = cov(d)
                    if k <= 0 { return .none }
                    let s = lit(side * 0.7, 0) * strands(y, x, freq: 160)
                    return Paint(k, beard * s)
                }
            }
        }
    }

    func mustache(_ c: inout Canvas) {
        guard a.has(.mustache) else { return }
        let mx = g.shift(0.85)
        let wm = max(e.mouth.w, 0.095) + 0.03
        let top0 = g.noseY + 0.04
        c.fill(Box(mx - wm - 0.01, top0 - 0.01, mx + wm + 0.01, g.mouthY + 0.1)) { x, y in
            let u = (x - mx) / wm
            if abs(u) >= 1 { return .none }
            let lipEdge = mouthAt(x)?.upperEdge ?? (g.mouthY - e.mouth.lipTop)
            // Thick under the nose, thinning and drooping towards the tips.
            let top = top0 + 0.05 * u * u
            let bottom = min(lipEdge + 0.01, g.mouthY) + 0.035 * u * u
            let d = min(y - top, bottom - y, (1 - abs(u)) * wm * 0.5)
            let k = cov(d)
            if k <= 0 { return .none }
            var s = lit(u * 0.5, (y - top) / max(bottom - top, 0.01) - 0.6) * (0.85 + 0.15 * hashNoise(x * 1.3, y * 2.6))
            if bottom - y < 0.01 { s *= 0.75 }
            return Paint(k, beard * s)
        }
    }

    // MARK: - Nose

    func nose(_ c: inout Canvas) {
        let s = g.noseScale, nx = g.shift(1.0), ny = g.noseY
        let away: Float = n.light.x > 0 ? -1 : 1       // the side in shadow
        let dark = skinShade(0.5), deep = skinShade(0.22)
        // Bridge: a soft shadow down the side away from the light.
        let bridgeX = nx + away * 0.032 * s
        c.fill(Box(bridgeX - 0.03 * s, g.eyeY + 0.03, bridgeX + 0.03 * s, ny)) { x, y in
            let w = (x - bridgeX) / (0.02 * s)
            let along = smoothstep(g.eyeY + 0.03, g.eyeY + 0.09, y)
            return Paint(0.45 * along * clamp01(1 - w * w), dark)
        }
        // The lit ridge of the bridge, on the side facing the light.
        let ridge = skinShade(1.25).mix(.white, 0.1)
        drawStroke(&c, Stroke(points: [(nx - away * 0.006 * s, g.eyeY + 0.06), (nx - away * 0.01 * s, ny - 0.035 * s)],
                              halfWidth: 0.007 * s), ridge, alpha: 0.45)
        // Wings: rounded, darker on their outer rims.
        for side: Float in [-1, 1] {
            let wx = nx + side * 0.048 * s, wy = ny + 0.004 * s
            let rx = 0.032 * s, ry = 0.03 * s
            c.fill(Box.around(wx, wy, rx + 0.01, ry + 0.01)) { x, y in
                let d = ellipseDistance(x - wx, y - wy, rx, ry)
                let k = cov(d)
                if k <= 0 { return .none }
                let rim = 1 - smoothstep(0, 0.014, d)
                let outer = clamp01(side * (x - wx) / rx + 0.3)
                let shade = faceLight(x, y) * (1 - 0.45 * rim * outer) * (side == away ? 0.88 : 1)
                return Paint(k, skinShade(shade))
            }
        }
        // Tip: the lit ball of the nose.
        let tx = nx, ty = ny - 0.012 * s, trx = 0.042 * s, trY = 0.036 * s
        c.fill(Box.around(tx, ty, trx + 0.01, trY + 0.01)) { x, y in
            let d = ellipseDistance(x - tx, y - ty, trx, trY)
            let k = cov(d)
            if k <= 0 { return .none }
            let l = lit((x - tx) / (trx * 1.6), (y - ty) / (trY * 1.6))
            var col = skinShade(faceLight(x, y) * (0.9 + 0.15 * l))
            let hx = x - (tx - away * trx * 0.3), hy = y - (ty - trY * 0.35)
            col = col.mix(.white, 0.4 * clamp01(1 - (hx * hx + hy * hy) / (0.0004 * s * s)))
            return Paint(k * 0.95, col)
        }
        // Nostrils and the shadow under the nose.
        c.fill(Box(nx - 0.07 * s, ny + 0.005, nx + 0.07 * s, ny + 0.07 * s)) { x, y in
            var alpha: Float = 0
            var col = deep
            for side: Float in [-1, 1] {
                let q = ellipse(x, y, nx + side * 0.024 * s, ny + 0.02 * s, 0.019 * s, 0.011 * s)
                if q < 1.3 { alpha = max(alpha, cov((1 - q) * 0.011 * s) * 0.9) }
            }
            if alpha == 0 {
                let q = ellipse(x, y, nx, ny + 0.04 * s, 0.055 * s, 0.018 * s)
                if q < 1 { alpha = 0.25 * (1 - q); col = dark }
            }
            return alpha > 0 ? Paint(alpha, col) : .none
        }
        if e.noseWrinkle {
            for k in 0..<3 {
                let y = g.eyeY + 0.05 + Float(k) * 0.025
                drawStroke(&c, Stroke(points: [(nx - 0.04, y + 0.008), (nx, y), (nx + 0.04, y + 0.008)], halfWidth: 0.007),
                           dark, alpha: 0.75)
            }
        }
    }

    // MARK: - Eyes

    /// Upper and lower lid heights of an open eye at parameter u (-1...1 across the eye).
    @inline(__always) func lids(_ u: Float, side: Float) -> (upper: Float, lower: Float) {
        let p = max(0, 1 - u * u)
        let h = g.eyeH * e.wide
        let inner = clamp01(0.5 - side * u * 0.5)
        var upper = g.eyeY - h * e.lidOpen * pow(p, 0.55) + e.lidSlant * h * 0.9 * inner * p.squareRoot()
        let lower = g.eyeY + h * 0.7 * (1 - 0.55 * e.lowerLift) * pow(p, 0.75)
        upper = min(upper, lower - 0.004)
        return (upper, lower)
    }

    /// The closed lid's line at u: "‿" relaxed (sleep, closed) or "^" happy (laugh, wink).
    @inline(__always) func closedLid(_ u: Float, _ closure: Expression.EyeClosure) -> Float {
        let p = max(0, 1 - u * u)
        return closure == .happy ? g.eyeY + 0.018 - 0.038 * p : g.eyeY + 0.006 + 0.026 * p
    }

    func eyes(_ c: inout Canvas) {
        for side: Float in [-1, 1] {
            eye(&c, side: side, closure: side < 0 ? e.closureLeft : e.closureRight)
        }
    }

    func eye(_ c: inout Canvas, side: Float, closure: Expression.EyeClosure) {
        let ex = g.eyeX(side), W = g.eyeW
        let open = closure == .open
        let female = !a.isMale
        let makeup = a.has(.heavyMakeup)
        // Lid shadow, or eyeshadow with heavy makeup.
        let shadowCol = makeup ? n.eyeshadow : skinShade(0.6)
        let shadowAlpha: Float = makeup ? 0.9 : 0.22
        c.fill(Box(ex - W * 1.25, g.eyeY - 0.13, ex + W * 1.25, g.eyeY + 0.02)) { x, y in
            let u = (x - ex) / (W * 1.2)
            if abs(u) >= 1 { return .none }
            let uEye = max(-1, min(1, (x - ex) / W))
            let base = open ? lids(uEye, side: side).upper : closedLid(abs(uEye), closure)
            let p = 1 - u * u
            let top = base - (makeup ? 0.07 : 0.045) * p.squareRoot()
            let d = min(y - top, base + 0.004 - y)
            let k = cov(d)
            if k <= 0 { return .none }
            let fade = makeup ? 0.55 + 0.45 * smoothstep(top, top + 0.03, y) : smoothstep(top, base, y)
            return Paint(k * fade * shadowAlpha * min(1, p * 3), shadowCol)
        }
        // Bags: a darker crescent with a crease under the lower lid.
        if a.has(.bagsUnderEyes) {
            // A dark, purplish hollow under the lid and a puffy lit ridge below it.
            let bag = skinShade(0.42) + RGB(0.07, 0.02, 0.1)
            let puff = skinShade(1.45) + RGB(0.08, 0.07, 0.07)
            c.fill(Box(ex - W * 1.1, g.eyeY, ex + W * 1.1, g.eyeY + g.eyeH + 0.1)) { x, y in
                let u = (x - ex) / (W * 1.05)
                if abs(u) >= 1 { return .none }
                let lower = open ? lids(max(-1, min(1, (x - ex) / W)), side: side).lower : g.eyeY + 0.035 * max(0, 1 - u * u)
                let p = max(0, 1 - u * u)
                let top = lower + 0.006, bottom = lower + 0.014 + 0.058 * p.squareRoot()
                let d = min(y - top, bottom - y)
                if d > -px {
                    return Paint(cov(d) * 0.9 * min(1, p * 3), bag)
                }
                let dp = 0.014 - abs(y - bottom - 0.015)
                return dp > -px ? Paint(cov(dp) * 0.8 * min(1, p * 3), puff) : .none
            }
        }
        if open {
            openEye(&c, side: side)
        } else {
            let thick: Float = female || makeup ? 0.017 : 0.013
            let lash = RGB(0.1, 0.07, 0.06)
            c.fill(Box(ex - W - 0.03, g.eyeY - 0.05, ex + W + 0.03, g.eyeY + 0.06)) { x, y in
                let u = (x - ex) / W
                if abs(u) >= 1.05 { return .none }
                let t = thick * (1 + 0.5 * max(0, side * u))
                let d = min(t - abs(y - closedLid(min(abs(u), 1), closure)), (1.05 - abs(u)) * W)
                let k = cov(d)
                return k > 0 ? Paint(k * 0.92, lash) : .none
            }
        }
    }

    func openEye(_ c: inout Canvas, side: Float) {
        let ex = g.eyeX(side), W = g.eyeW
        let ix = ex + e.gazeX * W * 0.6, iy = g.eyeY + e.gazeY * g.eyeH * 0.4
        let r = g.eyeH * 0.98
        let iris = n.eyes
        let glintX = ix - r * 0.35, glintY = iy - r * 0.38, glintR = r * 0.26
        c.fill(Box(ex - W, g.eyeY - g.eyeH * 1.5, ex + W, g.eyeY + g.eyeH * 1.1)) { x, y in
            let u = (x - ex) / W
            if abs(u) >= 1 { return .none }
            let (up, lo) = lids(u, side: side)
            let d = min(y - up, lo - y, (1 - abs(u)) * W * 0.5)
            let k = cov(d)
            if k <= 0 { return .none }
            let lidShade = 0.7 + 0.3 * smoothstep(up, up + g.eyeH * 0.8, y)
            var col = RGB(0.95, 0.93, 0.9) * lidShade
            let dx = x - ix, dy = y - iy
            let dr = (dx * dx + dy * dy).squareRoot()
            if dr < r + px {
                let t = dr / r
                let ring: Float = t > 0.78 ? 0.55 : 1.08 - 0.25 * t
                col = col.mix(iris * (ring * lidShade), cov(r - dr))
                col = col.mix(RGB(0.04, 0.03, 0.03), cov(r * 0.42 - dr))
            }
            let gx = x - glintX, gy = y - glintY
            let gd = glintR - (gx * gx + gy * gy).squareRoot()
            if gd > -px { col = col.mix(.white, cov(gd) * 0.9) }
            return Paint(k, col)
        }
        // Upper lid line (lashes: heavier on women and with makeup, with a wing).
        let female = !a.isMale, makeup = a.has(.heavyMakeup)
        let base: Float = makeup ? 0.02 : (female ? 0.015 : 0.011)
        let lash = RGB(0.1, 0.07, 0.06)
        c.fill(Box(ex - W - 0.04, g.eyeY - g.eyeH * 1.6 - 0.03, ex + W + 0.05, g.eyeY + g.eyeH)) { x, y in
            let u = (x - ex) / W
            let outerSide = side * u > 0
            let limit: Float = outerSide ? (makeup ? 1.35 : 1.12) : 1.02
            if abs(u) >= limit { return .none }
            let uc = min(abs(u), 1) * (u < 0 ? -1 : 1)
            var line = lids(uc, side: side).upper
            if abs(u) > 1 { line -= (abs(u) - 1) * W * 0.9 }          // the flick of a wing / lashes
            let t = base * (1 + (female || makeup ? 0.6 : 0.2) * max(0, side * u))
            let d = min(t - abs(y - line + t * 0.4), (limit - abs(u)) * W)
            let k = cov(d)
            return k > 0 ? Paint(k * 0.92, lash) : .none
        }
        // Lower lid line and the crease above the lid.
        let crease = skinShade(0.55)
        c.fill(Box(ex - W, g.eyeY - g.eyeH * 2.2, ex + W, g.eyeY + g.eyeH)) { x, y in
            let u = (x - ex) / W
            if abs(u) >= 0.95 { return .none }
            let (up, lo) = lids(u, side: side)
            let fade = 1 - u * u
            let dLo = 0.006 - abs(y - lo - 0.004)
            if dLo > -px { return Paint(cov(dLo) * 0.35 * fade, lash) }
            let creaseY = up - g.eyeH * 0.55 - 0.01
            let dCr = 0.006 - abs(y - creaseY)
            if dCr > -px && !makeup { return Paint(cov(dCr) * 0.35 * fade, crease) }
            return .none
        }
    }

    // MARK: - Brows

    func brows(_ c: inout Canvas) {
        let bushy = a.has(.bushyEyebrows), arched = a.has(.archedEyebrows)
        let w0: Float = bushy ? 0.042 : (a.isMale ? 0.02 : 0.015)
        let w1: Float = bushy ? w0 * 0.8 : w0 * 0.5
        for side: Float in [-1, 1] {
            let ex = g.eyeX(side)
            let base = g.browY + e.browAll
            let inner = (side * (g.eyeDX - g.eyeW * 0.95 - e.browPinch) + g.shift(0.5), base + e.browInner + 0.008)
            let outer = (ex + side * g.eyeW * 1.2, base + e.browOuter + 0.018)
            let stroke: Stroke
            if arched {
                // An arched brow rises to a clear peak two thirds of the way out.
                let peak = (ex + side * g.eyeW * 0.4, base - 0.065 - e.browArch + min(e.browInner, 0) * 0.3)
                let tail = (outer.0 + side * 0.01, outer.1 + 0.02)
                stroke = Stroke(points: [inner, peak, tail], halfWidths: [w0, (w0 + w1) * 0.5, w1 * 0.8])
            } else {
                let control = (ex + side * g.eyeW * 0.2, base - 0.022 - e.browArch + e.browInner * 0.3)
                stroke = Stroke(inner, control, outer, w0: w0, w1: w1, segments: 6)
            }
            let col = brow
            c.fill(stroke.box.grown(0.01)) { x, y in
                let (d, t) = stroke.depth(x, y)
                var dd = d
                if bushy { dd += 0.012 * (hashNoise(x * 1.7, y * 1.7) - 0.4) }   // hairy edges
                let k = cov(dd)
                if k <= 0 { return .none }
                let s = 0.85 + 0.15 * fsin((x * 180 + y * 60)) * (bushy ? 1 : 0.5)
                return Paint(k * (0.95 - 0.15 * t), col * s)
            }
        }
        if e.furrow {
            let fx = g.shift(0.5), top = g.browY + e.browAll + e.browInner - 0.02
            for side: Float in [-1, 1] {
                drawStroke(&c, Stroke(points: [(fx + side * 0.024, top), (fx + side * 0.018, top + 0.07)], halfWidth: 0.009),
                           skinShade(0.45), alpha: 0.8)
            }
        }
    }

    // MARK: - Mouth

    struct MouthCurves {
        var centre: Float       // the line where the lips meet
        var openTop: Float, openBottom: Float
        var upperEdge: Float, lowerEdge: Float   // outer edges of the lips
        var u: Float
    }

    /// The mouth's curves at x, nil outside the mouth.
    @inline(__always) func mouthAt(_ x: Float) -> MouthCurves? {
        let m = e.mouth
        let u = (x - g.shift(0.8)) / m.w
        if abs(u) >= 1 { return nil }
        let p = 1 - u * u
        let dir: Float = m.sideLift >= 0 ? 1 : -1
        let raised = max(0, u * dir)
        let centre = g.mouthY - m.corner * u * u - abs(m.sideLift) * raised * raised
        let prof = pow(p, m.roundness)
        let openTop = centre - m.openUp * prof - m.sideOpen * raised * p.squareRoot()
        let openBottom = centre + m.openLo * prof
        let lp = p.squareRoot()
        let bow = 1 - 0.3 * exp(-u * u * 40)       // the dip of the cupid's bow
        return MouthCurves(centre: centre, openTop: openTop, openBottom: openBottom,
                           upperEdge: openTop - m.lipTop * lp * bow - 0.002,
                           lowerEdge: openBottom + m.lipBot * lp + 0.002, u: u)
    }

    func mouth(_ c: inout Canvas) {
        let m = e.mouth
        let lipstick = a.has(.lipstick)
        let lipCol = lipstick ? n.lipstick : n.lips
        let cavity = RGB(0.3, 0.06, 0.08), teeth = RGB(0.96, 0.94, 0.9), tongue = RGB(0.86, 0.36, 0.4)
        let mx = g.shift(0.8)
        let opening = m.openUp + m.openLo + m.sideOpen
        c.fill(Box(mx - m.w - 0.01, g.mouthY - m.openUp - m.lipTop - abs(m.sideLift) - m.sideOpen - max(m.corner, 0) - 0.02,
                   mx + m.w + 0.01, g.mouthY + m.openLo + m.lipBot + max(-m.corner, 0) + 0.02)) { x, y in
            guard let mc = mouthAt(x) else { return .none }
            let d = min(y - mc.upperEdge, mc.lowerEdge - y, (1 - abs(mc.u)) * m.w * 0.35)
            let k = cov(d)
            if k <= 0 { return .none }
            let l = faceLight(x, y)
            var col: RGB
            if y < mc.openTop {
                col = lipCol * (l * 0.84)
            } else if y > mc.openBottom {
                let mid = (mc.openBottom + mc.lowerEdge) * 0.5
                let gloss = clamp01(1 - abs(y - mid) / 0.01) * (1 - mc.u * mc.u) * (lipstick ? 0.35 : 0.2)
                col = (lipCol * (l * 1.02)).mix(.white, gloss)
            } else {
                col = cavity
                let h = mc.openBottom - mc.openTop
                if m.teethTop && y < mc.openTop + min(0.024, h * 0.45) { col = teeth * 0.95 }
                if m.teethBot && y > mc.openBottom - min(0.02, h * 0.4) { col = teeth * 0.85 }
                if m.tongue && !m.teethBot {
                    let tq = ellipse(x, y, mx, mc.openBottom, m.w * 0.55, h * 0.45)
                    if tq < 1 { col = tongue }
                }
            }
            // Where the lips meet (closed or nearly): a dark line.
            if opening < 0.012 {
                let dl = 0.007 - abs(y - (mc.openTop + mc.openBottom) * 0.5)
                if dl > -px { col = col.mix(lipCol * 0.35, cov(dl)) }
            }
            return Paint(k, col)
        }
        // Corners: small shadows that make the mouth read at low resolution.
        for side: Float in [-1, 1] {
            let cx = mx + side * m.w * 0.97
            let cy = g.mouthY - m.corner - (side * (m.sideLift >= 0 ? 1 : -1) > 0 ? abs(m.sideLift) : 0)
            c.fill(Box.around(cx, cy, 0.02, 0.02)) { x, y in
                let q = ellipse(x, y, cx, cy, 0.014, 0.01)
                return q < 1 ? Paint((1 - q) * 0.5, skinShade(0.45)) : .none
            }
        }
    }
}
