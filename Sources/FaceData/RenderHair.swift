import Foundation

/// Hair (behind the head, falling over the shoulders, and the cap with its hairline, bangs or
/// receding temples) and hats. Texture is what tells straight, wavy and curly apart; length is
/// where the hair ends (ears, chin, over the shoulders).
extension FacePainter {
    /// How far hair stands off the scalp.
    var hairVolume: Float {
        guard let length = a.details.hairLength else { return 0 }
        var v: Float = length == .short ? 0.035 : 0.05
        switch texture {
        case .straight: break
        case .wavy: v += 0.02
        case .curly: v += 0.045
        }
        return v
    }

    /// Outline ripple of wavy and curly hair: amplitude and angular frequency.
    var hairRipple: (amp: Float, freq: Float) {
        switch texture {
        case .straight: return (0, 0)
        case .wavy: return (0.016, 11)
        case .curly: return (0.02, 24)
        }
    }

    /// Shaded hair colour. `across` runs across the strands, `along` down them; (nx, ny) is the
    /// surface normal's direction for the light.
    @inline(__always) func hairColor(_ across: Float, _ along: Float, _ nx: Float, _ ny: Float, back: Bool = false) -> RGB {
        var s = lit(nx, ny) * (back ? 0.78 : 1)
        switch texture {
        case .straight:
            s *= 0.86 + 0.14 * fsin(across * 150)
        case .wavy:
            // Bands across the hair where the waves turn, plus strands that follow the waves.
            s *= (0.78 + 0.22 * fsin(along * 24 + across * 3)) * (0.9 + 0.1 * fsin(across * 140 + 2.5 * fsin(along * 24)))
        case .curly:
            // Ringlets: small bright arcs on a darker mass.
            let r = fsin(across * 70 + 1.5 * fsin(along * 60)) * fsin(along * 70 + 1.5 * fsin(across * 60))
            s *= 0.72 + 0.3 * abs(r)
        }
        let sheenY = ny + 0.45
        let sheen = clamp01(1 - sheenY * sheenY * 30) * 0.22
        let c = hair * s
        return c.mix(RGB(min(1, hair.r * 1.5 + 0.15), min(1, hair.g * 1.5 + 0.15), min(1, hair.b * 1.5 + 0.17)), sheen)
    }

    /// Half-width of the hair mass behind the head at height y.
    @inline(__always) func backHairHalfWidth(_ y: Float) -> Float {
        let long = hairLength == .long
        let base = g.rx + hairVolume + 0.03
        return base + (long ? 0.11 : 0.01) * max(0, y - g.cy) + ripple(y * 2.2) * 1.6
    }

    /// Outline offset of wavy (smooth waves) or curly (round scallops) hair along a coordinate.
    @inline(__always) func ripple(_ t: Float) -> Float {
        let (amp, freq) = hairRipple
        if amp == 0 { return 0 }
        if texture == .curly { return amp * (2 * abs(fsin(t * freq * 0.5)) - 1) }
        return amp * fsin(t * freq)
    }

    /// Where the hair ends at x (medium: about the chin; long: past the bottom of the picture).
    @inline(__always) func hairEnd(_ x: Float) -> Float {
        if hairLength == .long { return 1.1 }
        return g.chinY + 0.01 - 0.06 * (x / (g.rx + 0.1)) * (x / (g.rx + 0.1)) + ripple(x * 2)
    }

    func hairBack(_ c: inout Canvas) {
        guard let length = a.details.hairLength, length != .short else { return }
        let vol = hairVolume
        let w = g.rx + vol + 0.15
        c.fill(Box(-w - 0.15, g.topY - vol - 0.03, w + 0.15, 1.2)) { x, y in
            let d: Float
            if y < g.cy {
                d = ellipseDistance(x, y - g.cy, g.rx + vol + 0.03, g.ryTop + vol)
            } else {
                d = min(backHairHalfWidth(y) - abs(x), hairEnd(x) - y)
            }
            let k = cov(d)
            if k <= 0 { return .none }
            let hw = backHairHalfWidth(y)
            return Paint(k, hairColor(x * 1.2, y, x / (hw * 1.25), (y - g.cy) / 1.2, back: true))
        }
    }

    /// Long hair falling in front of the shoulders on both sides of the neck.
    func hairLocks(_ c: inout Canvas) {
        guard a.details.hairLength == .long else { return }
        let y0 = g.earY + 0.08
        for side: Float in [-1, 1] {
            c.fill(Box(side > 0 ? g.neckHalf - 0.02 : -1.3, y0 - 0.02, side > 0 ? 1.3 : -g.neckHalf + 0.02, 1.2)) { x, y in
                let t = clamp01((y - y0) / 0.6)
                let inner = g.neckHalf + 0.012 + 0.06 * t
                let outer = backHairHalfWidth(y)
                let ax = side * x
                let d = min(ax - inner, outer - ax, y - y0)
                let k = cov(d)
                if k <= 0 { return .none }
                let mid = (inner + outer) * 0.5
                return Paint(k, hairColor(x * 1.2, y, side * (ax - mid) / (outer - inner) * 1.4, -0.1))
            }
        }
    }

    /// The hairline's height at x: a dome, with receding temples, or a fringe for bangs.
    @inline(__always) func hairline(_ x: Float) -> Float {
        let partDip: Float = 0.02 * clamp01(1 - abs(x - (n.partRight ? 0.11 : -0.11)) / 0.05)
        if bangs {
            return g.browY + min(e.browAll, 0) - 0.062 - 0.012 * abs(fsin(x * 48))
        }
        if receding {
            let t = (abs(x) - 0.17) / 0.08
            return g.hairlineY - 0.08 + 0.45 * x * x - 0.16 * exp(-t * t) - partDip
        }
        return g.hairlineY + 0.5 * x * x - partDip
    }

    func hairFront(_ c: inout Canvas) {
        guard a.details.hairLength != nil else { return }
        let vol = hairVolume
        let amp = hairRipple.amp
        let sideBottom = g.earY - 0.07
        let sideThick: Float = a.has(.recedingHairline) ? 0.02 : 0.04
        let crownX: Float = n.partRight ? 0.11 : -0.11
        let crownY = g.topY - 0.25
        c.fill(Box(-g.rx - vol - 0.04, g.topY - vol - 0.04, g.rx + vol + 0.04, sideBottom + 0.01)) { x, y in
            var dOuter = ellipseDistance(x, y - g.cy, g.rx + vol, g.ryTop + vol)
            if amp > 0 { dOuter += ripple(atan2(y - g.cy, x)) }
            let dOpen = min(y - hairline(x), g.halfWidth(y) - sideThick - abs(x))
            let d = min(dOuter, -dOpen, sideBottom - y + 0.03 * abs(x))
            let k = cov(d)
            if k <= 0 { return .none }
            // Strands fan out from the parting at the crown.
            let dy = max(0.05, y - crownY)
            let across = (x - crownX) / dy * 0.45
            let along = ((x - crownX) * (x - crownX) + dy * dy).squareRoot()
            var col = hairColor(across, along, x / (g.rx + vol + 0.05), (y - g.cy) / (g.ryTop + vol + 0.05))
            // A soft shadow where the hair meets the forehead.
            if -dOpen < 0.015 { col = col * 0.85 }
            return Paint(k, col)
        }
    }

    // MARK: - Hats

    func hat(_ c: inout Canvas) {
        guard let kind = a.details.hatKind else { return }
        switch kind {
        case .beanie: beanie(&c)
        case .baseballCap: baseballCap(&c)
        case .fedora: fedora(&c)
        case .beret: beret(&c)
        }
    }

    func beanie(_ c: inout Canvas) {
        let vol = hairVolume, col = n.hat
        let bottom = g.hairlineY + 0.075
        let rx = g.rx + max(vol, 0.04) + 0.035, ry = g.ryTop + vol + 0.06
        let cuffTop = bottom - 0.1
        c.fill(Box(-rx - 0.03, g.topY - vol - 0.1, rx + 0.03, bottom + 0.01)) { x, y in
            let cuff = y > cuffTop
            let d = min(ellipseDistance(x, y - g.cy - 0.03, rx + (cuff ? 0.015 : 0), ry + (cuff ? 0.02 : 0)), bottom - y)
            let k = cov(d)
            if k <= 0 { return .none }
            var s = lit(x / (rx * 1.15), (y - g.cy) / (ry * 1.1))
            if cuff {
                s *= 0.84 + 0.16 * fsin(x * 130)                      // ribbing
                if y - cuffTop < 0.012 { s *= 0.72 }                    // fold
            } else {
                s *= 0.86 + 0.14 * fsin(x * 110 + 3 * abs(fsin(y * 45)))  // knit
            }
            return Paint(k, col * s)
        }
        if n.pomPom {
            let py = g.cy + 0.03 - ry - 0.03, r: Float = 0.075
            c.fill(Box.around(0, py, r + 0.02, r + 0.02)) { x, y in
                let fuzz = 0.014 * (hashNoise(x * 3, y * 3) - 0.5)
                let dd = r + fuzz - (x * x + (y - py) * (y - py)).squareRoot()
                let k = cov(dd)
                if k <= 0 { return .none }
                return Paint(k, col.mix(.white, 0.12) * lit(x / (r * 1.3), (y - py) / (r * 1.3)))
            }
        }
    }

    func baseballCap(_ c: inout Canvas) {
        let vol = hairVolume, col = n.hat
        let bottom = g.hairlineY + 0.02
        let rx = g.rx + vol + 0.03, ry = g.ryTop + vol + 0.05
        c.fill(Box(-rx - 0.02, g.topY - vol - 0.08, rx + 0.02, bottom + 0.01)) { x, y in
            let d = min(ellipseDistance(x, y - g.cy, rx, ry), bottom - y)
            let k = cov(d)
            if k <= 0 { return .none }
            var s = lit(x / (rx * 1.15), (y - g.cy) / (ry * 1.15))
            // Panel seams.
            let seam = min(abs(x), abs(abs(x) - 0.16 * (y - g.topY + vol + 0.05) / 0.25))
            if seam < 0.005 { s *= 0.88 }
            return Paint(k, col * s)
        }
        let button = (Float(0), g.cy - ry + 0.015)
        c.fill(Box.around(button.0, button.1, 0.03, 0.03)) { x, y in
            let k = cov(0.022 - ((x - button.0) * (x - button.0) + (y - button.1) * (y - button.1)).squareRoot())
            return k > 0 ? Paint(k, col * 0.8) : .none
        }
        // The visor, seen from the front: a band across the forehead, dark underneath,
        // with its shadow on the face.
        let bw = g.rx * 0.95
        c.fill(Box(-bw - 0.01, bottom - 0.04, bw + 0.01, bottom + 0.2)) { x, y in
            let u = x / bw
            if abs(u) >= 1 { return .none }
            let top = bottom - 0.015 + 0.02 * u * u
            let low = bottom + 0.11 - 0.1 * u * u
            let d = min(y - top, low - y)
            let k = cov(d)
            if k > 0 {
                let under = smoothstep(top + (low - top) * 0.4, low, y)
                return Paint(k, col * (lit(u * 0.7, -0.5) * (1 - 0.45 * under)))
            }
            let shade = y - low
            if shade > 0 && shade < 0.07 && g.headDistance(x, y) > 0 {
                return Paint(0.3 * (1 - shade / 0.07), RGB(0, 0, 0))
            }
            return .none
        }
    }

    func fedora(_ c: inout Canvas) {
        let vol = hairVolume, col = n.hat, band = n.hatBand
        let brimY = g.hairlineY - 0.02
        let crownTop = g.topY - vol - 0.13
        let cw0 = g.rx * 0.9 + vol
        c.fill(Box(-cw0 - 0.02, crownTop - 0.02, cw0 + 0.02, brimY + 0.01)) { x, y in
            let cw = cw0 - 0.08 * clamp01((brimY - y) / 0.35)
            let u = x / cw
            let top = crownTop + 0.045 * u * u * u * u + 0.04 * exp(-x * x / 0.006)   // the pinch
            let d = min(cw - abs(x), y - top, brimY - y)
            let k = cov(d)
            if k <= 0 { return .none }
            let s = lit(u * 0.8, -0.3 + (y - brimY) * 0.5)
            let isBand = y > brimY - 0.08
            return Paint(k, isBand ? band * s : col * s)
        }
        let brx = g.rx + vol + 0.22, bry: Float = 0.065
        c.fill(Box(-brx - 0.01, brimY - bry - 0.01, brx + 0.01, brimY + bry + 0.01)) { x, y in
            let d = ellipseDistance(x, y - brimY, brx, bry)
            let k = cov(d)
            if k <= 0 { return .none }
            // The top of the brim catches light; its rolled edge and underside do not.
            let below = y > brimY + 0.01
            var s = lit(x / (brx * 1.2), below ? 0.2 : -0.6) * (below ? 0.62 : 1)
            if d < 0.01 { s *= 0.85 }
            return Paint(k, col * s)
        }
    }

    func beret(_ c: inout Canvas) {
        let vol = hairVolume, col = n.hat
        let dir: Float = n.partRight ? 1 : -1
        let bx = dir * 0.07, by = g.topY - vol + 0.07
        let rx = g.rx + vol + 0.11, ry: Float = 0.14
        c.fill(Box(bx - rx - 0.06, by - ry - 0.1, bx + rx + 0.06, by + ry + 0.08)) { x, y in
            let yy = y - (x - bx) * 0.16 * dir           // tilted to one side
            let d = ellipseDistance(x - bx, yy - by, rx, ry)
            let k = cov(d)
            if k <= 0 { return .none }
            var s = lit((x - bx) / (rx * 1.2), (yy - by) / (ry * 1.5))
            if yy > by + ry * 0.55 { s *= 0.78 }         // the headband rim
            s *= 0.94 + 0.06 * hashNoise(x * 2, y * 2)   // felt
            return Paint(k, col * s)
        }
        let sx = bx + dir * 0.02, sy = by - ry + 0.005
        c.fill(Box(sx - 0.02, sy - 0.04, sx + 0.02, sy + 0.01)) { x, y in
            let d = min(0.011 - abs(x - sx), y - (sy - 0.035), sy + 0.005 - y)
            let k = cov(d)
            return k > 0 ? Paint(k, col * 0.75) : .none
        }
    }
}
