import Foundation
import Testing
@testable import Imaging

@Suite struct ImageOpsTests {
    @Test func solidImagesStaySolid() {
        let solid = RGBImage(width: 37, height: 23, fill: (200, 17, 99))
        for (w, h) in [(10, 7), (64, 64), (74, 46), (111, 5), (1, 1), (300, 200), (37, 11)] {
            let out = ImageOps.resize(solid, width: w, height: h)
            #expect(out.width == w && out.height == h)
            #expect(out == RGBImage(width: w, height: h, fill: (200, 17, 99)), "\(w)x\(h)")
        }
    }

    @Test func halvingAveragesEach2x2BlockExactly() {
        let image = randomImage(width: 32, height: 18, seed: 21)
        let half = ImageOps.resize(image, width: 16, height: 9)
        for y in 0..<9 {
            for x in 0..<16 {
                for c in 0..<3 {
                    let sum = [(0, 0), (1, 0), (0, 1), (1, 1)].reduce(0) { acc, d in
                        acc + Int(image.pixels[((2 * y + d.1) * 32 + 2 * x + d.0) * 3 + c])
                    }
                    #expect(Int(half.pixels[(y * 16 + x) * 3 + c]) == (sum + 2) / 4)
                }
            }
        }
    }

    @Test func shrinkingByThreeAveragesWholeBlocks() {
        var image = RGBImage(width: 6, height: 3)
        for x in 0..<6 { for y in 0..<3 { image.setPixel(x: x, y: y, (x < 3 ? 30 : 90, 0, UInt8(x * 10))) } }
        let out = ImageOps.resize(image, width: 2, height: 1)
        #expect(out.pixels == [30, 0, 10, 90, 0, 40])
    }

    @Test func enlargingIsBilinearWithClampedEdges() {
        let image = RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 255, 255, 255])
        let out = ImageOps.resize(image, width: 4, height: 1)
        // Sample positions -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
        #expect(out.pixels.enumerated().filter { $0.offset % 3 == 0 }.map(\.element) == [0, 64, 191, 255])
    }

    @Test func resizeToSameSizeIsIdentityAndSizesAreClamped() {
        let image = randomImage(width: 9, height: 4, seed: 22)
        #expect(ImageOps.resize(image, width: 9, height: 4) == image)
        let tiny = ImageOps.resize(image, width: 0, height: -3)
        #expect(tiny.width == 1 && tiny.height == 1)
    }

    @Test func nearestUpscaleRepeatsPixels() {
        let image = randomImage(width: 5, height: 3, seed: 23)
        let big = ImageOps.nearestUpscale(image, factor: 4)
        #expect(big.width == 20 && big.height == 12)
        for y in 0..<12 { for x in 0..<20 { #expect(big.pixel(x: x, y: y) == image.pixel(x: x / 4, y: y / 4)) } }
        #expect(ImageOps.nearestUpscale(image, factor: 0) == image)
    }

    @Test func cropAndPaste() {
        let image = randomImage(width: 10, height: 8, seed: 24)
        let inner = ImageOps.crop(image, x: 2, y: 3, width: 4, height: 2)
        #expect(inner.width == 4 && inner.height == 2)
        #expect(inner.pixel(x: 0, y: 0) == image.pixel(x: 2, y: 3))
        #expect(inner.pixel(x: 3, y: 1) == image.pixel(x: 5, y: 4))

        // A window hanging over the top-left corner: uncovered parts take the fill colour.
        let over = ImageOps.crop(image, x: -2, y: -1, width: 4, height: 3, fill: (1, 2, 3))
        #expect(over.pixel(x: 0, y: 0) == (1, 2, 3))
        #expect(over.pixel(x: 1, y: 2) == (1, 2, 3))
        #expect(over.pixel(x: 2, y: 1) == image.pixel(x: 0, y: 0))
        let outside = ImageOps.crop(image, x: 50, y: 50, width: 2, height: 2, fill: (9, 9, 9))
        #expect(outside == RGBImage(width: 2, height: 2, fill: (9, 9, 9)))

        var canvas = RGBImage(width: 6, height: 6, fill: (0, 0, 0))
        let patch = RGBImage(width: 3, height: 3, fill: (255, 255, 255))
        ImageOps.paste(patch, into: &canvas, x: -1, y: 4)  // clipped on two sides
        let white = (0..<36).filter { canvas.pixel(x: $0 % 6, y: $0 / 6) == (255, 255, 255) }
        #expect(white == [24, 25, 30, 31])
        ImageOps.paste(patch, into: &canvas, x: 100, y: -100)  // entirely outside: no change
        #expect(canvas.pixels.filter { $0 == 255 }.count == 12)
    }

    @Test func psnr() {
        let a = randomImage(width: 8, height: 8, seed: 25)
        #expect(ImageOps.psnr(a, a) == .infinity)
        var b = a
        for i in b.pixels.indices { b.pixels[i] = b.pixels[i] < 255 ? b.pixels[i] + 1 : 254 }  // MSE = 1
        #expect(abs(ImageOps.psnr(a, b) - 10 * log10(255.0 * 255.0)) < 1e-9)
        #expect(ImageOps.psnr(a, RGBImage(width: 4, height: 4)).isNaN)
    }
}
