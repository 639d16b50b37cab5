import CPNG

/// PNG encode/decode through libpng's "simplified API" (`png_image_*`).
///
/// The classic libpng API reports errors by `longjmp`, which would jump over Swift frames;
/// the simplified API catches its own longjmps inside C and returns 0 with a message instead.
///
/// Decoding accepts every PNG colour type and bit depth (gray, gray+alpha, RGB, RGBA, palette
/// with or without tRNS, 1..16 bits) and converts to 8-bit RGB. **Alpha is composited over
/// black** (libpng does the compositing), so a fully transparent pixel reads as (0, 0, 0).
/// 16-bit samples without colour-space chunks are taken as sRGB-encoded (0x8080 -> 0x80).
public enum PNGCodec {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Encodes an 8-bit RGB PNG (non-interlaced, libpng's default compression).
    public static func encode(_ image: RGBImage) throws -> [UInt8] {
        var png = makeImageHeader(width: image.width, height: image.height)
        defer { png_image_free(&png) }
        return try image.pixels.withUnsafeBytes { pixels -> [UInt8] in
            // First call sizes the output, second call writes it.
            var size: png_alloc_size_t = 0
            guard png_image_write_to_memory(&png, nil, &size, 0, pixels.baseAddress, 0, nil) != 0 else {
                throw ImagingError.cannotEncode(source: "<memory>", detail: "libpng: \(message(of: &png))")
            }
            var out = [UInt8](repeating: 0, count: Int(size))
            let ok = out.withUnsafeMutableBytes {
                png_image_write_to_memory(&png, $0.baseAddress, &size, 0, pixels.baseAddress, 0, nil)
            }
            guard ok != 0 else {
                throw ImagingError.cannotEncode(source: "<memory>", detail: "libpng: \(message(of: &png))")
            }
            out.removeLast(out.count - Int(size))
            return out
        }
    }

    /// Decodes PNG bytes to 8-bit RGB. `source` names the data in error messages.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> RGBImage {
        if bytes.isEmpty { throw ImagingError.empty(source: source) }
        let checked = min(bytes.count, signature.count)
        if !bytes[0..<checked].elementsEqual(signature[0..<checked]) {
            throw ImagingError.notPNG(source: source)
        }
        if bytes.count < signature.count {
            throw ImagingError.truncated(source: source, detail: "\(bytes.count) bytes, not even the signature")
        }

        // libpng stops reading after the image data, so a file cut inside or before IEND would
        // pass; walking the chunk layout first also gives precise truncation messages.
        try checkChunkLayout(bytes, source: source)

        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&png) }  // safe after libpng freed it: opaque is then NULL

        let began = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&png, $0.baseAddress, $0.count) }
        if began == 0 { throw readError(message(of: &png), byteCount: bytes.count, source: source) }

        // The header is known now; refuse absurd sizes before allocating the pixel buffer.
        let width = Int(png.width), height = Int(png.height)
        if let limit = ImageLimits.violation(width: width, height: height) {
            throw ImagingError.tooLarge(source: source, width: width, height: height, limit: limit)
        }

        png.format = UInt32(PNG_FORMAT_RGB)
        // libpng would take 16-bit data without gAMA/sRGB chunks as linear light and brighten
        // it; nearly every such file in practice is sRGB-encoded, like 8-bit data.
        png.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        var black = png_color(red: 0, green: 0, blue: 0)
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        let finished = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&png, &black, $0.baseAddress, 0, nil)
        }
        if finished == 0 { throw readError(message(of: &png), byteCount: bytes.count, source: source) }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// Reads and decodes a PNG file; errors name `path`.
    public static func read(path: String) throws -> RGBImage {
        try decode(AtomicFile.read(path: path), source: path)
    }

    /// Encodes and writes atomically (temporary file in the same directory, then rename).
    public static func write(_ image: RGBImage, to path: String) throws {
        try AtomicFile.write(encode(image), to: path)
    }

    // MARK: - libpng plumbing

    private static func makeImageHeader(width: Int, height: Int) -> png_image {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(width)
        png.height = UInt32(height)
        png.format = UInt32(PNG_FORMAT_RGB)
        return png
    }

    /// Follows length/type/data/CRC from the signature to IEND without interpreting the data
    /// (libpng checks CRCs and contents). Bytes after IEND are ignored.
    static func checkChunkLayout(_ bytes: [UInt8], source: String) throws {
        var offset = signature.count
        while true {
            guard offset + 8 <= bytes.count else {
                let place = offset == bytes.count ? "before the IEND chunk" : "inside the chunk header at byte \(offset)"
                throw ImagingError.truncated(source: source, detail: "file ends at byte \(bytes.count) \(place)")
            }
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)].map { (32...126).contains($0) ? $0 : UInt8(ascii: "?") },
                              as: UTF8.self)
            if length > Int(Int32.max) {
                throw ImagingError.corrupt(source: source, detail: "chunk '\(type)' at byte \(offset) declares \(length) bytes")
            }
            let end = offset + 12 + length
            if end > bytes.count {
                throw ImagingError.truncated(source: source,
                    detail: "chunk '\(type)' at byte \(offset) needs \(12 + length) bytes, file ends at byte \(bytes.count)")
            }
            if type == "IEND" { return }
            offset = end
        }
    }

    /// The NUL-terminated message libpng left in the fixed 64-byte field.
    private static func message(of png: inout png_image) -> String {
        withUnsafeBytes(of: &png.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "unknown libpng error" : String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Sorts libpng's messages into "truncated" (the data ran out) and "corrupt" (anything else).
    private static func readError(_ message: String, byteCount: Int, source: String) -> ImagingError {
        let ranOut = ["beyond end of data", "Not enough image data", "Read Error", "unexpected end"]
        if ranOut.contains(where: { message.contains($0) }) {
            return .truncated(source: source, detail: "data ends after \(byteCount) bytes: \(message)")
        }
        return .corrupt(source: source, detail: message)
    }
}
