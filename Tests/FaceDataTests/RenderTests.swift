import Imaging
import Testing
@testable import FaceData

@Suite struct RenderTests {
    @Test func sameSeedSameBytesDifferentSeedDifferentImage() throws {
        let a = DatasetItem(seed: 5, index: 3, testFraction: 0.05)
        let b = DatasetItem(seed: 5, index: 3, testFraction: 0.05)
        let c = DatasetItem(seed: 6, index: 3, testFraction: 0.05)
        let pa = try PNGCodec.encode(a.render(size: 64)), pb = try PNGCodec.encode(b.render(size: 64))
        #expect(pa == pb)
        #expect(a.render(size: 64) != c.render(size: 64))
        // Same attributes, another nuisance seed: another pose/light/background.
        #expect(FaceRenderer.render(a.attributes, nuisanceSeed: 1) != FaceRenderer.render(a.attributes, nuisanceSeed: 2))
    }

    @Test func sizesFrom16To256() {
        let face = DatasetItem(seed: 1, index: 0, testFraction: 0).attributes
        for size in [16, 32, 64, 100, 128, 256] {
            let image = FaceRenderer.render(face, nuisanceSeed: 9, size: size)
            #expect(image.width == size && image.height == size)
        }
        #expect(FaceRenderer.render(face, nuisanceSeed: 9, size: 4096).width == 256)   // clamped
    }

    @Test func imagesAreShadedNotFlat() {
        // The face region holds many distinct colours (shading, features), not a few flat fills.
        let item = DatasetItem(seed: 2, index: 1, testFraction: 0)
        let image = item.render(size: 64)
        let box = FaceLayout(item.attributes, nuisanceSeed: item.nuisanceSeed).pixelBox(.face, size: 64)
        var colours = Set<Int>()
        for y in box.y0...box.y1 {
            for x in box.x0...box.x1 {
                let (r, g, b) = image.pixel(x: x, y: y)
                colours.insert(Int(r) << 16 | Int(g) << 8 | Int(b))
            }
        }
        #expect(colours.count > 300, "\(colours.count) colours")
    }

    /// Pixels in `box` whose largest channel difference is at least `threshold`, and in total.
    func changed(_ a: RGBImage, _ b: RGBImage, in box: (x0: Int, y0: Int, x1: Int, y1: Int), threshold: Int = 16)
        -> (inside: Int, total: Int) {
        var inside = 0, total = 0
        for y in 0..<a.height {
            for x in 0..<a.width {
                let p = a.pixel(x: x, y: y), q = b.pixel(x: x, y: y)
                let d = max(abs(Int(p.0) - Int(q.0)), abs(Int(p.1) - Int(q.1)), abs(Int(p.2) - Int(q.2)))
                guard d >= threshold else { continue }
                total += 1
                if (box.x0...box.x1).contains(x) && (box.y0...box.y1).contains(y) { inside += 1 }
            }
        }
        return (inside, total)
    }

    @Test(arguments: FaceAttribute.all)
    func everyAttributeVisiblyChangesItsRegion(_ attr: FaceAttribute) {
        for seed in UInt64(100)..<104 {
            let (off, on, nuisance) = AttributePair.make(attr, seed: seed)
            #expect(off.violations().isEmpty && on.violations().isEmpty)
            #expect(!off.has(attr) && on.has(attr), "\(attr.name) seed \(seed)")
            let a = FaceRenderer.render(off, nuisanceSeed: nuisance), b = FaceRenderer.render(on, nuisanceSeed: nuisance)
            let box = FaceLayout(on, nuisanceSeed: nuisance).pixelBox(attr.region, size: 64)
            let (inside, total) = changed(a, b, in: box)
            // Clearly visible: a good number of pixels change markedly where the attribute lives.
            #expect(inside >= 8, "\(attr.name) seed \(seed): \(inside) changed pixels in \(attr.region)")
            // Local attributes change mostly their own region.
            if attr.region != .whole && attr.region != .hairTop && attr.region != .face {
                #expect(Double(inside) >= 0.25 * Double(total), "\(attr.name) seed \(seed): \(inside) of \(total) inside")
            }
        }
    }
}
