/// A fixed colour palette (1...256 entries) for sixel output.
///
/// Sixel colour registers are defined in whole percent (`#n;2;R%;G%;B%`), so every entry is
/// stored already snapped to that grid — exactly the colour a terminal (or `SixelDecoder`) will
/// show. Hence a pixel whose colour is a palette entry survives encode + decode unchanged.
public struct SixelPalette: Equatable, Sendable {
    /// R, G, B bytes of each entry in turn (`count * 3` bytes).
    public let rgb: [UInt8]

    public var count: Int { rgb.count / 3 }

    public func color(at index: Int) -> RGBColor {
        RGBColor(rgb[3 * index], rgb[3 * index + 1], rgb[3 * index + 2])
    }

    public var colors: [RGBColor] { (0..<count).map(color(at:)) }

    /// A palette from explicit colours (1...256 of them; duplicates after snapping are kept so
    /// indices stay where the caller put them).
    public init(colors: [RGBColor]) throws {
        guard (1...256).contains(colors.count) else {
            throw ImagingError.invalidArgument("a sixel palette needs 1...256 colours, got \(colors.count)")
        }
        rgb = colors.flatMap { [$0.r, $0.g, $0.b].map(SixelPalette.snap) }
    }

    /// Like `init(colors:)` but never fails; only for built-in, known-good lists.
    private init(trusted colors: [RGBColor]) {
        rgb = colors.flatMap { [$0.r, $0.g, $0.b].map(SixelPalette.snap) }
    }

    /// The byte value a terminal shows for `value` after the percent round trip
    /// (the same integer formulas as libsixel's encoder and decoder).
    public static func snap(_ value: UInt8) -> UInt8 {
        let percent = (Int(value) * 100 + 127) / 255
        return UInt8((percent * 255 + 50) / 100)
    }

    /// The general-purpose palette: a 6x7x6 RGB cube (green, the channel the eye resolves best,
    /// gets the extra level) plus 4 mid greys the cube lacks: 256 colours.
    public static let general: SixelPalette = {
        var colors: [RGBColor] = []
        for r in 0..<6 {
            for g in 0..<7 {
                for b in 0..<6 {
                    colors.append(RGBColor(UInt8(r * 51), UInt8((g * 255 + 3) / 6), UInt8(b * 51)))
                }
            }
        }
        for grey: UInt8 in [32, 96, 160, 224] { colors.append(RGBColor(grey, grey, grey)) }
        return SixelPalette(trusted: colors)
    }()

    /// A palette fitted to the colours of `images` with `colors` entries at most (clamped to
    /// 2...256): variance-splitting median cut over a 5-bit-per-channel histogram, refined by a
    /// few k-means passes. Deterministic. With no images it returns `general`.
    public static func fromImages(_ images: [RGBImage], colors: Int) -> SixelPalette {
        let histogram = ColorHistogram(images)
        if histogram.bins.isEmpty { return general }
        var centres = histogram.medianCut(into: min(max(colors, 2), 256))
        histogram.refine(&centres, passes: 4)
        // Snap, then drop entries that became identical.
        var seen = Set<RGBColor>()
        let unique = centres.map { RGBColor(snap($0.r), snap($0.g), snap($0.b)) }.filter { seen.insert($0).inserted }
        return SixelPalette(trusted: unique)
    }

    /// Amplitude (per channel) for ordered dithering: the median distance from an entry to its
    /// nearest other entry, i.e. the typical step between neighbouring palette colours.
    var ditherSpread: Int {
        guard count > 1 else { return 0 }
        let all = colors
        var nearest: [Int] = []
        for (i, c) in all.enumerated() {
            var best = Int.max
            for (j, d) in all.enumerated() where j != i {
                let distance = c.distanceSquared(to: d)
                if distance > 0 { best = min(best, distance) }
            }
            if best != Int.max { nearest.append(best) }
        }
        guard !nearest.isEmpty else { return 0 }
        nearest.sort()
        return Int(Double(nearest[nearest.count / 2]).squareRoot().rounded())
    }
}

/// Pixel counts and colour sums in 32x32x32 bins (sums keep the true mean of each bin).
struct ColorHistogram {
    struct Bin { var count: Double; var r: Double; var g: Double; var b: Double
        var mean: (Double, Double, Double) { (r / count, g / count, b / count) }
    }
    var bins: [Bin] = []

    init(_ images: [RGBImage]) {
        var count = [Double](repeating: 0, count: 32768)
        var sums = [Double](repeating: 0, count: 32768 * 3)
        for image in images {
            let p = image.pixels
            for i in stride(from: 0, to: p.count, by: 3) {
                let key = (Int(p[i]) >> 3) << 10 | (Int(p[i + 1]) >> 3) << 5 | Int(p[i + 2]) >> 3
                count[key] += 1
                sums[3 * key] += Double(p[i]); sums[3 * key + 1] += Double(p[i + 1]); sums[3 * key + 2] += Double(p[i + 2])
            }
        }
        for key in 0..<32768 where count[key] > 0 {
            bins.append(Bin(count: count[key], r: sums[3 * key], g: sums[3 * key + 1], b: sums[3 * key + 2]))
        }
    }

    /// Splits the bin set into up to `target` boxes, always splitting the box with the largest
    /// squared error, along its highest-variance channel at the weighted median.
    func medianCut(into target: Int) -> [RGBColor] {
        struct Box { var members: [Int]; var error: Double; var axis: Int }
        func makeBox(_ members: [Int]) -> Box {
            var n = 0.0, mean = [0.0, 0.0, 0.0], squares = [0.0, 0.0, 0.0]
            for i in members {
                let m = bins[i].mean, w = bins[i].count
                n += w
                for (c, v) in [m.0, m.1, m.2].enumerated() { mean[c] += w * v; squares[c] += w * v * v }
            }
            let variance = (0..<3).map { squares[$0] / n - (mean[$0] / n) * (mean[$0] / n) }
            let axis = variance.indices.max { variance[$0] < variance[$1] }!
            return Box(members: members, error: variance.reduce(0, +) * n, axis: axis)
        }
        func component(_ i: Int, _ axis: Int) -> Double {
            let m = bins[i].mean
            return axis == 0 ? m.0 : axis == 1 ? m.1 : m.2
        }

        var boxes = [makeBox(Array(bins.indices))]
        while boxes.count < target {
            guard let worst = boxes.indices.filter({ boxes[$0].members.count > 1 && boxes[$0].error > 0 })
                .max(by: { boxes[$0].error < boxes[$1].error }) else { break }
            let box = boxes[worst]
            let sorted = box.members.sorted { (component($0, box.axis), $0) < (component($1, box.axis), $1) }
            let half = sorted.reduce(0.0) { $0 + bins[$1].count } / 2
            var running = 0.0, cut = 1
            for (k, i) in sorted.enumerated() {
                running += bins[i].count
                if running >= half { cut = min(max(k + 1, 1), sorted.count - 1); break }
            }
            boxes[worst] = makeBox(Array(sorted[..<cut]))
            boxes.append(makeBox(Array(sorted[cut...])))
        }
        return boxes.map { box in
            var n = 0.0, r = 0.0, g = 0.0, b = 0.0
            for i in box.members { n += bins[i].count; r += bins[i].r; g += bins[i].g; b += bins[i].b }
            return RGBColor(UInt8((r / n).rounded()), UInt8((g / n).rounded()), UInt8((b / n).rounded()))
        }
    }

    /// Lloyd iterations: move each centre to the weighted mean of the bins nearest to it.
    func refine(_ centres: inout [RGBColor], passes: Int) {
        for _ in 0..<passes {
            var n = [Double](repeating: 0, count: centres.count)
            var sums = [Double](repeating: 0, count: centres.count * 3)
            for bin in bins {
                let m = bin.mean
                let probe = RGBColor(UInt8(m.0.rounded()), UInt8(m.1.rounded()), UInt8(m.2.rounded()))
                var best = 0, bestDistance = Int.max
                for (k, c) in centres.enumerated() {
                    let d = probe.distanceSquared(to: c)
                    if d < bestDistance { best = k; bestDistance = d }
                }
                n[best] += bin.count
                sums[3 * best] += bin.r; sums[3 * best + 1] += bin.g; sums[3 * best + 2] += bin.b
            }
            for k in centres.indices where n[k] > 0 {
                centres[k] = RGBColor(UInt8((sums[3 * k] / n[k]).rounded()),
                                      UInt8((sums[3 * k + 1] / n[k]).rounded()),
                                      UInt8((sums[3 * k + 2] / n[k]).rounded()))
            }
        }
    }
}
