import Testing
@testable import Tensor
import TestSupport

/// A finite-difference gradient check for every differentiable op.
@Suite struct OpGradientTests {
    let check = GradCheck()

    @Test func matmulAllLayouts() {
        for transposeW in [false, true] {
            let a = rand([2, 3, 5], seed: 1)
            let w = rand(transposeW ? [4, 5] : [5, 4], seed: 2)
            check.run([a, w]) { $0[0].matmul($0[1], transposeW: transposeW) }
        }
        // One-row input takes the gemv path.
        check.run([rand([1, 6], seed: 3), rand([7, 6], seed: 4)]) { $0[0].matmul($0[1], transposeW: true) }
        check.run([rand([1, 6], seed: 3), rand([6, 7], seed: 4)]) { $0[0].matmul($0[1]) }
    }

    @Test func batchedMatmulAllTranspositions() {
        for ta in [false, true] {
            for tb in [false, true] {
                let a = rand(ta ? [3, 4, 2] : [3, 2, 4], seed: 5)
                let b = rand(tb ? [3, 5, 4] : [3, 4, 5], seed: 6)
                check.run([a, b]) { $0[0].bmm($0[1], transposeA: ta, transposeB: tb) }
            }
        }
    }

    @Test func linearWithBias() {
        check.run([rand([4, 6], seed: 7), rand([3, 6], seed: 8), rand([3], seed: 9)]) { $0[0].linear($0[1], $0[2]) }
    }

    @Test func broadcastingBinaryOps() {
        let shapes: [([Int], [Int])] = [([2, 3], [2, 3]), ([2, 3], [3]), ([4, 1, 3], [2, 1]), ([1], [2, 2]), ([2, 3, 4], [2, 1, 4])]
        for (sa, sb) in shapes {
            check.run([rand(sa, seed: 10), rand(sb, seed: 11)]) { $0[0] + $0[1] }
            check.run([rand(sa, seed: 12), rand(sb, seed: 13)]) { $0[0] - $0[1] }
            check.run([rand(sa, seed: 14), rand(sb, seed: 15)]) { $0[0] * $0[1] }
            // Keep divisors away from zero.
            check.run([rand(sa, seed: 16), rand(sb, seed: 17).abs() + 0.5]) { $0[0] / $0[1] }
        }
    }

    @Test func scalarAndPointwiseOps() {
        let x = rand([3, 5], seed: 18)
        check.run([x]) { $0[0] * 2.5 - 1 }
        check.run([x]) { $0[0].exp() }
        check.run([x]) { $0[0].square() }
        check.run([x]) { $0[0].sigmoid() }
        check.run([x]) { $0[0].tanh() }
        check.run([x]) { $0[0].gelu() }
        check.run([x]) { $0[0].silu() }
        check.run([rand([3, 8], seed: 19)]) { $0[0].swiglu() }
        let positive = rand([3, 5], seed: 20).abs() + 0.5
        check.run([positive]) { $0[0].log() }
        check.run([positive]) { $0[0].sqrt() }
        // Kinked ops: inputs kept at least 0.1 away from the kinks (eps is 0.01).
        let away = Tensor(shape: [6], values: [-1.3, -0.4, -0.2, 0.3, 0.8, 1.7])
        check.run([away]) { $0[0].relu() }
        check.run([away]) { $0[0].leakyRelu(0.2) }
        check.run([away]) { $0[0].abs() }
        check.run([away]) { $0[0].clamp(-0.5, 1.0) }
    }

    @Test func dropoutWithFixedMask() {
        // The same seed gives the same mask on every evaluation, so the op is differentiable.
        check.run([rand([4, 8], seed: 21)]) { inputs in
            var rng = RNG(seed: 5)
            return inputs[0].dropout(0.3, rng: &rng)
        }
    }

    @Test func reductions() {
        let x = rand([2, 3, 4], seed: 22)
        check.run([x]) { $0[0].sum() }
        check.run([x]) { $0[0].sum(axes: [1]) }
        check.run([x]) { $0[0].sum(axes: [0, 2], keepDims: true) }
        check.run([x]) { $0[0].mean(axes: [-1]) }
        check.run([x]) { $0[0].mean() }
    }

    @Test func shapeOps() {
        let x = rand([2, 3, 4], seed: 23)
        check.run([x]) { $0[0].reshape([6, 4]) }
        check.run([x]) { $0[0].transpose(0, 2) }
        check.run([x]) { $0[0].permute([1, 2, 0]) }
        check.run([x]) { $0[0].slice(axis: 1, 1..<3) }
        check.run([x, rand([2, 2, 4], seed: 24)]) { Tensor.concat([$0[0], $0[1]], axis: 1) }
        check.run([x, rand([2, 3, 1], seed: 25)]) { Tensor.concat([$0[0], $0[1]], axis: -1) }
    }

    @Test func gathersAndScatters() {
        let table = rand([5, 3], seed: 26)
        check.run([table]) { $0[0].embedding([4, 0, 4, 2]) }
        check.run([rand([6, 2], seed: 27)]) { $0[0].indexSelect(rows: [5, 1, 1]) }
        check.run([rand([4, 3], seed: 28), rand([3, 3], seed: 29)]) { $0[0].indexAdd(rows: [3, 0, 3], $0[1]) }
        check.run([rand([4, 3], seed: 28), rand([2, 3], seed: 29), rand([1, 3], seed: 30)]) {
            $0[0].indexAdd([(rows: [3, 0], src: $0[1]), (rows: [0], src: $0[2])])
        }
        check.run([rand([3, 5], seed: 31)]) { $0[0].gatherColumns([4, 0, 2]) }
        // Top-k: distinct values so the choice is stable under ±eps.
        let scores = Tensor(shape: [2, 4], values: [0.1, 0.9, -0.5, 0.4, 1.2, -0.3, 0.6, 0.0])
        check.run([scores]) { $0[0].topK(2).values }
    }

    @Test func softmaxFamily() {
        let x = rand([3, 7], seed: 30)
        check.run([x]) { $0[0].softmax() }
        check.run([x]) { $0[0].logSoftmax() }
        check.run([x]) { $0[0].crossEntropy(targets: [2, -100, 6]) }
        check.run([x]) { $0[0].crossEntropy(targets: [1, 3, 0], weights: [0.5, 2, 1], reduction: .sum) }
    }

    @Test func norms() {
        let x = rand([4, 6], seed: 31)
        check.run([x, rand([6], seed: 32), rand([6], seed: 33)]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
        check.run([x, rand([6], seed: 34)]) { $0[0].rmsNorm(weight: $0[1]) }
        // A row of 13: one full eight-lane block and a partial one.
        let wide = rand([3, 13], seed: 38)
        check.run([wide, rand([13], seed: 39), rand([13], seed: 40)]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) }
        check.run([wide, rand([13], seed: 41)]) { $0[0].rmsNorm(weight: $0[1]) }
        check.run([rand([2, 4, 3, 3], seed: 35), rand([4], seed: 36), rand([4], seed: 37)]) {
            $0[0].groupNorm(groups: 2, weight: $0[1], bias: $0[2])
        }
    }

    @Test func attentionWithMaskAndRope() {
        let (B, T, H, Dh) = (2, 5, 2, 4)
        var maskValues = [Float](repeating: 0, count: T * T)
        for t in 0..<T { for s in (t + 1)..<T { maskValues[t * T + s] = -.infinity } }
        let causal = Tensor(shape: [T, T], values: maskValues)
        let q = rand([B, T, H * Dh], seed: 38), k = rand([B, T, H * Dh], seed: 39), v = rand([B, T, H * Dh], seed: 40)
        check.run([q, k, v]) { $0[0].attention(k: $0[1], v: $0[2], heads: H, mask: causal) }
        check.run([q, k, v]) { $0[0].attention(k: $0[1], v: $0[2], heads: H, mask: nil) }
        // Cross attention with a different key length and a per-batch mask.
        let kx = rand([B, 3, H * Dh], seed: 41), vx = rand([B, 3, H * Dh], seed: 42)
        let m = Tensor(shape: [B, T, 3], values: (0..<(B * T * 3)).map { $0 % 4 == 1 ? -.infinity : 0 })
        check.run([q, kx, vx]) { $0[0].attention(k: $0[1], v: $0[2], heads: H, mask: m) }
        check.run([q]) { $0[0].rope(positions: Array(0..<T), heads: H) }
        check.run([q]) { $0[0].rope(positions: Array(3..<(3 + B * T)), heads: H, rotaryDims: 2) }
    }

    @Test func convolutionAndUpsampling() {
        for (stride, pad) in [(1, 1), (2, 1), (1, 0)] {
            check.run([rand([2, 3, 5, 5], seed: 43), rand([4, 3, 3, 3], seed: 44), rand([4], seed: 45)]) {
                $0[0].conv2d(weight: $0[1], bias: $0[2], stride: stride, padding: pad)
            }
        }
        check.run([rand([1, 2, 3, 3], seed: 46)]) { $0[0].upsampleNearest(2) }
    }
}
