// Multi-head scaled dot-product attention with an additive mask, and rotary embeddings.
// Both work on the [B, T, H·Dh] layout the projections produce, so no permute copies are
// needed: a head is a strided view (leading dimension H·Dh) handed straight to sgemm.

extension Tensor {
    /// Multi-head attention. `self` is q [B, T, H·Dh]; `k`, `v` are [B, S, H·Dh].
    /// `mask` is additive, [T, S] or [B, T, S] (−inf blocks), shared by all heads.
    /// Returns [B, T, H·Dh]. Keeps the attention probabilities for backward.
    public func attention(k: Tensor, v: Tensor, heads H: Int, mask: Tensor?, scale: Float? = nil) -> Tensor {
        let q = self
        precondition(q.rank == 3 && k.rank == 3 && v.rank == 3, "attention: q, k, v must be [B, T, H·Dh]")
        let B = q.shape[0], T = q.shape[1], E = q.shape[2], S = k.shape[1]
        precondition(E % H == 0 && k.shape == [B, S, E] && v.shape == [B, S, E], "attention: shapes q \(q.shape) k \(k.shape) v \(v.shape) heads \(H)")
        let Dh = E / H
        let sc = scale ?? 1 / Float(Dh).squareRoot()
        if let mask {
            precondition(mask.shape == [T, S] || mask.shape == [B, T, S], "attention: mask \(mask.shape) for T \(T), S \(S)")
        }
        let maskBatchStride = (mask?.rank == 3) ? T * S : 0
        let out = Tensor(uninitialized: [B, T, E])
        let qd = q.data, kd = k.data, vd = v.data, od = out.data
        let md = mask?.data
        // Backward needs every head's probabilities; inference only needs one head's at a time,
        // in a buffer small enough to stay in cache between the two products and the softmax.
        let keepProbabilities = GradMode.isEnabled && (q.requiresGrad || k.requiresGrad || v.requiresGrad)
        let probs = Tensor(uninitialized: keepProbabilities ? [B, H, T, S] : [0])
        let pd = probs.data
        // Mask rows that are all zeros (image rows see everything) need no adding: found once
        // here rather than once per head.
        let maskRows = md == nil ? 0 : (maskBatchStride == 0 ? T : B * T)
        var rowMasked = [Bool](repeating: false, count: maskRows)
        if let md {
            for r in 0..<maskRows {
                let row = md + r * S
                var s = 0
                while s < S && load8(row + s, S - s) == .zero { s += 8 }
                rowMasked[r] = s < S
            }
        }
        // Heads per worker: all on one thread when they are tiny (a decoding step's single row).
        let headsPerPart = max(1, (1 << 16) / max(1, T * S * Dh))
        rowMasked.withUnsafeBufferPointer { rowMasked in
        Threading.parallelChunks(B * H, minChunk: headsPerPart) { lo, hi in
            let scratch = keepProbabilities ? nil : UnsafeMutablePointer<Float>.allocate(capacity: T * S + T)
            defer { scratch?.deallocate() }
            for bh in lo..<hi {
                let b = bh / H, h = bh % H
                let P = scratch ?? pd + bh * T * S
                // scores[T, S] = q_h · k_hᵀ
                gemm(P, qd + b * T * E + h * Dh, kd + b * S * E + h * Dh, M: T, N: S, K: Dh, transB: true,
                     alpha: sc, lda: E, ldb: E, ldc: S)
                func maskRow(_ t: Int) -> UnsafePointer<Float>? {
                    guard let md else { return nil }
                    let r = (maskBatchStride == 0 ? 0 : b * T) + t
                    return rowMasked[r] ? UnsafePointer(md + r * S) : nil
                }
                let out = od + b * T * E + h * Dh
                if let scratch {
                    // Inference: leave the rows unnormalised and scale the Dh-wide output rows
                    // instead of the S-wide probability rows.
                    let inverse = scratch + T * S
                    for t in 0..<T { inverse[t] = expRow(P + t * S, S, adding: maskRow(t)) }
                    gemm(out, P, vd + b * S * E + h * Dh, M: T, N: Dh, K: S, ldb: E, ldc: E)
                    for t in 0..<T {
                        let row = out + t * E, inv = inverse[t]
                        for j in 0..<Dh { row[j] *= inv }
                    }
                } else {
                    for t in 0..<T { softmaxRow(P + t * S, S, adding: maskRow(t)) }
                    // out_h[T, Dh] = P · v_h
                    gemm(out, P, vd + b * S * E + h * Dh, M: T, N: Dh, K: S, ldb: E, ldc: E)
                }
            }
        }
        }
        return Tensor.result(out, inputs: [q, k, v]) { o in
            withExtendedLifetime(probs) {}  // the closure owns the saved probabilities
            let go = o.grad!.data
            let gq = q.requiresGrad ? q.gradBuffer().data : nil
            let gk = k.requiresGrad ? k.gradBuffer().data : nil
            let gv = v.requiresGrad ? v.gradBuffer().data : nil
            Threading.parallelFor(B * H) { bh in
                let b = bh / H, h = bh % H
                let P = pd + bh * T * S
                let dO = go + b * T * E + h * Dh
                let dP = UnsafeMutablePointer<Float>.allocate(capacity: T * S)
                defer { dP.deallocate() }
                // dP = dO · vᵀ ; dV += Pᵀ · dO
                gemm(dP, dO, vd + b * S * E + h * Dh, M: T, N: S, K: Dh, transB: true, lda: E, ldb: E, ldc: S)
                if let gv { gemm(gv + b * S * E + h * Dh, P, dO, M: S, N: Dh, K: T, transA: true, beta: 1, lda: S, ldb: E, ldc: E) }
                // dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale
                for t in 0..<T {
                    let pr = P + t * S, dr = dP + t * S
                    var lanes = SIMD8<Float>(repeating: 0)
                    var s = 0
                    while s < S { lanes += load8(pr + s, S - s) * load8(dr + s, S - s); s += 8 }
                    let dot = lanes.sum()
                    s = 0
                    while s < S { store8(load8(pr + s, S - s) * (load8(dr + s, S - s) - dot) * sc, dr + s, S - s); s += 8 }
                }
                // dQ += dS · k ; dK += dSᵀ · q
                if let gq { gemm(gq + b * T * E + h * Dh, dP, kd + b * S * E + h * Dh, M: T, N: Dh, K: S, beta: 1, lda: S, ldb: E, ldc: E) }
                if let gk { gemm(gk + b * S * E + h * Dh, dP, qd + b * T * E + h * Dh, M: S, N: Dh, K: T, transA: true, beta: 1, lda: S, ldb: E, ldc: E) }
            }
        }
    }

    /// Rotary position embedding on [B, T, H·Dh]: within each head the first `rotaryDims`
    /// dimensions are rotated as pairs (i, i + rotaryDims/2) by angle pos·base^(−2i/rotaryDims)
    /// (GPT-NeoX layout); the rest pass through. `positions` has T or B·T entries.
    public func rope(positions: [Int], heads H: Int, rotaryDims: Int? = nil, base: Float = 10000) -> Tensor {
        rope(RotaryTable(positions: positions, rotaryDims: rotaryDims ?? shape[2] / H, base: base), heads: H)
    }

    /// `rope` with the angles' cosines and sines already tabulated (a model's layers share one).
    public func rope(_ table: RotaryTable, heads H: Int) -> Tensor {
        let B = shape[0], T = shape[1], E = shape[2], Dh = E / H
        let half = table.half, positions = table.positions.count
        precondition(2 * half <= Dh, "rope: rotary dims \(2 * half) must be at most the head dim \(Dh)")
        precondition(positions == T || positions == B * T, "rope: \(positions) positions for B \(B), T \(T)")
        let out = detached()
        func rotate(_ y: UnsafeMutablePointer<Float>, sign: Float) {
            table.cos.withUnsafeBufferPointer { cosines in
            table.sin.withUnsafeBufferPointer { sines in
            Threading.parallelChunks(B * T, minChunk: 16) { lo, hi in
                for bt in lo..<hi {
                    let row = (positions == T ? bt % T : bt) * half
                    for h in 0..<H {
                        let p = y + bt * E + h * Dh
                        for i in 0..<half {
                            let c = cosines[row + i], s = sign * sines[row + i]
                            let a = p[i], b = p[i + half]
                            p[i] = a * c - b * s
                            p[i + half] = a * s + b * c
                        }
                    }
                }
            }
            }
            }
        }
        rotate(out.data, sign: 1)
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            // The rotation is orthogonal: the gradient rotates back by −angle.
            let g = o.grad!.detached()
            rotate(g.data, sign: -1)
            self.accumulateGrad(g.data)
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// cos and sin of pos·base^(−2i/rotaryDims) for every position and pair i: libm's cosf and
/// sinf per element were a visible cost when each layer's q and k recomputed them.
public struct RotaryTable: Sendable {
    /// T positions (shared by the batch) or B·T (one list per sequence).
    public let positions: [Int]
    let half: Int
    let cos: [Float], sin: [Float]

    public init(positions: [Int], rotaryDims: Int, base: Float = 10000) {
        precondition(rotaryDims % 2 == 0 && rotaryDims > 0, "rope: rotary dims \(rotaryDims) must be even and positive")
        let half = rotaryDims / 2
        let inverseFrequencies = (0..<half).map { powf(base, -2 * Float($0) / Float(rotaryDims)) }
        var cos = [Float](repeating: 0, count: positions.count * half), sin = cos
        for (row, position) in positions.enumerated() {
            for i in 0..<half {
                let angle = Float(position) * inverseFrequencies[i]
                cos[row * half + i] = cosf(angle)
                sin[row * half + i] = sinf(angle)
            }
        }
        self.positions = positions; self.half = half; self.cos = cos; self.sin = sin
    }
}
