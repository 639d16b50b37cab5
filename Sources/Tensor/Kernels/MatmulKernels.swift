import CBLAS

// Matrix products, llm.c style: plain functions over raw buffers with the shapes in the
// signature. Row-major throughout. `transA`/`transB` mean the operand is stored transposed
// (A stored [K, M], B stored [N, K]).

/// C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C (OpenBLAS sgemm; gemv when M == 1).
/// Products big enough to pay for waking a thread are split into blocks of rows (or of
/// columns, whichever dimension is larger), one single-threaded call per engine worker.
@inline(__always)
public func gemm(
    _ C: UnsafeMutablePointer<Float>, _ A: UnsafePointer<Float>, _ B: UnsafePointer<Float>,
    M: Int, N: Int, K: Int, transA: Bool = false, transB: Bool = false,
    alpha: Float = 1, beta: Float = 0, lda: Int? = nil, ldb: Int? = nil, ldc: Int? = nil
) {
    Threading.ensureConfigured()
    let lda = lda ?? (transA ? M : K), ldb = ldb ?? (transB ? K : N), ldc = ldc ?? N
    if M == 0 || N == 0 { return }
    if K == 0 {
        for i in 0..<M { for j in 0..<N { C[i * ldc + j] = beta == 0 ? 0 : beta * C[i * ldc + j] } }
        return
    }
    let splitRows = M >= N && M > 1
    let parts = M * N * K >= gemmSplitWork ? Threading.parts(splitRows ? M : N, minChunk: 16) : 1
    if parts <= 1 {
        gemmSerial(C, A, B, M: M, N: N, K: K, transA: transA, transB: transB, alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: ldc)
    } else if splitRows {
        Threading.parallelChunks(M, minChunk: 16) { lo, hi in
            gemmSerial(C + lo * ldc, transA ? A + lo : A + lo * lda, B, M: hi - lo, N: N, K: K, transA: transA, transB: transB,
                       alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: ldc)
        }
    } else {
        Threading.parallelChunks(N, minChunk: 16) { lo, hi in
            gemmSerial(C + lo, A, transB ? B + lo * ldb : B + lo, M: M, N: hi - lo, K: K, transA: transA, transB: transB,
                       alpha: alpha, beta: beta, lda: lda, ldb: ldb, ldc: ldc)
        }
    }
}

/// Multiply-adds below which a product stays on one thread (waking a worker costs about as
/// much as ~2·10⁵ multiply-adds on this kind of core).
public let gemmSplitWork = 1 << 18

/// One OpenBLAS call on the calling thread.
@inline(__always)
private func gemmSerial(
    _ C: UnsafeMutablePointer<Float>, _ A: UnsafePointer<Float>, _ B: UnsafePointer<Float>,
    M: Int, N: Int, K: Int, transA: Bool, transB: Bool, alpha: Float, beta: Float, lda: Int, ldb: Int, ldc: Int
) {
    if M == 1 && !transA {
        // One row: y[N] = op(B)ᵀ-as-stored · a. sgemv is ~6x faster than a one-row sgemm.
        if transB {
            // B stored [N, K]: y = B · a
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(N), Int32(K), alpha, B, Int32(ldb), A, 1, beta, C, 1)
        } else {
            // B stored [K, N]: y = Bᵀ · a
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(K), Int32(N), alpha, B, Int32(ldb), A, 1, beta, C, 1)
        }
        return
    }
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(M), Int32(N), Int32(K), alpha,
        A, Int32(lda), B, Int32(ldb), beta, C, Int32(ldc))
}

/// Naive reference for `gemm` (tests compare against it).
public func gemmNaive(
    _ C: UnsafeMutablePointer<Float>, _ A: UnsafePointer<Float>, _ B: UnsafePointer<Float>,
    M: Int, N: Int, K: Int, transA: Bool = false, transB: Bool = false,
    alpha: Float = 1, beta: Float = 0
) {
    for i in 0..<M {
        for j in 0..<N {
            var acc: Double = 0
            for k in 0..<K {
                let a = transA ? A[k * M + i] : A[i * K + k]
                let b = transB ? B[j * K + k] : B[k * N + j]
                acc += Double(a) * Double(b)
            }
            C[i * N + j] = alpha * Float(acc) + (beta == 0 ? 0 : beta * C[i * N + j])
        }
    }
}

/// Batched products over `batch` independent matrices: small ones one per engine worker,
/// large ones in turn, each split by `gemm`.
public func gemmBatched(
    _ C: UnsafeMutablePointer<Float>, _ A: UnsafePointer<Float>, _ B: UnsafePointer<Float>,
    batch: Int, M: Int, N: Int, K: Int, transA: Bool = false, transB: Bool = false,
    alpha: Float = 1, beta: Float = 0, strideA: Int? = nil, strideB: Int? = nil, strideC: Int? = nil
) {
    let sa = strideA ?? M * K, sb = strideB ?? K * N, sc = strideC ?? M * N
    if batch == 1 || M * N * K >= 1 << 21 {
        for b in 0..<batch {
            gemm(C + b * sc, A + b * sa, B + b * sb, M: M, N: N, K: K, transA: transA, transB: transB, alpha: alpha, beta: beta)
        }
    } else {
        Threading.parallelFor(batch) { b in
            gemm(C + b * sc, A + b * sa, B + b * sb, M: M, N: N, K: K, transA: transA, transB: transB, alpha: alpha, beta: beta)
        }
    }
}

/// One plain sgemm call: no gemv shortcut, no splitting over the workers (the benchmarks' reference).
public func gemmForcedSgemm(
    _ C: UnsafeMutablePointer<Float>, _ A: UnsafePointer<Float>, _ B: UnsafePointer<Float>,
    M: Int, N: Int, K: Int, transB: Bool = false
) {
    Threading.ensureConfigured()
    cblas_sgemm(CblasRowMajor, CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(M), Int32(N), Int32(K), 1, A, Int32(K), B, Int32(transB ? K : N), 0, C, Int32(N))
}
