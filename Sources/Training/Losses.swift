import Foundation
import Tensor

/// Which parts of the Dual Discrete Diffusion loss drive T2I training (the paper's Tab. 3 rows).
public enum D3DiffMode: String, Codable, Sendable, CaseIterable {
    /// `L_mask + α·L_score` (the default, α = 0.01).
    case d3diff
    /// `L_mask` alone (Show-o's loss; same as α = 0).
    case maskOnly = "mask_only"
    /// `L_score` alone.
    case scoreOnly = "score_only"
}

/// The masking of one image for a T2I training example.
public struct MaskDraw: Sendable, Equatable {
    /// `u ~ U(0,1)` the draw came from.
    public var u: Float
    /// Masked positions (sorted), `max(1, round(N·cos(πu/2)))` of them.
    public var positions: [Int]
    /// Number of image tokens N.
    public var tokens: Int

    /// `m_eff = n/N` clipped to `[1/N, 1−1/N]` (the ratio the score weights use).
    public var effectiveRatio: Float {
        let N = Float(tokens)
        return min(max(Float(positions.count) / N, 1 / N), 1 - 1 / N)
    }

    /// `r = (1−m)/m`: the posterior odds of an unmasked over a masked token.
    public var odds: Float { (1 - effectiveRatio) / effectiveRatio }

    /// The cosine schedule's `(dm/dτ)/m = (π/2)·√(1−m²)/m`, capped at N so near-empty masks
    /// do not dominate a batch.
    public var timeWeight: Float {
        let m = effectiveRatio
        return min((Float.pi / 2) * (1 - m * m).squareRoot() / m, Float(tokens))
    }
}

/// Dual Discrete Diffusion (docs/DESIGN.md "Losses"): the masked-token cross-entropy `L_mask` plus the
/// score-entropy term `L_score` whose concrete score comes from the model's posterior by Bayes.
public enum D3Diff {
    /// Draws a mask ratio from the cosine schedule and that many distinct positions.
    public static func drawMask(imageTokens N: Int, rng: inout RNG) -> MaskDraw {
        let u = rng.uniform()
        let m = cosf(Float.pi * u / 2)
        let n = min(N, max(1, Int((Float(N) * m).rounded())))
        // Partial Fisher–Yates: the first n entries are a uniform sample without replacement.
        var order = Array(0..<N)
        for i in 0..<n { order.swapAt(i, i + rng.int(N - i)) }
        return MaskDraw(u: u, positions: order[0..<n].sorted(), tokens: N)
    }

    /// The loss terms of one batch.
    public struct Terms {
        /// What to back-propagate: the mode's combination.
        public var total: Tensor
        /// Mean over masked positions of `−log p(x0)`.
        public var mask: Tensor
        /// Mean over images of `Σ_i σ'·SE_i`.
        public var score: Tensor
        /// `−log p(x0)` of each row (for the per-mask-ratio log).
        public var rowNLL: [Float]
    }

    /// - `logits`: [M, C] image-code logits at the masked positions of the batch.
    /// - `targets`: the true code of each row; `imageOfRow`: which draw each row belongs to.
    public static func loss(logits: Tensor, targets: [Int], imageOfRow: [Int], draws: [MaskDraw],
                            alpha: Float, mode: D3DiffMode) -> Terms {
        let logProbs = logits.logSoftmax()
        let picked = logProbs.gatherColumns(targets)
        let lMask = picked.mean() * -1
        let rows = targets.count
        let odds = imageOfRow.map { draws[$0].odds }
        let se = scoreEntropy(logProbs: logProbs, targets: targets, odds: odds)
        // σ' = w/r per row; the sum over masked positions is averaged over images.
        let sigma = (0..<rows).map { draws[imageOfRow[$0]].timeWeight / odds[$0] }
        let lScore = (se * Tensor(shape: [rows], values: sigma)).sum() * (1 / Float(max(draws.count, 1)))
        let total: Tensor
        switch mode {
        case .d3diff: total = alpha == 0 ? lMask : lMask + lScore * alpha
        case .maskOnly: total = lMask
        case .scoreOnly: total = lScore
        }
        return Terms(total: total, mask: lMask, score: lScore, rowNLL: picked.values.map { -$0 })
    }

    /// SEDD's score entropy for the absorbing state, per row:
    /// `SE = Σ_y exp(s_y) − r·s_{x0} + r·(log r − 1)` with `s_y = log r + log p(y)`.
    /// Kept general (not collapsed to `−r·log p(x0)`) so an unnormalised score head could
    /// replace `logProbs`.
    public static func scoreEntropy(logProbs: Tensor, targets: [Int], odds: [Float]) -> Tensor {
        let rows = targets.count
        let logR = Tensor(shape: [rows, 1], values: odds.map { logf($0) })
        let s = logProbs + logR
        let r = Tensor(shape: [rows], values: odds)
        let constant = Tensor(shape: [rows], values: odds.map { $0 * (logf($0) - 1) })
        return s.exp().sum(axes: [1]) - r * s.gatherColumns(targets) + constant
    }
}

/// Next-token prediction on assistant tokens: mean cross-entropy of `logits` [M, V] at the
/// target positions.
public func nextTokenLoss(logits: Tensor, targets: [Int]) -> Tensor {
    logits.crossEntropy(targets: targets)
}

/// Buckets of the mask ratio for logging the T2I loss (the raw loss swings with the ratio).
public enum MaskRatioBuckets {
    public static let edges: [Float] = [0, 0.2, 0.4, 0.6, 0.8, 1.0001]
    public static var names: [String] { (0..<(edges.count - 1)).map { String(format: "%.1f-%.1f", edges[$0], min(edges[$0 + 1], 1)) } }
    public static func bucket(_ ratio: Float) -> Int {
        for i in 0..<(edges.count - 1) where ratio < edges[i + 1] { return i }
        return edges.count - 2
    }
}
