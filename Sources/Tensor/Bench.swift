import Dispatch

/// Timing helpers for `facestudio bench` (timings live there, never in tests).
public enum Bench {
    /// Monotonic seconds.
    @inline(__always) public static func now() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
    }

    /// Best-of-`rounds` seconds per call of `body`, each round repeating it until `minTime` passes.
    public static func time(rounds: Int = 3, minTime: Double = 0.15, _ body: () -> Void) -> Double {
        body()  // warm-up
        var best = Double.infinity
        for _ in 0..<rounds {
            var n = 0
            let t0 = now()
            var t = t0
            repeat { body(); n += 1; t = now() } while t - t0 < minTime
            best = min(best, (t - t0) / Double(n))
        }
        return best
    }

    /// A model's speed as a share of the sgemm peak, robust to this VM's drift: its speed wanders
    /// by ±20% over seconds, so a peak taken at the start of a run and a model timing taken a
    /// minute later disagree by that much. Each round times `round` (which returns the model's
    /// GFLOPS) right after a short sgemm peak measurement, and the median of the per-round
    /// shares is returned.
    public static func shareOfPeak(rounds: Int, peakSize n: Int, _ round: () throws -> Double) rethrows -> Double {
        var shares: [Double] = []
        for _ in 0..<rounds {
            let peak = sgemmGFLOPS(n: n, rounds: 2, minTime: 0.1)
            shares.append(try round() / peak)
        }
        shares.sort()
        return rounds % 2 == 1 ? shares[rounds / 2] : (shares[rounds / 2 - 1] + shares[rounds / 2]) / 2
    }

    /// OpenBLAS sgemm GFLOPS for an n×n×n product, straight through cblas with OpenBLAS's own
    /// threads (the reference peak).
    public static func sgemmGFLOPS(n: Int, rounds: Int = 5, minTime: Double = 0.15) -> Double {
        let a = Tensor(filled: 0.5, shape: [n, n]), b = Tensor(filled: 0.25, shape: [n, n]), c = Tensor(zeros: [n, n])
        let s = Threading.withOpenBLASThreading { time(rounds: rounds, minTime: minTime) { gemmForcedSgemm(c.data, a.data, b.data, M: n, N: n, K: n) } }
        return 2 * Double(n * n * n) / s / 1e9
    }
}
