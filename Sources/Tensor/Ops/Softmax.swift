// Softmax, log-softmax and cross-entropy over the last axis.

/// Softmax of one row of length `n`, in place (max-subtracted, eight lanes at a time), after
/// adding `mask` (an additive row, −inf blocks) when given. A fully masked row becomes zeros.
@inlinable @inline(__always) public func softmaxRow(_ x: UnsafeMutablePointer<Float>, _ n: Int, adding mask: UnsafePointer<Float>? = nil) {
    let inv = expRow(x, n, adding: mask)
    var j = 0
    while j < n { store8(load8(x + j, n - j) * inv, x + j, n - j); j += 8 }
}

/// The unnormalised half of a softmax: replaces the row (plus `mask`) by exp(x − max) and
/// returns 1 / Σ (0 when every entry is −inf: the row is then zeros). A caller that multiplies
/// the row into something narrower (attention's P·V) scales the product instead of the row.
@inlinable @inline(__always) public func expRow(_ x: UnsafeMutablePointer<Float>, _ n: Int, adding mask: UnsafePointer<Float>? = nil) -> Float {
    var top = SIMD8<Float>(repeating: -.infinity)
    var j = 0
    while j < n {
        var v = load8(x + j, n - j, fill: -.infinity)
        if let mask { v += load8(mask + j, n - j); store8(v, x + j, n - j) }
        top.replace(with: v, where: v .> top)  // pointwiseMax is not specialised: a generic call per vector
        j += 8
    }
    let m = laneMax(top)
    if m == -.infinity {
        x.update(repeating: 0, count: n)
        return 0
    }
    // Two vectors per iteration: exp8 is a chain of dependent multiply-adds, and two
    // independent chains keep both FMA units busy.
    var sum = SIMD8<Float>(repeating: 0), sum2 = SIMD8<Float>(repeating: 0)
    j = 0
    while j + 16 <= n {
        let e = exp8(load8(x + j, 8) - m), e2 = exp8(load8(x + j + 8, 8) - m)
        store8(e, x + j, 8); store8(e2, x + j + 8, 8)
        sum += e; sum2 += e2
        j += 16
    }
    while j < n {
        let e = exp8(load8(x + j, n - j, fill: -.infinity) - m)  // padding lanes: exp(−inf) = 0
        store8(e, x + j, n - j)
        sum += e
        j += 8
    }
    return 1 / (sum + sum2).sum()
}

/// The largest of eight lanes. SIMD's own `max()` is an unspecialised generic call (a visible
/// cost at one call per attention row).
@inlinable @inline(__always) func laneMax(_ v: SIMD8<Float>) -> Float {
    let half = SIMD4(v[0], v[1], v[2], v[3]), other = SIMD4(v[4], v[5], v[6], v[7])
    var m = half
    m.replace(with: other, where: other .> half)
    return Swift.max(Swift.max(m[0], m[1]), Swift.max(m[2], m[3]))
}

/// log Σ exp over a row.
@inline(__always) func logSumExpRow(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var top = SIMD8<Float>(repeating: -.infinity)
    var j = 0
    while j < n { let v = load8(x + j, n - j, fill: -.infinity); top.replace(with: v, where: v .> top); j += 8 }
    let m = laneMax(top)
    if m == -.infinity { return m }
    var sum = SIMD8<Float>(repeating: 0)
    j = 0
    while j < n { sum += exp8(load8(x + j, n - j, fill: -.infinity) - m); j += 8 }
    return m + logf(sum.sum())
}

extension Tensor {
    /// Softmax over the last axis.
    public func softmax() -> Tensor {
        let n = shape[rank - 1], rows = count / max(n, 1)
        let out = detached()
        let y = out.data
        Threading.parallelChunks(rows, minChunk: 16) { lo, hi in
            for r in lo..<hi { softmaxRow(y + r * n, n) }
        }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            // dx = y ⊙ (dy − Σ dy·y)
            let g = self.gradBuffer().data, go = o.grad!.data
            Threading.parallelChunks(rows, minChunk: 16) { lo, hi in
                for r in lo..<hi {
                    let yr = y + r * n, gr = go + r * n
                    var dot: Float = 0
                    for j in 0..<n { dot += yr[j] * gr[j] }
                    for j in 0..<n { g[r * n + j] += yr[j] * (gr[j] - dot) }
                }
            }
        }
    }

    /// Log-softmax over the last axis.
    public func logSoftmax() -> Tensor {
        let n = shape[rank - 1], rows = count / max(n, 1)
        let out = Tensor(uninitialized: shape)
        let x = data, y = out.data
        Threading.parallelChunks(rows, minChunk: 16) { lo, hi in
            for r in lo..<hi {
                let lse = logSumExpRow(x + r * n, n)
                for j in 0..<n { y[r * n + j] = x[r * n + j] - lse }
            }
        }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            // dx = dy − softmax · Σ dy
            let g = self.gradBuffer().data, go = o.grad!.data
            Threading.parallelChunks(rows, minChunk: 16) { lo, hi in
                for r in lo..<hi {
                    var s: Float = 0
                    for j in 0..<n { s += go[r * n + j] }
                    for j in 0..<n { g[r * n + j] += go[r * n + j] - expf(y[r * n + j]) * s }
                }
            }
        }
    }

    /// Cross-entropy of `self` (logits [..., V]) against integer `targets` (one per row).
    ///
    /// Rows whose target equals `ignoreIndex` are skipped. Each row's loss is multiplied by
    /// `weights[row]` when given. The result is the weighted sum divided by the number of
    /// counted rows (`.mean`) or the plain weighted sum (`.sum`).
    public func crossEntropy(targets: [Int], ignoreIndex: Int = -100, weights: [Float]? = nil,
                             reduction: Reduction = .mean) -> Tensor {
        let V = shape[rank - 1], rows = count / max(V, 1)
        precondition(targets.count == rows, "crossEntropy: \(targets.count) targets for \(rows) rows")
        precondition(weights == nil || weights!.count == rows, "crossEntropy: weights must have one entry per row")
        let x = data
        let probs = Tensor(uninitialized: shape)  // softmax, kept for backward
        var rowLoss = [Float](repeating: 0, count: rows)
        Threading.parallelChunks(rows, minChunk: 16) { lo, hi in
            for r in lo..<hi {
                let t = targets[r]
                let pr = probs.data + r * V
                pr.update(from: x + r * V, count: V)
                softmaxRow(pr, V)
                if t == ignoreIndex { continue }
                precondition(t >= 0 && t < V, "crossEntropy: target \(t) outside 0..<\(V) at row \(r)")
                let lse = logSumExpRow(x + r * V, V)
                rowLoss[r] = (lse - x[r * V + t]) * (weights?[r] ?? 1)
            }
        }
        let counted = targets.filter { $0 != ignoreIndex }.count
        let norm: Float = reduction == .mean ? 1 / Float(max(counted, 1)) : 1
        let out = Tensor(scalar: rowLoss.reduce(0, +) * norm)
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            let g = self.gradBuffer().data
            let scale = o.grad!.data[0] * norm
            Threading.parallelChunks(rows, minChunk: 16) { lo, hi in
                for r in lo..<hi where targets[r] != ignoreIndex {
                    let w = scale * (weights?[r] ?? 1)
                    let pr = probs.data + r * V
                    for j in 0..<V { g[r * V + j] += w * pr[j] }
                    g[r * V + targets[r]] -= w
                }
            }
        }
    }
}

/// How a loss over many rows is combined.
public enum Reduction: Sendable { case mean, sum }

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
