// Broadcasting binary ops (add, sub, mul, div), scalar ops, and point-wise unary ops.

/// The four broadcasting binary operations.
public enum BinaryOp: Sendable {
    case add, sub, mul, div
}

/// out = a ∘ b with NumPy broadcasting; out is contiguous with shape `outShape`.
func binaryForward(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, outShape: [Int], out: UnsafeMutablePointer<Float>) {
    let n = outShape.reduce(1, *)
    if a.shape == b.shape {
        let pa = a.data, pb = b.data
        Threading.parallelChunks(n, minChunk: 1 << 15) { lo, hi in
            switch op {
            case .add: for i in lo..<hi { out[i] = pa[i] + pb[i] }
            case .sub: for i in lo..<hi { out[i] = pa[i] - pb[i] }
            case .mul: for i in lo..<hi { out[i] = pa[i] * pb[i] }
            case .div: for i in lo..<hi { out[i] = pa[i] / pb[i] }
            }
        }
        return
    }
    let sa = broadcastStrides(a.shape, to: outShape), sb = broadcastStrides(b.shape, to: outShape)
    let inner = outShape.last ?? 1
    let ia = sa.last ?? 0, ib = sb.last ?? 0
    let pa = a.data, pb = b.data
    // Where each output row reads from (cheap, serial), then the rows in parallel.
    var rowStarts: [(a: Int, b: Int)] = []
    rowStarts.reserveCapacity(n / max(inner, 1))
    forEachRow(outShape, sa, sb) { _, ao, bo in rowStarts.append((ao, bo)) }
    rowStarts.withUnsafeBufferPointer { starts in
        Threading.parallelChunks(starts.count, minChunk: max(1, (1 << 15) / max(inner, 1))) { lo, hi in
            for r in lo..<hi {
                let y = out + r * inner, x = pa + starts[r].a, z = pb + starts[r].b
                switch op {
                case .add: binaryRow(y, x, ia, z, ib, inner, +)
                case .sub: binaryRow(y, x, ia, z, ib, inner, -)
                case .mul: binaryRow(y, x, ia, z, ib, inner, *)
                case .div: binaryRow(y, x, ia, z, ib, inner, /)
                }
            }
        }
    }
}

/// y[j] = f(a[j·ia], b[j·ib]) for one row, with the common stride patterns (contiguous, or one
/// side a single value per row: a bias, a gate) as their own loops so they vectorise.
@inline(__always)
private func binaryRow(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ ia: Int, _ b: UnsafePointer<Float>, _ ib: Int,
                       _ n: Int, _ f: (Float, Float) -> Float) {
    switch (ia, ib) {
    case (1, 1): for j in 0..<n { y[j] = f(a[j], b[j]) }
    case (1, 0): let s = b[0]; for j in 0..<n { y[j] = f(a[j], s) }
    case (0, 1): let s = a[0]; for j in 0..<n { y[j] = f(s, b[j]) }
    default: for j in 0..<n { y[j] = f(a[j * ia], b[j * ib]) }
    }
}

extension Tensor {
    static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let outShape = broadcastShapes(a.shape, b.shape) else {
            preconditionFailure("cannot broadcast shapes \(a.shape) and \(b.shape)")
        }
        let out = Tensor(uninitialized: outShape)
        binaryForward(op, a, b, outShape: outShape, out: out.data)
        return Tensor.result(out, inputs: [a, b]) { o in
            let g = o.grad!
            let n = o.count
            // Gradient w.r.t. each operand at the output's shape, then summed over broadcast axes.
            func push(_ t: Tensor, _ local: (UnsafeMutablePointer<Float>) -> Void) {
                guard t.requiresGrad else { return }
                let tmp = Tensor(uninitialized: outShape)
                local(tmp.data)
                reduceBroadcast(tmp.data, from: outShape, into: t.gradBuffer().data, shape: t.shape)
            }
            switch op {
            case .add:
                for t in [a, b] where t.requiresGrad { reduceBroadcast(g.data, from: outShape, into: t.gradBuffer().data, shape: t.shape) }
            case .sub:
                if a.requiresGrad { reduceBroadcast(g.data, from: outShape, into: a.gradBuffer().data, shape: a.shape) }
                push(b) { d in for i in 0..<n { d[i] = -g.data[i] } }
            case .mul:
                push(a) { d in binaryForward(.mul, g, b, outShape: outShape, out: d) }
                push(b) { d in binaryForward(.mul, g, a, outShape: outShape, out: d) }
            case .div:
                push(a) { d in binaryForward(.div, g, b, outShape: outShape, out: d) }
                // d/db (a/b) = -out/b
                push(b) { d in
                    binaryForward(.div, o, b, outShape: outShape, out: d)
                    for i in 0..<n { d[i] = -d[i] * g.data[i] }
                }
            }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { binary(.add, a, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { binary(.sub, a, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { binary(.mul, a, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { binary(.div, a, b) }

    /// a·x + b, element-wise with scalars.
    public func affine(scale: Float, shift: Float = 0) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let x = data, y = out.data
        Threading.parallelChunks(count, minChunk: 1 << 15) { lo, hi in
            for i in lo..<hi { y[i] = scale * x[i] + shift }
        }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            let g = self.gradBuffer().data, go = o.grad!.data
            for i in 0..<self.count { g[i] += scale * go[i] }
        }
    }

    public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s) }
    public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s) }
    public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
    public static prefix func - (a: Tensor) -> Tensor { a.affine(scale: -1) }

    /// A point-wise op y = f(x) whose derivative is expressed through x and y.
    @inline(__always)
    func pointwise(_ f: @escaping (Float) -> Float, derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
        let out = Tensor(uninitialized: shape)
        let x = data, y = out.data
        Threading.parallelChunks(count, minChunk: 1 << 14) { lo, hi in
            for i in lo..<hi { y[i] = f(x[i]) }
        }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            let g = self.gradBuffer().data, go = o.grad!.data, yv = o.data
            Threading.parallelChunks(self.count, minChunk: 1 << 14) { lo, hi in
                for i in lo..<hi { g[i] += go[i] * derivative(x[i], yv[i]) }
            }
        }
    }

    public func exp() -> Tensor { pointwise({ expf($0) }, derivative: { _, y in y }) }
    /// Natural log (inputs must be positive).
    public func log() -> Tensor { pointwise({ logf($0) }, derivative: { x, _ in 1 / x }) }
    public func square() -> Tensor { pointwise({ $0 * $0 }, derivative: { x, _ in 2 * x }) }
    public func sqrt() -> Tensor { pointwise({ $0.squareRoot() }, derivative: { _, y in 0.5 / y }) }
    /// |x|, with derivative sign(x) (0 at 0).
    public func abs() -> Tensor { pointwise({ Swift.abs($0) }, derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    public func sigmoid() -> Tensor { pointwise({ 1 / (1 + expf(-$0)) }, derivative: { _, y in y * (1 - y) }) }
    public func tanh() -> Tensor { pointwise({ tanhf($0) }, derivative: { _, y in 1 - y * y }) }
    public func relu() -> Tensor { pointwise({ max($0, 0) }, derivative: { x, _ in x > 0 ? 1 : 0 }) }
    /// max(x, slope·x) for 0 ≤ slope < 1: a ReLU that keeps a small gradient for negative inputs
    /// (a discriminator's features must not die, or the generator loses its signal).
    public func leakyRelu(_ slope: Float = 0.2) -> Tensor {
        pointwise({ $0 > 0 ? $0 : slope * $0 }, derivative: { x, _ in x > 0 ? 1 : slope })
    }
    /// Clamps to [lo, hi]; the gradient passes only where the input was inside.
    public func clamp(_ lo: Float, _ hi: Float) -> Tensor {
        pointwise({ min(max($0, lo), hi) }, derivative: { x, _ in (x >= lo && x <= hi) ? 1 : 0 })
    }
    /// sign(x) ∈ {-1, 1} (0 maps to 1); its true derivative is zero almost everywhere.
    public func sign() -> Tensor { pointwise({ $0 >= 0 ? 1 : -1 }, derivative: { _, _ in 0 }) }

    /// GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), eight lanes at a
    /// time (as x·σ(2u), `geluGate`).
    public func gelu() -> Tensor {
        let out = Tensor(uninitialized: shape)
        let x = data, y = out.data
        Threading.parallelChunks(count, minChunk: 1 << 14) { lo, hi in
            var i = lo
            // Two independent exp chains per iteration (as in the softmax's exp pass).
            while i + 16 <= hi {
                let v = load8(x + i, 8), v2 = load8(x + i + 8, 8)
                store8(v * geluGate(v), y + i, 8); store8(v2 * geluGate(v2), y + i + 8, 8)
                i += 16
            }
            while i < hi {
                let v = load8(x + i, hi - i)
                store8(v * geluGate(v), y + i, hi - i)
                i += 8
            }
        }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            let g = self.gradBuffer().data, go = o.grad!.data
            Threading.parallelChunks(self.count, minChunk: 1 << 14) { lo, hi in
                var i = lo
                while i < hi {
                    let v = load8(x + i, hi - i)
                    // d/dv [v·σ(2u)] = σ + v·2σ(1−σ)·du/dv
                    let gate = geluGate(v)
                    let du = 0.797_884_56 * fma8(3 * 0.044715 * v, v, 1)
                    let derivative = fma8(2 * v * gate * (1 - gate), du, gate)
                    store8(load8(g + i, hi - i) + load8(go + i, hi - i) * derivative, g + i, hi - i)
                    i += 8
                }
            }
        }
    }

    /// SiLU: x·σ(x).
    public func silu() -> Tensor {
        pointwise({ x in x / (1 + expf(-x)) }, derivative: { x, _ in
            let s = 1 / (1 + expf(-x))
            return s * (1 + x * (1 - s))
        })
    }

    /// SwiGLU on the last axis split in halves [a | b]: silu(a) · b.
    public func swiglu() -> Tensor {
        let d2 = shape[rank - 1]
        precondition(d2 % 2 == 0, "swiglu needs an even last dimension, got \(shape)")
        let d = d2 / 2, rows = count / d2
        var outShape = shape
        outShape[rank - 1] = d
        let out = Tensor(uninitialized: outShape)
        let x = data, y = out.data
        Threading.parallelChunks(rows, minChunk: 64) { lo, hi in
            for r in lo..<hi {
                for j in 0..<d {
                    let a = x[r * d2 + j], b = x[r * d2 + d + j]
                    y[r * d + j] = a / (1 + expf(-a)) * b
                }
            }
        }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            let g = self.gradBuffer().data, go = o.grad!.data
            Threading.parallelChunks(rows, minChunk: 64) { lo, hi in
                for r in lo..<hi {
                    for j in 0..<d {
                        let a = x[r * d2 + j], b = x[r * d2 + d + j]
                        let s = 1 / (1 + expf(-a))
                        let gy = go[r * d + j]
                        g[r * d2 + j] += gy * b * s * (1 + a * (1 - s))
                        g[r * d2 + d + j] += gy * a * s
                    }
                }
            }
        }
    }

    /// Inverted dropout: zeroes each element with probability `p`, scales the rest by 1/(1-p).
    public func dropout(_ p: Float, rng: inout RNG) -> Tensor {
        if p <= 0 { return self }
        let keep = 1 - p
        let mask = Tensor(uninitialized: shape)
        for i in 0..<count { mask.data[i] = rng.uniform() < keep ? 1 / keep : 0 }
        return self * mask
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// GELU (tanh form) is x·½(1 + tanh u) with u = √(2/π)·(x + 0.044715·x³), and
/// ½(1 + tanh u) = σ(2u) = 1/(1 + e^(−2u)): one exp and one division, none of tanh's clamps.
@inline(__always) func geluGate(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let minusTwoU = -1.595_769_1 * fma8(0.044715 * x * x, x, x)
    return 1 / (1 + exp8(minusTwoU))
}
