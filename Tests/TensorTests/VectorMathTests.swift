import Foundation
import Testing
@testable import Tensor

/// The eight-lane exp and tanh against libm, and softmax rows against a plain reference.
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

    @Test func tanh8AgreesWithLibmEverywhere() {
        var worst: Float = 0
        var x: Float = -12
        while x <= 12 {
            let lanes = tanh8(SIMD8((0..<8).map { x + Float($0) * 0.0001 }))
            for i in 0..<8 { worst = max(worst, abs(lanes[i] - tanhf(x + Float(i) * 0.0001))) }
            x += 0.001
        }
        #expect(worst < 1e-6, "largest difference \(worst)")
        #expect(tanh8(SIMD8(repeating: 0))[0] == 0 && tanh8(SIMD8(repeating: 50))[0] == 1 && tanh8(SIMD8(repeating: -50))[0] == -1)
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
