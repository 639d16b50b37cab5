import CBLAS
import Dispatch
import Foundation

/// The engine's one threading plan for a small machine.
///
/// - A single large matmul is one sgemm call that OpenBLAS spreads over `workers` threads
///   (splitting rows ourselves into concurrent single-threaded calls measured ~40% slower).
/// - Element-wise ops, norms and softmaxes are split into `workers` chunks by the engine.
/// - Many small independent matmuls (attention heads, experts) run one per engine worker
///   inside `parallelSerialBLAS`, which drops OpenBLAS to one thread for the duration, so
///   the engine's threads and OpenBLAS's are never both busy at once.
public enum Threading {
    /// Number of worker threads the engine uses (defaults to the core count, at most 8).
    public private(set) static var workers: Int = {
        let env = ProcessInfo.processInfo.environment["FACESTUDIO_THREADS"].flatMap { Int($0) }
        return max(1, min(env ?? ProcessInfo.processInfo.activeProcessorCount, 8))
    }()

    private static let configured: Bool = {
        openblas_set_num_threads(Int32(workers))
        return true
    }()

    /// Call once before any BLAS work (every public op does it through `ensureConfigured`).
    @inline(__always) public static func ensureConfigured() { _ = configured }

    /// Changes the worker count (benchmarks compare 1 and N workers).
    public static func setWorkers(_ n: Int) {
        ensureConfigured()
        workers = max(1, min(n, 8))
        openblas_set_num_threads(Int32(workers))
    }

    /// Runs `body(i)` for `i` in `0..<count` across the workers, with OpenBLAS single-threaded
    /// meanwhile: for loops whose bodies call BLAS on small independent problems.
    public static func parallelSerialBLAS(_ count: Int, _ body: (Int) -> Void) {
        ensureConfigured()
        if workers <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(workers)) }
        parallelFor(count, body)
    }

    /// Runs `body(chunkStart, chunkEnd)` over `0..<count` in at most `workers` contiguous chunks.
    /// Work smaller than `minChunk` per worker stays on the calling thread.
    @inline(__always)
    public static func parallelChunks(_ count: Int, minChunk: Int = 1, _ body: (Int, Int) -> Void) {
        ensureConfigured()
        let parts = min(workers, max(1, count / max(1, minChunk)))
        if parts <= 1 {
            if count > 0 { body(0, count) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: parts) { p in
            let lo = count * p / parts
            let hi = count * (p + 1) / parts
            if hi > lo { body(lo, hi) }
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over the workers.
    @inline(__always)
    public static func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        parallelChunks(count) { lo, hi in
            for i in lo..<hi { body(i) }
        }
    }
}
