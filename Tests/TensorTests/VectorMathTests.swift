import Foundation
import Testing
@testable import Tensor

/// The eight-lane exp and GELU against libm, and softmax rows against a plain reference.
@Suite struct VectorMathTests {
    @Test func exp8AgreesWithLibmAndFlushesTheMaskedToZero() {
        var worst: Float = 0
        var x: Float = -80
        while x <= 80 {
            let lanes = exp8(SIMD8((0..<8).map { x + Float($0) * 0.0013 }))
            for i in 0..<8 {
                let exact = expf(x + Float(i) * 0.0013)
                worst = max(worst, abs(lanes[i] - exact) / exact)
            }
            x += 0.01
        }
        #expect(worst < 5e-7, "largest relative difference \(worst)")
        let edges = exp8(SIMD8(-.infinity, -100, -87.5, 0, 1, 88, 100, .infinity))
        #expect(edges[0] == 0 && edges[1] == 0 && edges[2] == 0 && edges[3] == 1 && abs(edges[4] - expf(1)) < 1e-6)
        #expect(edges[5].isFinite && edges[6].isFinite && edges[7].isFinite)
    }

    /// The vector GELU (x·σ(2u)) against the textbook tanh form through libm, over the range
    /// where it bends and out to where it must be exactly x or 0.
    @Test func geluAgreesWithTheTanhFormThroughLibm() {
        let xs = stride(from: Float(-12), through: 12, by: 0.0007).map { $0 } + [-50, -1e4, 50, 1e4, 0]
        let y = Tensor(shape: [xs.count], values: xs).gelu().values
        var worst: Float = 0
        for (x, got) in zip(xs, y) {
            let want = 0.5 * x * (1 + tanhf(0.797_884_56 * (x + 0.044715 * x * x * x)))
            worst = max(worst, abs(got - want) / max(1, abs(x)))
        }
        #expect(worst < 2e-6, "largest difference \(worst)")
        #expect(abs(y[xs.count - 5]) < 1e-30 && abs(y[xs.count - 4]) < 1e-30 && y[xs.count - 3] == 50 && y[xs.count - 2] == 1e4 && y.last == 0)
    }

    /// Every row length around the lane width, with and without a mask, fully masked rows.
    @Test func softmaxRowsMatchTheScalarReference() {
        var rng = RNG(seed: 3)
        for n in [1, 3, 7, 8, 9, 15, 16, 17, 100] {
            let x = (0..<n).map { _ in rng.normal() * 4 }
            let mask: [Float] = (0..<n).map { $0 % 3 == 1 ? -.infinity : 0 }
            for masked in [false, true] {
                var row = x
                mask.withUnsafeBufferPointer { m in
                    row.withUnsafeMutableBufferPointer { softmaxRow($0.baseAddress!, n, adding: masked ? m.baseAddress! : nil) }
                }
                let logits = zip(x, mask).map { masked ? $0 + $1 : $0 }
                let top = logits.max()!
                let e = logits.map { expf($0 - top) }
                let total = e.reduce(0, +)
                for j in 0..<n { #expect(abs(row[j] - e[j] / total) < 1e-6, "n \(n) j \(j)") }
                if masked { for j in 0..<n where mask[j] != 0 { #expect(row[j] == 0) } }
                let lse = x.withUnsafeBufferPointer { logSumExpRow($0.baseAddress!, n) }
                let top0 = x.max()!
                #expect(abs(lse - (top0 + logf(x.map { expf($0 - top0) }.reduce(0, +)))) < 1e-5)
            }
        }
        var blocked = [Float](repeating: -.infinity, count: 11)
        blocked.withUnsafeMutableBufferPointer { softmaxRow($0.baseAddress!, 11) }
        #expect(blocked == [Float](repeating: 0, count: 11))
    }
}
