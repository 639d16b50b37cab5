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
                let xr = x + r * D
                var m: Float = 0
                for j in 0..<D { m += xr[j] }
                m /= Float(D)
                var v: Float = 0
                for j in 0..<D { let d = xr[j] - m; v += d * d }
                let rs = 1 / (v / Float(D) + eps).squareRoot()
                mean.data[r] = m; rstd.data[r] = rs
                for j in 0..<D { y[r * D + j] = (xr[j] - m) * rs * w[j] + (b?[j] ?? 0) }
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
                let xr = x + r * D
                var ss: Float = 0
                for j in 0..<D { ss += xr[j] * xr[j] }
                let rs = 1 / (ss / Float(D) + eps).squareRoot()
                rstd.data[r] = rs
                for j in 0..<D { y[r * D + j] = xr[j] * rs * w[j] }
            }
        }
        return Tensor.result(out, inputs: [self, weight]) { [unowned self] o in
            normBackward(x: x, dy: o.grad!.data, mean: nil, rstd: rstd.data, weight: weight, bias: nil,
                         dx: self.requiresGrad ? self.gradBuffer().data : nil, rows: rows, D: D, centered: false)
        }
    }
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
                var sumG: Float = 0, sumGX: Float = 0
                for j in 0..<D {
                    let gx = dy[r * D + j] * w[j]
                    sumG += gx
                    sumGX += gx * (x[r * D + j] - m) * rs
                }
                let mg = centered ? sumG / Float(D) : 0, mgx = sumGX / Float(D)
                for j in 0..<D {
                    let xhat = (x[r * D + j] - m) * rs
                    dx[r * D + j] += rs * (dy[r * D + j] * w[j] - mg - xhat * mgx)
                }
            }
        }
    }
    if weight.requiresGrad || (bias?.requiresGrad ?? false) {
        let gw = weight.requiresGrad ? weight.gradBuffer().data : nil
        let gb = (bias?.requiresGrad ?? false) ? bias!.gradBuffer().data : nil
        for r in 0..<rows {
            let m = mean?[r] ?? 0, rs = rstd[r]
            for j in 0..<D {
                gw?[j] += dy[r * D + j] * (x[r * D + j] - m) * rs
                gb?[j] += dy[r * D + j]
            }
        }
    }
}
