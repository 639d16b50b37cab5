import CBLAS
import CMalloc
import Dispatch
import Foundation

/// The engine's one threading plan for a small machine.
///
/// OpenBLAS always runs single-threaded; every bit of parallelism is the engine's own:
/// - a large matmul is split into `workers` row (or column) blocks, one sgemm each (`gemm`);
/// - element-wise ops, norms and softmaxes are split into `workers` chunks;
/// - many small independent matmuls (attention heads) run one per worker.
/// A region started inside another runs inline on its thread, so the two cores are never
/// oversubscribed. (Letting OpenBLAS thread its own sgemms measured no faster than one thread
/// on a MaskGIT step: its idle threads spin in sched_yield between the many small calls.)
public enum Threading {
    /// Number of worker threads the engine uses (defaults to the core count, at most 8).
    public private(set) static var workers: Int = {
        let env = ProcessInfo.processInfo.environment["FACESTUDIO_THREADS"].flatMap { Int($0) }
        return max(1, min(env ?? ProcessInfo.processInfo.activeProcessorCount, 8))
    }()

    private static let configured: Bool = {
        openblas_set_num_threads(1)
        keepFreedBuffersMapped()
        return true
    }()

    /// glibc gives every allocation above 32 MB (and, by its sliding threshold, many smaller
    /// ones) fresh pages from mmap and unmaps them on free, so a training step's attention
    /// probabilities and gradients were faulted in and zeroed by the kernel on every step: 18%
    /// of a training run's time was in clear_page. Serving them from the heap and never
    /// trimming it lets the next step reuse the same pages. Measured with `facestudio bench`:
    /// train_mfu 0.36–0.39 → 0.42–0.44, MaskGIT step 0.43–0.46 → 0.48–0.50 of the sgemm peak.
    private static func keepFreedBuffersMapped() {
        #if canImport(Glibc)
        _ = mallopt(M_MMAP_MAX, 0)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        #endif
    }

    /// Raised on the threads that are running a region's part.
    private static let inRegion = ThreadFlag()

    /// Helper threads for the regions (workers − 1 of them, started on first use).
    private static let pool = WorkerPool(helpers: workers - 1, inRegion: inRegion)

    /// Call once before any BLAS work (every public op does it through `ensureConfigured`).
    @inline(__always) public static func ensureConfigured() { _ = configured }

    /// Changes the worker count (benchmarks compare 1 and N workers).
    public static func setWorkers(_ n: Int) {
        ensureConfigured()
        workers = max(1, min(n, 8))
    }

    /// Runs `body` with OpenBLAS threading its own calls over the workers: the benchmarks'
    /// reference for "plain sgemm on this machine".
    public static func withOpenBLASThreading<R>(_ body: () -> R) -> R {
        ensureConfigured()
        openblas_set_num_threads(Int32(workers))
        defer { openblas_set_num_threads(1) }
        return body()
    }

    /// Whether the calling thread is already running one part of a parallel region.
    public static var insideRegion: Bool { inRegion.isSet }

    /// How many parts a region of `count` items (at least `minChunk` each) is split into here.
    @inline(__always)
    public static func parts(_ count: Int, minChunk: Int = 1) -> Int {
        if workers <= 1 || insideRegion { return 1 }
        return min(workers, max(1, count / max(1, minChunk)))
    }

    /// Runs `body(chunkStart, chunkEnd)` over `0..<count` in at most `workers` contiguous chunks.
    /// Work smaller than `minChunk` per worker, or a region inside another, stays on the
    /// calling thread.
    @inline(__always)
    public static func parallelChunks(_ count: Int, minChunk: Int = 1, _ body: (Int, Int) -> Void) {
        ensureConfigured()
        let parts = parts(count, minChunk: minChunk)
        if parts <= 1 {
            if count > 0 { body(0, count) }
            return
        }
        pool.run(parts) { p in
            let lo = count * p / parts
            let hi = count * (p + 1) / parts
            if hi > lo { body(lo, hi) }
        }
    }

    /// Σ body(chunkStart, chunkEnd) over `0..<count` split as in `parallelChunks` (a parallel
    /// reduction: each part returns its own sum).
    public static func parallelSum(_ count: Int, minChunk: Int = 1, _ body: (Int, Int) -> Double) -> Double {
        ensureConfigured()
        let parts = parts(count, minChunk: minChunk)
        if parts <= 1 { return count > 0 ? body(0, count) : 0 }
        var partial = [Double](repeating: 0, count: parts)
        partial.withUnsafeMutableBufferPointer { sums in
            pool.run(parts) { p in sums[p] = body(count * p / parts, count * (p + 1) / parts) }
        }
        return partial.reduce(0, +)
    }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over the workers.
    @inline(__always)
    public static func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        parallelChunks(count) { lo, hi in
            for i in lo..<hi { body(i) }
        }
    }

    /// Runs independent tasks of known relative `costs` (e.g. the experts of a MoE layer, each
    /// several tensor ops) with every task whole on one worker: the tasks are spread so the
    /// workers' total costs are close (largest first, each to the least loaded worker). One
    /// region for all of them, instead of a region per op with every small matmul split in
    /// two. Tasks may build tensors: each worker runs them in the caller's gradient mode.
    public static func parallelTasks(costs: [Int], _ body: (Int) -> Void) {
        ensureConfigured()
        let parts = parts(costs.count)
        guard parts > 1 else {
            for i in costs.indices { body(i) }
            return
        }
        var load = [Int](repeating: 0, count: parts)
        var assigned = [[Int]](repeating: [], count: parts)
        for task in costs.indices.sorted(by: { costs[$0] > costs[$1] }) {
            let p = load.indices.min(by: { load[$0] < load[$1] })!
            assigned[p].append(task)
            load[p] += costs[task]
        }
        let gradients = GradMode.isEnabled
        pool.run(parts) { p in
            if gradients {
                for task in assigned[p] { body(task) }
            } else {
                GradMode.withoutGrad { for task in assigned[p] { body(task) } }
            }
        }
    }
}
