import Testing
import Tensor

/// Finite-difference gradient checking in the style of ggml's test-backend-ops.
///
/// L = Σ f(inputs) ⊙ R for a fixed random R; the analytic dL/dx from `backward()` is
/// compared with central differences (L evaluated in Double from Float32 outputs). The error
/// measure is the normalised squared error Σ(a−n)²/Σn² over the checked elements.
public struct GradCheck {
    public var eps: Float = 1e-2
    public var maxNMSE: Double = 1e-4
    /// Elements checked per input (all when the input is small).
    public var samplesPerInput = 48
    public var seed: UInt64 = 99

    public init(eps: Float = 1e-2, maxNMSE: Double = 1e-4, samplesPerInput: Int = 48, seed: UInt64 = 99) {
        self.eps = eps; self.maxNMSE = maxNMSE; self.samplesPerInput = samplesPerInput; self.seed = seed
    }

    @discardableResult
    public func run(_ inputs: [Tensor], sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) -> Tensor) -> Double {
        for x in inputs { x.requiresGrad = true; x.zeroGrad() }
        let out = f(inputs)
        var rng = RNG(seed: seed)
        let R = Tensor.randn(out.shape, rng: &rng)
        (out * R).sum().backward()
        let analytic = inputs.map { $0.grad?.values ?? [Float](repeating: 0, count: $0.count) }

        func loss() -> Double {
            GradMode.withoutGrad {
                let o = f(inputs)
                var s: Double = 0
                for i in 0..<o.count { s += Double(o.data[i]) * Double(R.data[i]) }
                return s
            }
        }
        var num: Double = 0, den: Double = 0
        var worst = ""
        var worstErr = 0.0
        for (k, x) in inputs.enumerated() {
            var pick = RNG(seed: seed &+ UInt64(k))
            let idx = x.count <= samplesPerInput ? Array(0..<x.count) : (0..<samplesPerInput).map { _ in pick.int(x.count) }
            for i in idx {
                let orig = x.data[i]
                x.data[i] = orig + eps
                let lp = loss()
                x.data[i] = orig - eps
                let lm = loss()
                x.data[i] = orig
                let numeric = (lp - lm) / (2 * Double(eps))
                let a = Double(analytic[k][i])
                num += (a - numeric) * (a - numeric)
                den += numeric * numeric
                let e = Swift.abs(a - numeric) / max(Swift.abs(a) + Swift.abs(numeric), 1e-3)
                if e > worstErr { worstErr = e; worst = "input \(k)[\(i)]: analytic \(a), numeric \(numeric)" }
            }
        }
        let nmse = den > 0 ? num / den : num
        #expect(nmse <= maxNMSE, "gradient mismatch: NMSE \(nmse); worst \(worst)", sourceLocation: sourceLocation)
        #expect(den > 0 || num == 0, "all numeric gradients are zero: the check would prove nothing", sourceLocation: sourceLocation)
        return nmse
    }
}

/// A random tensor with a fixed seed.
public func rand(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var rng = RNG(seed: seed)
    return Tensor.randn(shape, std: scale, rng: &rng)
}

/// Max |a − b| over two equal-sized tensors.
public func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.count == b.count)
    var m: Float = 0
    for i in 0..<a.count { m = max(m, Swift.abs(a.data[i] - b.data[i])) }
    return m
}
