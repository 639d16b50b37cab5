import Foundation
import Testing
@testable import Tensor
import TestSupport

/// Fast kernels against naive references, and forward values against hand-computed ones.
@Suite struct OpReferenceTests {
    // The last three are big enough to be split over the workers: by rows, by columns, and a
    // one-row gemv by columns.
    @Test(arguments: [(1, 7, 5), (3, 4, 6), (65, 33, 17), (128, 96, 80), (300, 70, 64), (40, 400, 64), (1, 2048, 192)])
    func gemmMatchesNaive(M: Int, N: Int, K: Int) {
        for ta in [false, true] {
            for tb in [false, true] {
                let a = rand(ta ? [K, M] : [M, K], seed: 1), b = rand(tb ? [N, K] : [K, N], seed: 2)
                let fast = Tensor(filled: 0.5, shape: [M, N]), slow = Tensor(filled: 0.5, shape: [M, N])
                gemm(fast.data, a.data, b.data, M: M, N: N, K: K, transA: ta, transB: tb, alpha: 0.7, beta: 0.3)
                gemmNaive(slow.data, a.data, b.data, M: M, N: N, K: K, transA: ta, transB: tb, alpha: 0.7, beta: 0.3)
                #expect(maxDiff(fast, slow) < 1e-4 * Float(K), "M \(M) N \(N) K \(K) ta \(ta) tb \(tb)")
            }
        }
    }

    /// Split products address blocks of strided operands (a head inside [T, H·Dh] rows).
    @Test func splitGemmHonoursLeadingDimensions() {
        let M = 200, N = 96, K = 48, lda = 210, ldb = 112, ldc = 130
        for (ta, tb) in [(false, false), (true, true), (false, true)] {
            let a = rand([ta ? K : M, lda], seed: 3), b = rand([tb ? N : K, ldb], seed: 4)
            let fast = Tensor(filled: 0.5, shape: [M, ldc])
            gemm(fast.data, a.data, b.data, M: M, N: N, K: K, transA: ta, transB: tb, alpha: 1, beta: 0.5, lda: lda, ldb: ldb, ldc: ldc)
            for i in 0..<M {
                for j in 0..<N {
                    var acc: Float = 0
                    for k in 0..<K { acc += (ta ? a.data[k * lda + i] : a.data[i * lda + k]) * (tb ? b.data[j * ldb + k] : b.data[k * ldb + j]) }
                    #expect(abs(fast.data[i * ldc + j] - (acc + 0.25)) < 1e-3, "ta \(ta) tb \(tb) at \(i),\(j)")
                }
                for j in N..<ldc { #expect(fast.data[i * ldc + j] == 0.5, "column \(j) beyond N was written") }
            }
        }
    }

    /// A region started inside another runs inline on its thread (no oversubscription).
    @Test func nestedRegionsRunInline() {
        let inner = UnsafeMutableBufferPointer<Int>.allocate(capacity: 8)
        defer { inner.deallocate() }
        inner.initialize(repeating: -1)
        Threading.parallelFor(8) { i in
            var parts = 0
            Threading.parallelChunks(100) { _, _ in parts += 1 }  // not thread-safe if it were split
            inner[i] = parts
            #expect(Threading.insideRegion || Threading.workers == 1)
        }
        #expect(Array(inner) == [Int](repeating: 1, count: 8))
        #expect(!Threading.insideRegion)
    }

    /// Regions started at once from several threads (tests, the studio's UI and engine) each
    /// run every part exactly once: one gets the helpers, the others run theirs inline.
    @Test func concurrentRegionsFromSeveralThreadsEachCompleteOnce() {
        let callers = 4, count = 5000, rounds = 50
        let hits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: callers * count)
        defer { hits.deallocate() }
        hits.initialize(repeating: 0)
        DispatchQueue.concurrentPerform(iterations: callers) { c in
            for _ in 0..<rounds {
                Threading.parallelChunks(count, minChunk: 64) { lo, hi in
                    for i in lo..<hi { hits[c * count + i] += 1 }
                }
            }
        }
        #expect(hits.allSatisfy { $0 == Int32(rounds) })
    }

    /// Layers built for loading skip the random draws; outside the scope they are random again.
    @Test func skippedWeightInitGivesZerosOnlyInsideItsScope() {
        var rng = RNG(seed: 5)
        let skipped = WeightInit.skipped { Linear(8, 4, rng: &rng) }
        #expect(skipped.weight.values.allSatisfy { $0 == 0 })
        #expect(rng == RNG(seed: 5))
        let drawn = Linear(8, 4, rng: &rng)
        #expect(drawn.weight.values.contains { $0 != 0 })
        #expect(!WeightInit.isSkipped)
    }

    @Test func broadcastValues() {
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3], values: [10, 20, 30])
        #expect((a + b).values == [11, 22, 33, 14, 25, 36])
        let c = Tensor(shape: [2, 1], values: [2, 3])
        #expect((a * c).values == [2, 4, 6, 12, 15, 18])
        #expect(a.sum(axes: [0]).values == [5, 7, 9])
        #expect(a.sum(axes: [1], keepDims: true).shape == [2, 1])
        #expect(a.mean().item == 3.5)
        #expect(a.transpose(0, 1).values == [1, 4, 2, 5, 3, 6])
        #expect(a.slice(axis: 1, 1..<3).values == [2, 3, 5, 6])
        #expect(Tensor.concat([a, b.reshape([1, 3])], axis: 0).values == [1, 2, 3, 4, 5, 6, 10, 20, 30])
    }

    @Test func crossEntropyMatchesDefinition() {
        let logits = rand([4, 9], seed: 3)
        let targets = [3, -100, 0, 8]
        let ce = logits.crossEntropy(targets: targets).item
        let ls = logits.logSoftmax()
        var expected: Float = 0
        for (r, t) in targets.enumerated() where t != -100 { expected -= ls.data[r * 9 + t] }
        expected /= 3
        #expect(Swift.abs(ce - expected) < 1e-5)
    }

    @Test func softmaxRowsSumToOneAndMaskedRowsAreZero() {
        let x = Tensor(shape: [2, 3], values: [1, 2, 3, -.infinity, -.infinity, -.infinity])
        let y = x.softmax()
        #expect(Swift.abs(y.data[0] + y.data[1] + y.data[2] - 1) < 1e-6)
        #expect(y.values[3...].allSatisfy { $0 == 0 })
    }

    /// Fused attention equals attention built from permute + bmm + softmax: the training path
    /// (probabilities kept for backward) and the inference path (unnormalised rows, output
    /// scaled), with a shared or per-sequence mask holding unmasked, partly and fully masked rows.
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func attentionMatchesComposedReference(keepsProbabilities: Bool, perSequenceMask: Bool) {
        let (B, T, S, H, Dh) = (2, 6, 4, 3, 5)
        let q = rand([B, T, H * Dh], seed: 4), k = rand([B, S, H * Dh], seed: 5), v = rand([B, S, H * Dh], seed: 6)
        q.requiresGrad = keepsProbabilities
        let mask = perSequenceMask
            ? Tensor(shape: [B, T, S], values: (0..<(B * T * S)).map { ($0 % 7 == 2 || ($0 >= 36 && $0 < 40)) ? -.infinity : 0 })
            : Tensor(shape: [T, S], values: (0..<(T * S)).map { ($0 % 5 == 3) ? -.infinity : 0 })
        let fused = q.attention(k: k, v: v, heads: H, mask: mask)
        func heads(_ x: Tensor, _ L: Int) -> Tensor { x.reshape([B, L, H, Dh]).permute([0, 2, 1, 3]).reshape([B * H, L, Dh]) }
        let scores = heads(q, T).bmm(heads(k, S), transposeB: true) * (1 / Float(Dh).squareRoot())
        let headMask = perSequenceMask ? mask.reshape([B, 1, T, S]) : mask
        let probs = (scores.reshape([B, H, T, S]) + headMask).softmax().reshape([B * H, T, S])
        let ref = probs.bmm(heads(v, S)).reshape([B, H, T, Dh]).permute([0, 2, 1, 3]).reshape([B, T, H * Dh])
        // A fully masked row attends to nothing: zeros (the composed softmax gives NaN there).
        let refValues = ref.values.map { $0.isNaN ? 0 : $0 }
        #expect(zip(fused.values, refValues).allSatisfy { Swift.abs($0 - $1) < 1e-5 })
    }

    /// RoPE preserves each pair's norm and makes q·k depend only on the position difference.
    @Test func ropeIsRelative() {
        let H = 1, D = 8
        let q = rand([1, 1, D], seed: 7), k = rand([1, 1, D], seed: 8)
        func dot(_ pq: Int, _ pk: Int) -> Float {
            let a = q.rope(positions: [pq], heads: H), b = k.rope(positions: [pk], heads: H)
            return (0..<D).map { a.data[$0] * b.data[$0] }.reduce(0, +)
        }
        #expect(Swift.abs(dot(3, 1) - dot(10, 8)) < 1e-4)
        let r = q.rope(positions: [5], heads: H)
        #expect(Swift.abs(r.square().sum().item - q.square().sum().item) < 1e-4)
    }

    @Test func conv2dMatchesDirectConvolution() {
        let (B, C, H, W, O, k) = (2, 3, 7, 6, 4, 3)
        for (stride, pad) in [(1, 1), (2, 0), (2, 1)] {
            let x = rand([B, C, H, W], seed: 9), w = rand([O, C, k, k], seed: 10), bias = rand([O], seed: 11)
            let y = x.conv2d(weight: w, bias: bias, stride: stride, padding: pad)
            let Ho = (H + 2 * pad - k) / stride + 1, Wo = (W + 2 * pad - k) / stride + 1
            #expect(y.shape == [B, O, Ho, Wo])
            var worst: Float = 0
            for b in 0..<B { for o in 0..<O { for oy in 0..<Ho { for ox in 0..<Wo {
                var acc = bias.data[o]
                for c in 0..<C { for ky in 0..<k { for kx in 0..<k {
                    let iy = oy * stride - pad + ky, ix = ox * stride - pad + kx
                    if iy >= 0 && iy < H && ix >= 0 && ix < W {
                        acc += x.data[((b * C + c) * H + iy) * W + ix] * w.data[((o * C + c) * k + ky) * k + kx]
                    }
                } } }
                worst = max(worst, Swift.abs(acc - y.data[((b * O + o) * Ho + oy) * Wo + ox]))
            } } } }
            #expect(worst < 1e-4)
        }
    }

    @Test func topKPicksLargestInOrder() {
        let x = Tensor(shape: [2, 5], values: [0.1, 0.7, 0.3, 0.7, -1, 5, 4, 3, 2, 1])
        let (v, i) = x.topK(2)
        #expect(i == [1, 3, 0, 1])
        #expect(v.values == [0.7, 0.7, 5, 4])
    }

    @Test func layerNormNormalises() {
        let x = rand([3, 16], seed: 12, scale: 4) + 2
        let y = x.layerNorm(weight: Tensor(filled: 1, shape: [16]), bias: nil)
        for r in 0..<3 {
            let row = Array(y.values[(r * 16)..<(r * 16 + 16)])
            let m = row.reduce(0, +) / 16
            let v = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 16
            #expect(Swift.abs(m) < 1e-5 && Swift.abs(v - 1) < 1e-3)
        }
    }

    /// Enough rows that the weight and bias gradients are summed by several workers and then
    /// added: they must equal the plain sums over rows of dy·x̂ and dy.
    @Test func layerNormParameterGradientsOverManyRows() {
        let rows = 300, D = 24
        let x = rand([rows, D], seed: 14, scale: 3), upstream = rand([rows, D], seed: 15)
        let w = rand([D], seed: 16), b = rand([D], seed: 17)
        w.requiresGrad = true; b.requiresGrad = true
        (x.layerNorm(weight: w, bias: b) * upstream).sum().backward()
        var wantW = [Double](repeating: 0, count: D), wantB = [Double](repeating: 0, count: D)
        for r in 0..<rows {
            let row = (0..<D).map { Double(x.values[r * D + $0]) }
            let m = row.reduce(0, +) / Double(D)
            let rstd = 1 / ((row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(D)) + 1e-5).squareRoot()
            for j in 0..<D {
                wantW[j] += Double(upstream.values[r * D + j]) * (row[j] - m) * rstd
                wantB[j] += Double(upstream.values[r * D + j])
            }
        }
        for j in 0..<D {
            #expect(Swift.abs(Double(w.grad!.values[j]) - wantW[j]) < 1e-3, "weight \(j)")
            #expect(Swift.abs(Double(b.grad!.values[j]) - wantB[j]) < 1e-3, "bias \(j)")
        }
    }

    @Test func noGradModeRecordsNothing() {
        let w = rand([3, 3], seed: 13)
        w.requiresGrad = true
        let y = GradMode.withoutGrad { (w * 2).sum() }
        #expect(!y.requiresGrad)
        let z = (w * 2).sum()
        #expect(z.requiresGrad)
    }

    @Test func gradientsAccumulateAcrossBackwardCalls() {
        let w = Tensor(shape: [2], values: [1, 2], requiresGrad: true)
        (w * 3).sum().backward()
        (w * 3).sum().backward()
        #expect(w.grad!.values == [6, 6])
        w.zeroGrad()
        #expect(w.grad == nil)
    }
}
