import Testing
@testable import Imaging

@Suite struct SixelTests {
    /// A 64x64 image painted (in 4x4 blocks) with random entries of `palette`.
    func paletteImage(_ palette: SixelPalette, seed: UInt64) -> RGBImage {
        var rng = SplitMix64(seed: seed)
        var image = RGBImage(width: 64, height: 64)
        for by in 0..<16 {
            for bx in 0..<16 {
                let c = palette.color(at: Int.random(in: 0..<palette.count, using: &rng)).tuple
                for y in 0..<4 { for x in 0..<4 { image.setPixel(x: 4 * bx + x, y: 4 * by + y, c) } }
            }
        }
        return image
    }

    /// The `#n;2;r;g;b` colour definitions in a sixel stream, in order.
    func paletteDefinitions(_ bytes: [UInt8]) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.split(separator: "#").dropFirst().compactMap { part -> String? in
            let fields = part.prefix { "0123456789;".contains($0) }
            return fields.split(separator: ";").count == 5 ? String(fields) : nil
        }
    }

    @Test func paletteColoursRoundTripExactly() throws {
        // Exact, not approximate: palette entries are stored already snapped to the percent grid
        // that sixel colour definitions use, and `.none` maps a palette colour to itself.
        let encoder = SixelEncoder(palette: .general, dithering: .none)
        let image = paletteImage(.general, seed: 40)
        let bytes = try encoder.encode(image)
        #expect(Array(bytes.prefix(2)) == [0x1B, 0x50])         // ESC P
        #expect(Array(bytes.suffix(2)) == [0x1B, 0x5C])         // ESC \
        #expect(bytes.allSatisfy { $0 < 0x80 })                 // 7-bit only
        #expect(try SixelDecoder.decode(bytes) == image)
    }

    @Test func snappingMatchesTheTerminalsPercentGrid() {
        for v in 0...255 {
            let snapped = SixelPalette.snap(UInt8(v))
            #expect(SixelPalette.snap(snapped) == snapped)           // idempotent
            #expect(abs(Int(snapped) - v) <= 2)                     // 255/100/2 rounding, both ways
        }
        #expect(SixelPalette.general.count == 256)
    }

    @Test func offPaletteColoursMapToTheNearestEntry() throws {
        let image = randomImage(width: 64, height: 64, seed: 41)
        let decoded = try SixelDecoder.decode(SixelEncoder(palette: .general, dithering: .none).encode(image))
        let entries = SixelPalette.general.colors
        for i in stride(from: 0, to: 64 * 64, by: 7) {
            let want = RGBColor(image.pixel(x: i % 64, y: i / 64))
            let best = entries.map { $0.distanceSquared(to: want) }.min()!
            #expect(RGBColor(decoded.pixel(x: i % 64, y: i / 64)).distanceSquared(to: want) == best)
        }
    }

    @Test func gridSearchAgreesWithBruteForce() {
        var rng = SplitMix64(seed: 42)
        let adaptive = SixelPalette.fromImages([randomImage(width: 50, height: 50, seed: 43)], colors: 97)
        for palette in [SixelPalette.general, adaptive] {
            let mapper = PaletteMapper(palette)
            let entries = palette.colors
            for _ in 0..<3000 {
                let c = RGBColor(UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 0...255, using: &rng),
                                 UInt8.random(in: 0...255, using: &rng))
                let found = Int(mapper.nearest(Int32(c.r), Int32(c.g), Int32(c.b)))
                let best = entries.indices.min { (entries[$0].distanceSquared(to: c), $0) < (entries[$1].distanceSquared(to: c), $1) }!
                #expect(found == best)
            }
        }
    }

    @Test func onePaletteServesEveryFrame() throws {
        let encoder = SixelEncoder(palette: .general)
        let first = try encoder.encode(paletteImage(.general, seed: 44))
        let second = try encoder.encode(randomImage(width: 48, height: 30, seed: 45))
        let definitions = paletteDefinitions(first)
        #expect(definitions.count == 256)                        // full palette, never renumbered
        #expect(paletteDefinitions(second) == definitions)
        #expect(definitions[255] == "255;2;88;88;88")            // the last built-in grey (224)
        // Every decoded pixel of both frames is a palette colour.
        let allowed = Set(SixelPalette.general.colors)
        for bytes in [first, second] {
            let decoded = try SixelDecoder.decode(bytes)
            #expect(stride(from: 0, to: decoded.pixels.count, by: 3).allSatisfy {
                allowed.contains(RGBColor(decoded.pixels[$0], decoded.pixels[$0 + 1], decoded.pixels[$0 + 2]))
            })
        }
    }

    @Test func ditheringPreservesTheAverageColour() throws {
        // (120, 120, 120) is not in the general palette; plain mapping is off by 8 in red.
        let image = RGBImage(width: 64, height: 64, fill: (120, 120, 120))
        for mode in [SixelDithering.ordered, .floydSteinberg] {
            let decoded = try SixelDecoder.decode(SixelEncoder(palette: .general, dithering: mode).encode(image))
            for c in 0..<3 {
                let mean = stride(from: c, to: decoded.pixels.count, by: 3).reduce(0.0) { $0 + Double(decoded.pixels[$1]) }
                    / Double(64 * 64)
                #expect(abs(mean - 120) < 4, "\(mode) channel \(c): \(mean)")
            }
        }
        // Ordered dithering is position-local: changing one pixel changes only that pixel.
        var changed = image
        changed.setPixel(x: 10, y: 10, (255, 0, 0))
        let encoder = SixelEncoder(palette: .general, dithering: .ordered)
        let a = try SixelDecoder.decode(encoder.encode(image)), b = try SixelDecoder.decode(encoder.encode(changed))
        #expect(stride(from: 0, to: a.pixels.count, by: 3).filter { a.pixels[$0..<($0 + 3)] != b.pixels[$0..<($0 + 3)] } == [(10 * 64 + 10) * 3])
    }

    @Test func fittedPaletteKeepsFewColoursExactly() throws {
        let colours: [(UInt8, UInt8, UInt8)] = [(250, 200, 180), (20, 20, 20), (200, 50, 50), (255, 255, 255), (90, 140, 60)]
        var image = RGBImage(width: 40, height: 40)
        for y in 0..<40 { for x in 0..<40 { image.setPixel(x: x, y: y, colours[(x / 8 + y) % 5]) } }
        let palette = SixelPalette.fromImages([image], colors: 16)
        #expect(palette.count == 5)
        #expect(SixelPalette.fromImages([image], colors: 16) == palette)  // deterministic
        // The image's colours snapped to the percent grid are exactly the palette's.
        let snapped = Set(colours.map { RGBColor(SixelPalette.snap($0.0), SixelPalette.snap($0.1), SixelPalette.snap($0.2)) })
        #expect(Set(palette.colors) == snapped)
        #expect(SixelPalette.fromImages([randomImage(width: 64, height: 64, seed: 46)], colors: 32).count <= 32)
        #expect(SixelPalette.fromImages([], colors: 16) == .general)
    }

    @Test func adaptivePaletteBeatsTheGeneralOneOnItsImage() throws {
        // A smooth warm gradient: the fitted palette should reproduce it more closely.
        var image = RGBImage(width: 64, height: 64)
        for y in 0..<64 { for x in 0..<64 { image.setPixel(x: x, y: y, (UInt8(150 + x), UInt8(100 + y), UInt8(80 + (x + y) / 4))) } }
        let general = try SixelDecoder.decode(SixelEncoder(palette: .general, dithering: .none).encode(image))
        let fitted = try SixelDecoder.decode(
            SixelEncoder(palette: .fromImages([image], colors: 64), dithering: .none).encode(image))
        #expect(ImageOps.psnr(image, fitted) > ImageOps.psnr(image, general) + 3)
    }

    @Test func invalidPalettesAreRejected() {
        #expect(errorText { try SixelPalette(colors: []) } == "invalid argument: a sixel palette needs 1...256 colours, got 0")
        #expect(throws: ImagingError.self) { try SixelPalette(colors: Array(repeating: RGBColor(1, 2, 3), count: 257)) }
    }

    @Test func tinyPalettesAndImagesWork() throws {
        let twoColours = try SixelPalette(colors: [RGBColor(0, 0, 0), RGBColor(255, 255, 255)])
        let image = RGBImage(width: 1, height: 1, fill: (255, 255, 255))
        #expect(try SixelDecoder.decode(SixelEncoder(palette: twoColours, dithering: .none).encode(image)) == image)
    }

    @Test func everyHeightAroundTheSixRowBandsRoundTrips() throws {
        // Sixel draws 6-row bands: heights below, at and past one band; every row has its own
        // colours, so a band drawn in the wrong place shows.
        let encoder = SixelEncoder(palette: .general, dithering: .none)
        for height in 1...13 {
            var image = RGBImage(width: 5, height: height)
            for y in 0..<height {
                for x in 0..<5 { image.setPixel(x: x, y: y, SixelPalette.general.color(at: (37 * y + 11 * x) % 256).tuple) }
            }
            let bytes = try encoder.encode(image)
            #expect(try SixelDecoder.decode(bytes) == image, "height \(height)")
            #expect(bytes.filter { $0 == UInt8(ascii: "-") }.count == (height - 1) / 6, "height \(height)")
        }
    }

    @Test func decoderRejectsBadInput() {
        #expect(errorText { try SixelDecoder.decode([], source: "s.six") } == "s.six: empty input (0 bytes)")
        #expect(errorText { try SixelDecoder.decode(Array("hello".utf8), source: "s.six") }
            == "s.six: sixel: no DCS sixel introducer (ESC P ... q)")
        #expect(errorText { try SixelDecoder.decode(Array("\u{1B}Pq\u{1B}\\".utf8), source: "s.six") }
            == "s.six: sixel: no pixels in the data")
        #expect(errorText { try SixelDecoder.decode(Array("\u{1B}Pq\"1;1;90000;90000#0~\u{1B}\\".utf8), source: "s.six") }
            == "s.six: image too large (90000x90000; limit 16384 per side)")
        #expect(errorText { try SixelDecoder.decode(Array("\u{1B}Pq#0!99999999~\u{1B}\\".utf8), source: "s.six") }
            == "s.six: image too large (99999999x6; limit 16384 per side)")
        var rng = SplitMix64(seed: 47)
        for _ in 0..<300 {
            let body = (0..<Int.random(in: 0...120, using: &rng)).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) }
            _ = try? SixelDecoder.decode(Array("\u{1B}Pq".utf8) + body)  // must not crash
        }
    }
}
