import Foundation
@testable import Imaging

/// Deterministic generator for test data (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
    var rng = SplitMix64(seed: seed)
    return RGBImage(width: width, height: height,
                    pixels: (0..<(width * height * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) })
}

/// Hand-assembled PNG files, independent of libpng's writer: chunks with CRC-32, image data in
/// zlib "stored" (uncompressed) blocks with an Adler-32 trailer, filter type 0 on every row.
enum PNGFixture {
    enum ColorType: UInt8 { case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6 }

    /// `rows` are the raw scanlines (without the filter byte) at the given bit depth.
    static func file(width: Int, height: Int, bitDepth: UInt8, colorType: ColorType, rows: [[UInt8]],
                     before: [(String, [UInt8])] = []) -> [UInt8] {
        var ihdr = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        ihdr += [bitDepth, colorType.rawValue, 0, 0, 0]
        var raw: [UInt8] = []
        for row in rows { raw.append(0); raw += row }
        var bytes = PNGCodec.signature + chunk("IHDR", ihdr)
        for (type, data) in before { bytes += chunk(type, data) }
        return bytes + chunk("IDAT", zlibStored(raw)) + chunk("IEND", [])
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 255), UInt8((v >> 8) & 255), UInt8(v & 255)] }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let last: UInt8 = offset + n == data.count ? 1 : 0
            out += [last, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8((~n >> 8) & 255)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + bigEndian(b << 16 | a)
    }
}

/// A fresh empty directory under the system temp dir, removed by `cleanup()`.
struct ScratchDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// The thrown error's description, or "no error".
func errorText(_ body: () throws -> Any) -> String {
    do { _ = try body(); return "no error" } catch { return String(describing: error) }
}
