// Broadcasting binary ops (add, sub, mul, div), scalar ops, and point-wise unary ops.

/// The four broadcasting binary operations.
public enum BinaryOp: Sendable {
    case add, sub, mul, div

    @inline(__always) func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        }
    }
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
    forEachRow(outShape, sa, sb) { oo, ao, bo in
        for j in 0..<inner { out[oo + j] = op.apply(pa[ao + j * ia], pb[bo + j * ib]) }
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
    /// Clamps to [lo, hi]; the gradient passes only where the input was inside.
    public func clamp(_ lo: Float, _ hi: Float) -> Tensor {
        pointwise({ min(max($0, lo), hi) }, derivative: { x, _ in (x >= lo && x <= hi) ? 1 : 0 })
    }
    /// sign(x) ∈ {-1, 1} (0 maps to 1); its true derivative is zero almost everywhere.
    public func sign() -> Tensor { pointwise({ $0 >= 0 ? 1 : -1 }, derivative: { _, _ in 0 }) }

    /// GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), eight lanes at a time.
    public func gelu() -> Tensor {
        let out = Tensor(uninitialized: shape)
        let x = data, y = out.data
        Threading.parallelChunks(count, minChunk: 1 << 14) { lo, hi in
            var i = lo
            // Two independent tanh chains per iteration (as in the softmax's exp pass).
            while i + 16 <= hi {
                let v = load8(x + i, 8), v2 = load8(x + i + 8, 8)
                let t = tanh8(geluInner(v)), t2 = tanh8(geluInner(v2))
                store8(0.5 * v * (1 + t), y + i, 8); store8(0.5 * v2 * (1 + t2), y + i + 8, 8)
                i += 16
            }
            while i < hi {
                let v = load8(x + i, hi - i)
                store8(0.5 * v * (1 + tanh8(geluInner(v))), y + i, hi - i)
                i += 8
            }
        }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            let g = self.gradBuffer().data, go = o.grad!.data
            Threading.parallelChunks(self.count, minChunk: 1 << 14) { lo, hi in
                var i = lo
                while i < hi {
                    let v = load8(x + i, hi - i)
                    let t = tanh8(geluInner(v))
                    let du = 0.797_884_56 * (1 + 3 * 0.044715 * v * v)
                    let derivative = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du
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

/// √(2/π)·(x + 0.044715·x³), the argument of GELU's tanh.
@inline(__always) func geluInner(_ x: SIMD8<Float>) -> SIMD8<Float> {
    0.797_884_56 * (x + 0.044715 * x * x * x)
}
