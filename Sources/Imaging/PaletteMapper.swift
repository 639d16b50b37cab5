/// How pixels between palette colours are rendered.
public enum SixelDithering: Sendable {
    /// Nearest palette colour. A pixel already in the palette maps to itself.
    case none
    /// 8x8 Bayer threshold offsets scaled to the palette's colour step. Position-local, so a
    /// pixel that did not change between frames renders the same (no shimmer during unmasking).
    case ordered
    /// Floyd–Steinberg error diffusion: smoothest still image, but one changed pixel alters
    /// everything after it, so animations shimmer.
    case floydSteinberg
}

/// Exact nearest-palette-colour search (squared RGB distance, ties to the lower index), sped up
/// by a 16x16x16 grid: each grid cell lists the only entries that can be nearest to any colour
/// inside it (those whose closest possible distance does not exceed the best farthest distance).
struct PaletteMapper {
    private let palette: [Int32]      // r, g, b per entry
    private let cellStarts: [Int32]   // 4096 + 1 offsets into candidates
    private let candidates: [UInt8]
    private let orderedOffsets: [Int32]

    init(_ sixelPalette: SixelPalette) {
        palette = sixelPalette.rgb.map { Int32($0) }
        let count = sixelPalette.count
        var starts: [Int32] = [0]
        var lists: [UInt8] = []
        for cell in 0..<4096 {
            let lo = [Int32((cell >> 8) << 4), Int32(((cell >> 4) & 15) << 4), Int32((cell & 15) << 4)]
            var closest = [Int32](repeating: 0, count: count), threshold = Int32.max
            for e in 0..<count {
                var near: Int32 = 0, far: Int32 = 0
                for c in 0..<3 {
                    let v = palette[3 * e + c], a = lo[c], b = lo[c] + 15
                    let inside: Int32 = v < a ? a - v : (v > b ? v - b : 0)
                    let outside = max(abs(v - a), abs(v - b))
                    near += inside * inside; far += outside * outside
                }
                closest[e] = near
                threshold = min(threshold, far)
            }
            for e in 0..<count where closest[e] <= threshold { lists.append(UInt8(e)) }
            starts.append(Int32(lists.count))
        }
        cellStarts = starts
        candidates = lists

        // Bayer 8x8 ranks -> offsets in (-spread/2, spread/2).
        let spread = Int32(sixelPalette.ditherSpread)
        orderedOffsets = (0..<64).map { i in
            let rank = PaletteMapper.bayerRank(x: i & 7, y: i >> 3)
            return (Int32(2 * rank + 1) * spread) / 128 - spread / 2
        }
    }

    @inline(__always) func nearest(_ r: Int32, _ g: Int32, _ b: Int32) -> UInt8 {
        let cell = Int((r >> 4) << 8 | (g >> 4) << 4 | (b >> 4))
        var best: UInt8 = 0, bestDistance = Int32.max
        for k in Int(cellStarts[cell])..<Int(cellStarts[cell + 1]) {
            let e = candidates[k], o = 3 * Int(e)
            let dr = r - palette[o], dg = g - palette[o + 1], db = b - palette[o + 2]
            let d = dr * dr + dg * dg + db * db
            if d < bestDistance { best = e; bestDistance = d }
        }
        return best
    }

    /// Palette indices for every pixel, row-major.
    func indices(for image: RGBImage, dithering: SixelDithering) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: image.width * image.height)
        image.pixels.withUnsafeBufferPointer { p in
            switch dithering {
            case .none:
                for i in 0..<out.count {
                    out[i] = nearest(Int32(p[3 * i]), Int32(p[3 * i + 1]), Int32(p[3 * i + 2]))
                }
            case .ordered:
                for y in 0..<image.height {
                    for x in 0..<image.width {
                        let i = y * image.width + x, offset = orderedOffsets[(y & 7) << 3 | (x & 7)]
                        out[i] = nearest(clamp(Int32(p[3 * i]) + offset), clamp(Int32(p[3 * i + 1]) + offset),
                                         clamp(Int32(p[3 * i + 2]) + offset))
                    }
                }
            case .floydSteinberg:
                floydSteinberg(p, width: image.width, height: image.height, into: &out)
            }
        }
        return out
    }

    /// Error diffusion 7/16 right, 3/16 down-left, 5/16 down, 1/16 down-right (errors in 1/16ths).
    private func floydSteinberg(_ p: UnsafeBufferPointer<UInt8>, width: Int, height: Int, into out: inout [UInt8]) {
        var current = [Int32](repeating: 0, count: (width + 2) * 3)
        var next = current
        for y in 0..<height {
            for i in next.indices { next[i] = 0 }
            for x in 0..<width {
                let i = y * width + x, e = (x + 1) * 3
                func diffuse(_ error: Int32, channel c: Int) {
                    current[e + 3 + c] += error * 7
                    next[e - 3 + c] += error * 3
                    next[e + c] += error * 5
                    next[e + 3 + c] += error
                }
                let r = clamp(Int32(p[3 * i]) + current[e] / 16)
                let g = clamp(Int32(p[3 * i + 1]) + current[e + 1] / 16)
                let b = clamp(Int32(p[3 * i + 2]) + current[e + 2] / 16)
                let index = nearest(r, g, b)
                out[i] = index
                let o = 3 * Int(index)
                diffuse(r - palette[o], channel: 0)
                diffuse(g - palette[o + 1], channel: 1)
                diffuse(b - palette[o + 2], channel: 2)
            }
            swap(&current, &next)
        }
    }

    /// Rank 0...63 of (x, y) in the recursive 8x8 Bayer matrix (bit-interleaving construction).
    static func bayerRank(x: Int, y: Int) -> Int {
        var rank = 0
        for bit in 0..<3 {
            let xb = (x >> bit) & 1, yb = (y >> bit) & 1
            rank |= ((xb ^ yb) << 1 | yb) << (2 * (2 - bit))
        }
        return rank
    }
}

@inline(__always) private func clamp(_ v: Int32) -> Int32 { min(max(v, 0), 255) }
