// LayerNorm and RMSNorm over the last axis; GroupNorm over [B, C, H, W].

extension Tensor {
    /// LayerNorm over the last axis: (x − μ)/√(σ² + eps) · weight + bias.
    public func layerNorm(weight: Tensor, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
        let D = shape[rank - 1], rows = count / max(D, 1)
        precondition(weight.count == D && (bias == nil || bias!.count == D), "layerNorm: parameters must have \(D) entries")
        let out = Tensor(uninitialized: shape)
        let mean = Tensor(uninitialized: [rows]), rstd = Tensor(uninitialized: [rows])
        let x = data, y = out.data, w = weight.data, b = bias?.data
        Threading.parallelChunks(rows, minChunk: 16) { lo, hi in
            for r in lo..<hi {
                (mean.data[r], rstd.data[r]) = normalizeRow(x + r * D, into: y + r * D, D: D, weight: w, bias: b, eps: eps, centered: true)
            }
        }
        var inputs = [self, weight]
        if let bias { inputs.append(bias) }
        return Tensor.result(out, inputs: inputs) { [unowned self] o in
            normBackward(x: x, dy: o.grad!.data, mean: mean.data, rstd: rstd.data, weight: weight, bias: bias,
                         dx: self.requiresGrad ? self.gradBuffer().data : nil, rows: rows, D: D, centered: true)
        }
    }

    /// RMSNorm over the last axis: x/√(mean(x²) + eps) · weight.
    public func rmsNorm(weight: Tensor, eps: Float = 1e-6) -> Tensor {
        let D = shape[rank - 1], rows = count / max(D, 1)
        precondition(weight.count == D, "rmsNorm: weight must have \(D) entries")
        let out = Tensor(uninitialized: shape)
        let rstd = Tensor(uninitialized: [rows])
        let x = data, y = out.data, w = weight.data
        Threading.parallelChunks(rows, minChunk: 16) { lo, hi in
            for r in lo..<hi {
                rstd.data[r] = normalizeRow(x + r * D, into: y + r * D, D: D, weight: w, bias: nil, eps: eps, centered: false).rstd
            }
        }
        return Tensor.result(out, inputs: [self, weight]) { [unowned self] o in
            normBackward(x: x, dy: o.grad!.data, mean: nil, rstd: rstd.data, weight: weight, bias: nil,
                         dx: self.requiresGrad ? self.gradBuffer().data : nil, rows: rows, D: D, centered: false)
        }
    }
}

/// One row of LayerNorm (`centered`) or RMSNorm, eight lanes at a time (a scalar sum is a
/// chain of dependent adds: D of them per reduction). Returns the row's mean (0 when not
/// centered) and 1/√(variance + eps).
@inline(__always)
func normalizeRow(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, D: Int, weight w: UnsafePointer<Float>,
                  bias b: UnsafePointer<Float>?, eps: Float, centered: Bool) -> (mean: Float, rstd: Float) {
    var m: Float = 0
    if centered {
        var sum = SIMD8<Float>(repeating: 0)
        var j = 0
        while j < D { sum += load8(x + j, D - j); j += 8 }
        m = sum.sum() / Float(D)
    }
    var squares = SIMD8<Float>(repeating: 0)
    var j = 0
    while j < D { let d = load8(x + j, D - j, fill: m) - m; squares = fma8(d, d, squares); j += 8 }
    let rs = 1 / (squares.sum() / Float(D) + eps).squareRoot()
    j = 0
    if let b {
        while j < D { store8(fma8((load8(x + j, D - j) - m) * rs, load8(w + j, D - j), load8(b + j, D - j)), y + j, D - j); j += 8 }
    } else {
        while j < D { store8((load8(x + j, D - j) - m) * rs * load8(w + j, D - j), y + j, D - j); j += 8 }
    }
    return (m, rs)
}

/// Shared backward of LayerNorm (`centered`) and RMSNorm: with x̂ = (x − μ)·rstd,
/// dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)), dropping the mean(dx̂) term for RMSNorm.
func normBackward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, mean: UnsafePointer<Float>?, rstd: UnsafePointer<Float>,
                  weight: Tensor, bias: Tensor?, dx: UnsafeMutablePointer<Float>?, rows: Int, D: Int, centered: Bool) {
    let w = weight.data
    if let dx {
        Threading.parallelChunks(rows, minChunk: 16) { lo, hi in
            for r in lo..<hi {
                let m = mean?[r] ?? 0, rs = rstd[r]
                let xr = x + r * D, dyr = dy + r * D, dxr = dx + r * D
                // Tail lanes load dy = 0, so they add nothing to either sum.
                var sumG = SIMD8<Float>(repeating: 0), sumGX = SIMD8<Float>(repeating: 0)
                var j = 0
                while j < D {
                    let gx = load8(dyr + j, D - j) * load8(w + j, D - j)
                    sumG += gx
                    sumGX = fma8(gx, (load8(xr + j, D - j) - m) * rs, sumGX)
                    j += 8
                }
                let mg = centered ? sumG.sum() / Float(D) : 0, mgx = sumGX.sum() / Float(D)
                j = 0
                while j < D {
                    let gx = load8(dyr + j, D - j) * load8(w + j, D - j)
                    let xhat = (load8(xr + j, D - j) - m) * rs
                    store8(fma8(gx - mg - xhat * mgx, rs, load8(dxr + j, D - j)), dxr + j, D - j)
                    j += 8
                }
            }
        }
    }
    if weight.requiresGrad || (bias?.requiresGrad ?? false) {
        let gw = weight.requiresGrad ? weight.gradBuffer().data : nil
        let gb = (bias?.requiresGrad ?? false) ? bias!.gradBuffer().data : nil
        // [dweight | dbias], summed over the rows on every worker.
        var sums = [Float](repeating: 0, count: 2 * D)
        sums.withUnsafeMutableBufferPointer { sums in
            accumulateInParts(rows, minChunk: 64, width: 2 * D, into: sums.baseAddress!) { lo, hi, acc in
                let pw = acc, pb = acc + D
                for r in lo..<hi {
                    let m = mean?[r] ?? 0, rs = rstd[r]
                    let xr = x + r * D, dyr = dy + r * D
                    var j = 0
                    while j < D {
                        let g = load8(dyr + j, D - j)
                        store8(fma8(g, (load8(xr + j, D - j) - m) * rs, load8(pw + j, D - j)), pw + j, D - j)
                        store8(load8(pb + j, D - j) + g, pb + j, D - j)
                        j += 8
                    }
                }
            }
            if let gw { vAdd(gw, sums.baseAddress!, D) }
            if let gb { vAdd(gb, sums.baseAddress! + D, D) }
        }
    }
}
