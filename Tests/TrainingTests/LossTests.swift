import Foundation
import Testing
import Tensor
import TestSupport
@testable import Training

@Suite struct D3DiffTests {
    /// A batch of two images with different mask ratios, logits for their masked rows.
    func batch(seed: UInt64) -> (logits: Tensor, targets: [Int], imageOfRow: [Int], draws: [MaskDraw]) {
        var rng = RNG(seed: seed)
        let N = 16, C = 12
        var draws: [MaskDraw] = []
        while draws.count < 2 {
            let d = D3Diff.drawMask(imageTokens: N, rng: &rng)
            if draws.first?.positions.count != d.positions.count { draws.append(d) }
        }
        var targets: [Int] = [], imageOfRow: [Int] = []
        for (b, d) in draws.enumerated() {
            for _ in d.positions { targets.append(rng.int(C)); imageOfRow.append(b) }
        }
        return (rand([targets.count, C], seed: seed + 1, scale: 2), targets, imageOfRow, draws)
    }

    @Test func maskDrawFollowsTheCosineSchedule() {
        var rng = RNG(seed: 7)
        for _ in 0..<200 {
            let d = D3Diff.drawMask(imageTokens: 256, rng: &rng)
            let expected = max(1, Int((256 * cosf(Float.pi * d.u / 2)).rounded()))
            #expect(d.positions.count == expected)
            #expect(Set(d.positions).count == d.positions.count)
            #expect(d.positions.allSatisfy { (0..<256).contains($0) })
            #expect(d.positions == d.positions.sorted())
        }
    }

    @Test func scoreEntropyIsNonNegativeAndZeroOnlyAtTheTruth() {
        let (logits, targets, imageOfRow, draws) = batch(seed: 3)
        let odds = imageOfRow.map { draws[$0].odds }
        let se = D3Diff.scoreEntropy(logProbs: logits.logSoftmax(), targets: targets, odds: odds)
        #expect(se.values.allSatisfy { $0 >= -1e-4 })
        // A model certain of the truth has p(x0) = 1, so SE = −r·log 1 = 0.
        var sure = [Float](repeating: -30, count: logits.count)
        let C = logits.shape[1]
        for (i, t) in targets.enumerated() { sure[i * C + t] = 30 }
        let seSure = D3Diff.scoreEntropy(logProbs: Tensor(shape: logits.shape, values: sure).logSoftmax(),
                                         targets: targets, odds: odds)
        #expect(seSure.values.allSatisfy { Swift.abs($0) < 1e-3 })
    }

    /// With the posterior score, Σ σ'·SE collapses to Σ w·(−log p(x0)) (docs/DESIGN.md).
    @Test func scoreLossCollapsesToWeightedCrossEntropy() {
        let (logits, targets, imageOfRow, draws) = batch(seed: 5)
        let terms = D3Diff.loss(logits: logits, targets: targets, imageOfRow: imageOfRow, draws: draws, alpha: 0.01, mode: .d3diff)
        let logp = logits.logSoftmax()
        let C = logits.shape[1]
        var collapsed: Double = 0, nll: Double = 0
        for (i, t) in targets.enumerated() {
            let l = -Double(logp.data[i * C + t])
            collapsed += Double(draws[imageOfRow[i]].timeWeight) * l
            nll += l
        }
        collapsed /= Double(draws.count)
        nll /= Double(targets.count)
        #expect(Swift.abs(Double(terms.score.item) - collapsed) <= 1e-3 * collapsed)
        #expect(Swift.abs(Double(terms.mask.item) - nll) <= 1e-5 * nll)
        #expect(Swift.abs(Double(terms.total.item) - (nll + 0.01 * collapsed)) <= 1e-3 * collapsed)
    }

    @Test func modesPickTheirTerms() {
        let (logits, targets, imageOfRow, draws) = batch(seed: 9)
        func total(_ mode: D3DiffMode, _ alpha: Float) -> Float {
            D3Diff.loss(logits: logits, targets: targets, imageOfRow: imageOfRow, draws: draws, alpha: alpha, mode: mode).total.item
        }
        let terms = D3Diff.loss(logits: logits, targets: targets, imageOfRow: imageOfRow, draws: draws, alpha: 0.1, mode: .d3diff)
        #expect(total(.maskOnly, 0.1) == terms.mask.item)
        #expect(total(.scoreOnly, 0.1) == terms.score.item)
        #expect(total(.d3diff, 0) == terms.mask.item)
        #expect(terms.score.item > terms.mask.item)
    }

    @Test func gradientsMatchFiniteDifferences() {
        let (logits, targets, imageOfRow, draws) = batch(seed: 11)
        for mode in D3DiffMode.allCases {
            GradCheck(eps: 1e-2, maxNMSE: 1e-4).run([logits]) { x in
                D3Diff.loss(logits: x[0], targets: targets, imageOfRow: imageOfRow, draws: draws, alpha: 0.05, mode: mode).total
            }
        }
    }

    @Test func timeWeightMatchesTheTangentForm() {
        // w = (π/2)·tan(πu/2) when n/N equals cos(πu/2) exactly.
        let N = 256
        for n in [32, 64, 128, 200] {
            let d = MaskDraw(u: 0, positions: Array(0..<n), tokens: N)
            let m = Float(n) / Float(N)
            let u = 2 * acosf(m) / Float.pi
            #expect(Swift.abs(d.timeWeight - Float.pi / 2 * tanf(Float.pi * u / 2)) < 1e-3 * d.timeWeight)
        }
        // Near-empty masks are capped.
        #expect(MaskDraw(u: 0, positions: [0], tokens: N).timeWeight <= Float(N))
    }

    @Test func ratioBucketsCoverTheUnitInterval() {
        #expect(MaskRatioBuckets.bucket(0) == 0)
        #expect(MaskRatioBuckets.bucket(0.5) == 2)
        #expect(MaskRatioBuckets.bucket(1) == MaskRatioBuckets.names.count - 1)
    }
}
