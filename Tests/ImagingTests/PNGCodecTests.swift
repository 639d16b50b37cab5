import Foundation
import Testing
@testable import Imaging

@Suite struct PNGCodecTests {
    @Test func roundTripIsExact() throws {
        for (w, h, seed) in [(1, 1, 1), (64, 64, 2), (37, 5, 3), (3, 300, 4)] as [(Int, Int, UInt64)] {
            let image = randomImage(width: w, height: h, seed: seed)
            let bytes = try PNGCodec.encode(image)
            #expect(Array(bytes.prefix(8)) == PNGCodec.signature)
            #expect(try PNGCodec.decode(bytes) == image)
        }
    }

    @Test func decodesGray8() throws {
        let png = PNGFixture.file(width: 2, height: 2, bitDepth: 8, colorType: .gray, rows: [[0, 128], [200, 255]])
        let image = try PNGCodec.decode(png)
        #expect(image.width == 2 && image.height == 2)
        #expect(image.pixels == [0, 0, 0, 128, 128, 128, 200, 200, 200, 255, 255, 255])
    }

    @Test func decodesGray1BitAndGray16Bit() throws {
        // 1-bit: 0b10100000 -> white, black, white for a 3-pixel row.
        let bits = try PNGCodec.decode(PNGFixture.file(width: 3, height: 1, bitDepth: 1, colorType: .gray, rows: [[0b1010_0000]]))
        #expect(bits.pixels == [255, 255, 255, 0, 0, 0, 255, 255, 255])
        // 16-bit without gAMA is read as sRGB-encoded like 8-bit: 0x8080 -> 0x80, 0xFFFF -> 0xFF.
        let deep = try PNGCodec.decode(PNGFixture.file(width: 2, height: 1, bitDepth: 16, colorType: .gray, rows: [[0x80, 0x80, 0xFF, 0xFF]]))
        #expect(deep.pixels == [128, 128, 128, 255, 255, 255])
    }

    @Test func decodesRGB16() throws {
        let png = PNGFixture.file(width: 1, height: 1, bitDepth: 16, colorType: .rgb, rows: [[0xFF, 0xFF, 0x00, 0x00, 0x33, 0x33]])
        #expect(try PNGCodec.decode(png).pixels == [255, 0, 51])
    }

    @Test func alphaIsCompositedOverBlack() throws {
        let rgba = PNGFixture.file(width: 3, height: 1, bitDepth: 8, colorType: .rgba,
                                   rows: [[10, 200, 30, 255, 10, 200, 30, 0, 10, 200, 30, 128]])
        let image = try PNGCodec.decode(rgba)
        #expect(image.pixel(x: 0, y: 0) == (10, 200, 30))  // opaque: unchanged
        #expect(image.pixel(x: 1, y: 0) == (0, 0, 0))      // transparent: the black background
        let half = image.pixel(x: 2, y: 0)                 // half: between the two
        #expect(half.1 > 0 && half.1 < 200)

        let grayAlpha = PNGFixture.file(width: 2, height: 1, bitDepth: 8, colorType: .grayAlpha, rows: [[90, 255, 90, 0]])
        #expect(try PNGCodec.decode(grayAlpha).pixels == [90, 90, 90, 0, 0, 0])
    }

    @Test func decodesPaletteWithTransparency() throws {
        let plte: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 17, 34, 51]
        let trns: [UInt8] = [255, 0]  // entry 1 fully transparent, the rest opaque
        // 2-bit indices 0,1,2,3 packed in one byte.
        let png = PNGFixture.file(width: 4, height: 1, bitDepth: 2, colorType: .palette, rows: [[0b00_01_10_11]],
                                  before: [("PLTE", plte), ("tRNS", trns)])
        let image = try PNGCodec.decode(png)
        #expect(image.pixels == [255, 0, 0, 0, 0, 0, 0, 0, 255, 17, 34, 51])
    }

    @Test func emptyInput() {
        #expect(errorText { try PNGCodec.decode([], source: "x.png") } == "x.png: empty input (0 bytes)")
    }

    @Test func badSignature() {
        #expect(errorText { try PNGCodec.decode(Array("GIF89a and more".utf8), source: "photo.png") }
            == "photo.png: not a PNG file (bad signature)")
        #expect(errorText { try PNGCodec.decode([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x00, 0, 0], source: "photo.png") }
            == "photo.png: not a PNG file (bad signature)")
    }

    @Test func truncatedAtManyLengths() throws {
        let bytes = try PNGCodec.encode(randomImage(width: 20, height: 20, seed: 7))
        let lengths = [1, 5, 8, 9, 16, 20, 32, 33, 40, bytes.count / 2, bytes.count - 12, bytes.count - 5, bytes.count - 1]
        for n in lengths {
            let text = errorText { try PNGCodec.decode(Array(bytes.prefix(n)), source: "x.png") }
            #expect(text.hasPrefix("x.png: truncated PNG data ("), "cut at \(n): \(text)")
            #expect(!text.contains("\n"))
        }
        let cutInIHDR = errorText { try PNGCodec.decode(Array(bytes.prefix(20)), source: "x.png") }
        #expect(cutInIHDR == "x.png: truncated PNG data (chunk 'IHDR' at byte 8 needs 25 bytes, file ends at byte 20)")
    }

    @Test func trailingBytesAfterIENDAreIgnored() throws {
        let image = randomImage(width: 4, height: 4, seed: 8)
        #expect(try PNGCodec.decode(PNGCodec.encode(image) + [1, 2, 3]) == image)
    }

    @Test func hugeDeclaredSizeIsRefusedBeforeAllocating() {
        // A complete, CRC-correct file whose header claims 100000 x 100000 pixels.
        let huge = PNGFixture.file(width: 100_000, height: 100_000, bitDepth: 8, colorType: .gray, rows: [[0]])
        #expect(errorText { try PNGCodec.decode(huge, source: "big.png") }
            == "big.png: image too large (100000x100000; limit 16384 per side)")
        // Within the side limit but over the pixel budget.
        let wide = PNGFixture.file(width: 16000, height: 16000, bitDepth: 8, colorType: .gray, rows: [[0]])
        #expect(errorText { try PNGCodec.decode(wide, source: "big.png") }
            == "big.png: image too large (16000x16000; limit 67108864 pixels)")
    }

    @Test func corruptChunksGiveInvalidData() throws {
        var bytes = try PNGCodec.encode(randomImage(width: 8, height: 8, seed: 9))
        bytes[29] ^= 0xFF  // inside the IHDR CRC
        let text = errorText { try PNGCodec.decode(bytes, source: "x.png") }
        #expect(text.hasPrefix("x.png: invalid PNG data ("), "\(text)")
        #expect(text.contains("CRC"), "\(text)")
    }

    @Test func randomDamageNeverCrashes() throws {
        let original = try PNGCodec.encode(randomImage(width: 16, height: 16, seed: 10))
        var rng = SplitMix64(seed: 11)
        var failures = 0
        for _ in 0..<300 {
            var damaged = original
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                damaged[Int.random(in: 8..<damaged.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            do { _ = try PNGCodec.decode(damaged) } catch { failures += 1 }
        }
        #expect(failures > 0)  // the damage was noticed at least sometimes; no crash is the point
        // Signature followed by noise.
        for seed in 0..<50 as Range<UInt64> {
            var noise = SplitMix64(seed: 100 + seed)
            let bytes = PNGCodec.signature + (0..<Int.random(in: 0...200, using: &noise)).map { _ in UInt8.random(in: 0...255, using: &noise) }
            #expect(throws: ImagingError.self) { try PNGCodec.decode(bytes) }
        }
    }

    @Test func fileErrorsNameThePath() throws {
        #expect(errorText { try PNGCodec.read(path: "/nonexistent-dir/x.png") }
            == "/nonexistent-dir/x.png: cannot open: No such file or directory")
        // File access goes through Support's AtomicFile: its errors are FileError.
        #expect(throws: FileError.cannotOpen(path: "/nonexistent-dir/x.png", reason: "No such file or directory")) {
            try PNGCodec.read(path: "/nonexistent-dir/x.png")
        }
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        #expect(errorText { try PNGCodec.read(path: dir.path) } == "\(dir.path): cannot open: Is a directory")
        let notPNG = dir.path + "/notes.png"
        try AtomicFile.write(Array("hello".utf8), to: notPNG)
        #expect(errorText { try PNGCodec.read(path: notPNG) } == "\(notPNG): not a PNG file (bad signature)")
        #expect(errorText { try PNGCodec.write(RGBImage(width: 1, height: 1), to: "/nonexistent-dir/y.png") }
            .hasPrefix("/nonexistent-dir/y.png: cannot write: No such file or directory"))
    }

    @Test func encodeFailuresAreReportedNotWritten() throws {
        // Wider than libpng's 1,000,000-pixel row limit: libpng refuses the header.
        let wide = RGBImage(width: 1_000_001, height: 1)
        let text = errorText { try PNGCodec.encode(wide) }
        #expect(text.hasPrefix("<memory>: cannot encode PNG (libpng: "), "\(text)")
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        #expect(throws: ImagingError.self) { try PNGCodec.write(wide, to: dir.path + "/wide.png") }
        #expect(try dir.contents().isEmpty)
    }

    @Test func atomicWriteLeavesOnlyTheTarget() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        let path = dir.path + "/face.png"
        let first = randomImage(width: 10, height: 12, seed: 12)
        let second = randomImage(width: 7, height: 3, seed: 13)
        try PNGCodec.write(first, to: path)
        #expect(try PNGCodec.read(path: path) == first)
        try PNGCodec.write(second, to: path)  // replaces the file in one step
        #expect(try PNGCodec.read(path: path) == second)
        #expect(try dir.contents() == ["face.png"])
    }

    @Test func failedAtomicWriteRemovesItsTemporaryFile() throws {
        let dir = try ScratchDirectory(); defer { dir.cleanup() }
        // Renaming a file over a non-empty directory fails after the temp file was written.
        let target = dir.path + "/occupied"
        try FileManager.default.createDirectory(atPath: target + "/inside", withIntermediateDirectories: true)
        let text = errorText { try PNGCodec.write(RGBImage(width: 2, height: 2), to: target) }
        #expect(text.hasPrefix("\(target): cannot write: "), "\(text)")
        #expect(try dir.contents() == ["occupied"])
    }
}
