import CSixel
import Foundation

/// Encodes frames to sixel with one fixed palette, reused for every frame (DESIGN: "one palette
/// reused across steps"): colour registers mean the same thing in every frame, so earlier images
/// on screen never change colour, and no per-frame palette search is needed.
///
/// Quantisation is done here (exact nearest colour, optional dithering) and libsixel gets
/// palette indices (`SIXEL_PIXELFORMAT_PAL8`) for the band/run-length encoding. The full palette
/// is defined in every frame, without renumbering. Output is 7-bit: `ESC P … q … ESC \`.
///
/// Thread-safe (calls are serialised); keep one per palette and reuse it.
public final class SixelEncoder: @unchecked Sendable {
    public let palette: SixelPalette
    public let dithering: SixelDithering
    private let mapper: PaletteMapper
    private var dither: OpaquePointer? = nil  // sixel_dither_t*, created on first encode
    private let lock = NSLock()

    /// `dithering` defaults to `.ordered`: smooth enough for a 256-colour cube and stable from
    /// frame to frame. Use `.none` when the image's colours are already palette colours.
    public init(palette: SixelPalette = .general, dithering: SixelDithering = .ordered) {
        self.palette = palette
        self.dithering = dithering
        self.mapper = PaletteMapper(palette)
    }

    deinit {
        if let dither { sixel_dither_unref(dither) }
    }

    /// The complete DCS … ST sequence for `image`, ready to write to the terminal.
    public func encode(_ image: RGBImage) throws -> [UInt8] {
        var indices = mapper.indices(for: image, dithering: dithering)
        lock.lock(); defer { lock.unlock() }
        let dither = try paletteDither()

        let sink = ByteSink()
        var output: OpaquePointer? = nil
        let created = sixel_output_new(&output, collectSixelBytes, Unmanaged.passUnretained(sink).toOpaque(), nil)
        guard !sixelFailed(created), let output else { throw sixelError("sixel_output_new", created) }
        defer { sixel_output_unref(output) }
        sixel_output_set_palette_type(output, Int32(SIXEL_PALETTETYPE_RGB))

        let status = withExtendedLifetime(sink) {
            indices.withUnsafeMutableBufferPointer {
                sixel_encode($0.baseAddress, Int32(image.width), Int32(image.height), 8, dither, output)
            }
        }
        if sixelFailed(status) { throw sixelError("sixel_encode", status) }
        return Self.removingSpuriousNewLine(sink.bytes, height: image.height)
    }

    /// libsixel starts every band but the one ending on row 5 with a graphics new line (`-`,
    /// `if (y != 5)` in its encoder), so an image under 6 rows, whose only band ends earlier,
    /// is drawn 6 rows down. That band is the whole image, so the stream's one `-` is the wrong one.
    static func removingSpuriousNewLine(_ bytes: [UInt8], height: Int) -> [UInt8] {
        guard height < 6, let newLine = bytes.firstIndex(of: UInt8(ascii: "-")) else { return bytes }
        var fixed = bytes
        fixed.remove(at: newLine)
        return fixed
    }

    /// The libsixel dither object holding our palette, in "indices in, no quantisation" mode.
    private func paletteDither() throws -> OpaquePointer {
        if let dither { return dither }
        var created: OpaquePointer? = nil
        let status = sixel_dither_new(&created, Int32(palette.count), nil)
        guard !sixelFailed(status), let created else { throw sixelError("sixel_dither_new", status) }
        var rgb = palette.rgb
        rgb.withUnsafeMutableBufferPointer { sixel_dither_set_palette(created, $0.baseAddress) }  // copied
        sixel_dither_set_pixelformat(created, Int32(SIXEL_PIXELFORMAT_PAL8))
        dither = created
        return created
    }
}

/// Decodes a sixel sequence (as written by `SixelEncoder` or a terminal program) back to RGB
/// with libsixel's `sixel_decode_raw`. Meant for tests and tools (`facestudio` round-trip checks).
public enum SixelDecoder {
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> RGBImage {
        if bytes.isEmpty { throw ImagingError.empty(source: source) }
        // libsixel grows its canvas as data arrives and would allocate whatever the data asks
        // for: measure the extent ourselves first.
        let extent = try SixelExtent(bytes, source: source)
        if let limit = ImageLimits.violation(width: extent.width, height: extent.height) {
            throw ImagingError.tooLarge(source: source, width: extent.width, height: extent.height, limit: limit)
        }
        if extent.width == 0 || extent.height == 0 {
            throw ImagingError.sixel(source: source, detail: "no pixels in the data")
        }

        var allocator: OpaquePointer? = nil
        guard !sixelFailed(sixel_allocator_new(&allocator, nil, nil, nil, nil)), let allocator else {
            throw ImagingError.sixel(source: source, detail: "cannot create allocator")
        }
        defer { sixel_allocator_unref(allocator) }

        var data = bytes
        var indices: UnsafeMutablePointer<UInt8>? = nil, palette: UnsafeMutablePointer<UInt8>? = nil
        var width: Int32 = 0, height: Int32 = 0, colorCount: Int32 = 0
        let status = data.withUnsafeMutableBufferPointer {
            sixel_decode_raw($0.baseAddress, Int32($0.count), &indices, &width, &height, &palette, &colorCount, allocator)
        }
        defer {
            if let indices { sixel_allocator_free(allocator, indices) }
            if let palette { sixel_allocator_free(allocator, palette) }
        }
        if sixelFailed(status) {
            throw ImagingError.sixel(source: source, detail: "cannot decode (\(sixelMessage(status)))")
        }
        guard let indices, let palette, width > 0, height > 0, colorCount > 0 else {
            throw ImagingError.sixel(source: source, detail: "no image in the data")
        }
        if let limit = ImageLimits.violation(width: Int(width), height: Int(height)) {
            throw ImagingError.tooLarge(source: source, width: Int(width), height: Int(height), limit: limit)
        }

        // Pixels the data never paints carry libsixel's background index, which is outside the
        // returned palette: they stay black.
        let pixelCount = Int(width) * Int(height), colors = Int(colorCount)
        var rgb = [UInt8](repeating: 0, count: pixelCount * 3)
        for i in 0..<pixelCount {
            let index = Int(indices[i])
            guard index < colors else { continue }
            rgb[3 * i] = palette[3 * index]; rgb[3 * i + 1] = palette[3 * index + 1]; rgb[3 * i + 2] = palette[3 * index + 2]
        }
        return RGBImage(width: Int(width), height: Int(height), pixels: rgb)
    }
}

/// Upper bounds on a sixel image's size from a quick scan: the raster attributes
/// (`"Pan;Pad;Ph;Pv`) and the furthest column / band the drawing commands reach.
struct SixelExtent {
    var width = 0, height = 0

    init(_ bytes: [UInt8], source: String) throws {
        // The body starts after the DCS introducer (ESC P or 8-bit 0x90) and its final 'q'.
        var dcs: Int? = nil
        for k in bytes.indices {
            if bytes[k] == 0x90 { dcs = k + 1; break }
            if bytes[k] == 0x1B, k + 1 < bytes.count, bytes[k + 1] == 0x50 { dcs = k + 2; break }
        }
        guard let dcs, let q = bytes[dcs...].firstIndex(of: UInt8(ascii: "q")) else {
            throw ImagingError.sixel(source: source, detail: "no DCS sixel introducer (ESC P ... q)")
        }
        var i = q + 1, x = 0, band = 0, repeatCount = 1
        func number() -> Int {
            var n = 0
            while i < bytes.count, (48...57).contains(bytes[i]) { n = min(n * 10 + Int(bytes[i] - 48), 1 << 30); i += 1 }
            return n
        }
        func parameters() -> [Int] {
            var values = [number()]
            while i < bytes.count, bytes[i] == UInt8(ascii: ";") { i += 1; values.append(number()) }
            return values
        }
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "\""):
                i += 1
                let p = parameters()
                if p.count >= 4 { width = max(width, p[2]); height = max(height, p[3]) }
            case UInt8(ascii: "!"):
                i += 1
                repeatCount = max(number(), 1)
            case UInt8(ascii: "#"):
                i += 1
                _ = parameters()
            case UInt8(ascii: "$"): x = 0; i += 1
            case UInt8(ascii: "-"): x = 0; band += 1; i += 1
            case 0x3F...0x7E:
                x += repeatCount; repeatCount = 1; i += 1
                width = max(width, x); height = max(height, band * 6 + 6)
            case 0x1B, 0x9C:
                return  // string terminator
            default:
                i += 1
            }
            if width > 1 << 24 || height > 1 << 24 { return }  // clearly over the limits already
        }
    }
}

/// Accumulates libsixel's output packets.
private final class ByteSink {
    var bytes: [UInt8] = []
}

/// libsixel's write callback: `priv` is an unretained `ByteSink` kept alive by `encode`.
private let collectSixelBytes: sixel_write_function = { data, size, priv in
    guard let data, let priv, size > 0 else { return 0 }
    let sink = Unmanaged<ByteSink>.fromOpaque(priv).takeUnretainedValue()
    data.withMemoryRebound(to: UInt8.self, capacity: Int(size)) {
        sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: Int(size)))
    }
    return size
}

/// `SIXEL_FAILED` (a function-like macro Swift does not import).
private func sixelFailed(_ status: SIXELSTATUS) -> Bool { (status & 0x1000) != 0 }

private func sixelMessage(_ status: SIXELSTATUS) -> String {
    sixel_helper_format_error(status).map { String(cString: $0) } ?? "status \(status)"
}

private func sixelError(_ function: String, _ status: SIXELSTATUS) -> ImagingError {
    .sixel(source: "<encoder>", detail: "\(function) failed: \(sixelMessage(status))")
}
