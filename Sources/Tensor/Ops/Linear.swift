// Matrix products with autograd: matmul (2-D right operand, any leading dims on the left),
// batched matmul, and the fused linear layer y = x·Wᵀ + b.

/// Backward of C = op(A)·op(B) for `batch` independent products, accumulating into gA / gB
/// (either may be nil). Shapes: op(A) [M,K], op(B) [K,N], dC [M,N].
func matmulBackward(
    dC: UnsafePointer<Float>, A: UnsafePointer<Float>, B: UnsafePointer<Float>,
    gA: UnsafeMutablePointer<Float>?, gB: UnsafeMutablePointer<Float>?,
    batch: Int, M: Int, N: Int, K: Int, transA: Bool, transB: Bool
) {
    if let gA {
        if transA {
            // A stored [K,M]: dA = op(B)·dCᵀ
            gemmBatched(gA, B, dC, batch: batch, M: K, N: M, K: N, transA: transB, transB: true, beta: 1, strideA: K * N, strideB: M * N, strideC: K * M)
        } else {
            // dA[M,K] = dC·op(B)ᵀ
            gemmBatched(gA, dC, B, batch: batch, M: M, N: K, K: N, transA: false, transB: !transB, beta: 1, strideA: M * N, strideB: K * N, strideC: M * K)
        }
    }
    if let gB {
        if transB {
            // B stored [N,K]: dB = dCᵀ·op(A)
            gemmBatched(gB, dC, A, batch: batch, M: N, N: K, K: M, transA: true, transB: transA, beta: 1, strideA: M * N, strideB: M * K, strideC: N * K)
        } else {
            // dB[K,N] = op(A)ᵀ·dC
            gemmBatched(gB, A, dC, batch: batch, M: K, N: N, K: M, transA: !transA, transB: false, beta: 1, strideA: M * K, strideB: M * N, strideC: K * N)
        }
    }
}

extension Tensor {
    /// `self` [..., K] times `w` ([K, N], or [N, K] with `transposeW`) → [..., N].
    /// Leading dimensions of `self` are folded into the rows of one sgemm (gemv for one row).
    public func matmul(_ w: Tensor, transposeW: Bool = false) -> Tensor {
        precondition(w.rank == 2, "matmul: right operand must be 2-D, got \(w.shape)")
        let K = shape[rank - 1]
        let N = transposeW ? w.shape[0] : w.shape[1]
        precondition((transposeW ? w.shape[1] : w.shape[0]) == K, "matmul: \(shape) × \(w.shape)\(transposeW ? "ᵀ" : "") mismatch")
        let M = count / max(K, 1)
        let out = Tensor(uninitialized: Array(shape.dropLast()) + [N])
        gemm(out.data, data, w.data, M: M, N: N, K: K, transB: transposeW)
        return Tensor.result(out, inputs: [self, w]) { [unowned self] o in
            matmulBackward(dC: o.grad!.data, A: self.data, B: w.data,
                           gA: self.requiresGrad ? self.gradBuffer().data : nil,
                           gB: w.requiresGrad ? w.gradBuffer().data : nil,
                           batch: 1, M: M, N: N, K: K, transA: false, transB: transposeW)
        }
    }

    /// Linear layer: `self` [..., in] · `weight`ᵀ ([out, in], PyTorch layout) + `bias` [out].
    public func linear(_ weight: Tensor, _ bias: Tensor? = nil) -> Tensor {
        let y = matmul(weight, transposeW: true)
        guard let bias else { return y }
        return y.addBias(bias)
    }

    /// Adds a vector over the last axis (fused row-broadcast add).
    public func addBias(_ bias: Tensor) -> Tensor {
        let n = shape[rank - 1]
        precondition(bias.count == n, "bias of \(bias.shape) for rows of \(n)")
        let rows = count / max(n, 1)
        let out = Tensor(uninitialized: shape)
        let x = data, b = bias.data, y = out.data
        Threading.parallelChunks(rows, minChunk: 64) { lo, hi in
            for r in lo..<hi { for j in 0..<n { y[r * n + j] = x[r * n + j] + b[j] } }
        }
        return Tensor.result(out, inputs: [self, bias]) { [unowned self] o in
            let go = o.grad!.data
            if self.requiresGrad { self.accumulateGrad(go) }
            if bias.requiresGrad { reduceBroadcast(go, from: [rows, n], into: bias.gradBuffer().data, shape: [n]) }
        }
    }

    /// Batched matmul: [B, M, K] × [B, K, N] → [B, M, N] (operands may be stored transposed:
    /// `transposeA` means `self` is [B, K, M], `transposeB` means `other` is [B, N, K]).
    public func bmm(_ other: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(rank == 3 && other.rank == 3 && shape[0] == other.shape[0], "bmm: \(shape) × \(other.shape)")
        let batch = shape[0]
        let M = transposeA ? shape[2] : shape[1], K = transposeA ? shape[1] : shape[2]
        let N = transposeB ? other.shape[1] : other.shape[2]
        precondition((transposeB ? other.shape[2] : other.shape[1]) == K, "bmm: inner dimensions differ: \(shape) × \(other.shape)")
        let out = Tensor(uninitialized: [batch, M, N])
        gemmBatched(out.data, data, other.data, batch: batch, M: M, N: N, K: K, transA: transposeA, transB: transposeB)
        return Tensor.result(out, inputs: [self, other]) { [unowned self] o in
            matmulBackward(dC: o.grad!.data, A: self.data, B: other.data,
                           gA: self.requiresGrad ? self.gradBuffer().data : nil,
                           gB: other.requiresGrad ? other.gradBuffer().data : nil,
                           batch: batch, M: M, N: N, K: K, transA: transposeA, transB: transposeB)
        }
    }
}
