// Convolution by im2col + sgemm, nearest-neighbour upsampling and GroupNorm, all on NCHW.

/// Geometry of a 2-D convolution.
struct ConvGeometry {
    let C: Int, H: Int, W: Int, kh: Int, kw: Int, stride: Int, pad: Int
    var Ho: Int { (H + 2 * pad - kh) / stride + 1 }
    var Wo: Int { (W + 2 * pad - kw) / stride + 1 }
    /// Rows of the column matrix: one per (channel, kernel y, kernel x).
    var colRows: Int { C * kh * kw }
}

/// cols[C·kh·kw, Ho·Wo] from one image x[C, H, W] (zero padding); consecutive rows of `cols`
/// are `rowStride` floats apart (default Ho·Wo), so a batch can share one column matrix.
func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry, _ cols: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
    let Ho = g.Ho, Wo = g.Wo, stride = rowStride ?? Ho * Wo
    Threading.parallelChunks(g.colRows, minChunk: 8) { lo, hi in
        for row in lo..<hi {
            let c = row / (g.kh * g.kw), ky = (row / g.kw) % g.kh, kx = row % g.kw
            let dst = cols + row * stride
            for oy in 0..<Ho {
                let iy = oy * g.stride - g.pad + ky
                if iy < 0 || iy >= g.H {
                    (dst + oy * Wo).update(repeating: 0, count: Wo)
                    continue
                }
                let src = x + (c * g.H + iy) * g.W
                for ox in 0..<Wo {
                    let ix = ox * g.stride - g.pad + kx
                    dst[oy * Wo + ox] = (ix >= 0 && ix < g.W) ? src[ix] : 0
                }
            }
        }
    }
}

/// dx[C, H, W] += col2im(dcols) — the adjoint of `im2col` (same `rowStride`).
func col2im(_ cols: UnsafePointer<Float>, _ g: ConvGeometry, _ dx: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
    let Ho = g.Ho, Wo = g.Wo, stride = rowStride ?? Ho * Wo
    // Parallel over channels: each channel's rows touch only that channel of dx.
    Threading.parallelChunks(g.C, minChunk: 1) { lo, hi in
        for c in lo..<hi {
            for ky in 0..<g.kh {
                for kx in 0..<g.kw {
                    let src = cols + ((c * g.kh + ky) * g.kw + kx) * stride
                    for oy in 0..<Ho {
                        let iy = oy * g.stride - g.pad + ky
                        if iy < 0 || iy >= g.H { continue }
                        let dst = dx + (c * g.H + iy) * g.W
                        for ox in 0..<Wo {
                            let ix = ox * g.stride - g.pad + kx
                            if ix >= 0 && ix < g.W { dst[ix] += src[oy * Wo + ox] }
                        }
                    }
                }
            }
        }
    }
}

/// Consecutive groups of a batch's images for `conv2d`: about `targetColumns` output positions
/// per group (at least one image).
struct ConvGroups {
    let ranges: [Range<Int>]
    let maxColumns: Int
    static let targetColumns = 4096

    init(batch: Int, columnsPerImage: Int) {
        let size = max(1, min(batch, ConvGroups.targetColumns / max(columnsPerImage, 1)))
        ranges = stride(from: 0, to: batch, by: size).map { $0..<min($0 + size, batch) }
        maxColumns = size * columnsPerImage
    }
}

extension Tensor {
    /// 2-D convolution: `self` [B, C, H, W] with `weight` [O, C, kh, kw] and optional `bias` [O].
    public func conv2d(weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(rank == 4 && weight.rank == 4 && weight.shape[1] == shape[1], "conv2d: input \(shape), weight \(weight.shape)")
        let B = shape[0], O = weight.shape[0]
        let g = ConvGeometry(C: shape[1], H: shape[2], W: shape[3], kh: weight.shape[2], kw: weight.shape[3], stride: stride, pad: padding)
        precondition(g.Ho > 0 && g.Wo > 0, "conv2d: kernel larger than padded input \(shape)")
        let HWo = g.Ho * g.Wo, inSize = g.C * g.H * g.W
        let out = Tensor(uninitialized: [B, O, g.Ho, g.Wo])
        // Images go in groups whose columns sit side by side in one matrix [C·kh·kw, n·HWo], so
        // each product is one sgemm a few thousand columns wide: far faster than one small sgemm
        // per image, while a group's columns still fit in cache. All columns are kept for the
        // weight gradient.
        let groups = ConvGroups(batch: B, columnsPerImage: HWo)
        let cols = Tensor(uninitialized: [g.colRows, B * HWo])
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: O * groups.maxColumns)
        defer { scratch.deallocate() }
        for range in groups.ranges {
            let n = range.count * HWo, block = cols.data + g.colRows * range.lowerBound * HWo
            for b in range { im2col(data + b * inSize, g, block + (b - range.lowerBound) * HWo, rowStride: n) }
            // outT[O, n] = W[O, CKK] · block, then each image's part moves to out[b].
            let outT = range.count == 1 ? out.data + range.lowerBound * O * HWo : scratch
            gemm(outT, weight.data, block, M: O, N: n, K: g.colRows)
            if range.count > 1 {
                for o in 0..<O { for b in range { (out.data + (b * O + o) * HWo).update(from: outT + o * n + (b - range.lowerBound) * HWo, count: HWo) } }
            }
        }
        if let bias {
            for b in 0..<B { for o in 0..<O { let row = out.data + (b * O + o) * HWo; let bv = bias.data[o]; for i in 0..<HWo { row[i] += bv } } }
        }
        var inputs = [self, weight]
        if let bias { inputs.append(bias) }
        return Tensor.result(out, inputs: inputs) { [unowned self] o in
            let go = o.grad!.data
            let gw = weight.requiresGrad ? weight.gradBuffer().data : nil
            let gb = (bias?.requiresGrad ?? false) ? bias!.gradBuffer().data : nil
            let gx = self.requiresGrad ? self.gradBuffer().data : nil
            let dOutT = UnsafeMutablePointer<Float>.allocate(capacity: O * groups.maxColumns)
            let dcols = gx == nil ? nil : UnsafeMutablePointer<Float>.allocate(capacity: g.colRows * groups.maxColumns)
            defer { dOutT.deallocate(); dcols?.deallocate() }
            for range in groups.ranges {
                let n = range.count * HWo, block = cols.data + g.colRows * range.lowerBound * HWo
                // dOutT[O, n]: this group's output gradient in the column layout.
                for o in 0..<O { for b in range { (dOutT + o * n + (b - range.lowerBound) * HWo).update(from: go + (b * O + o) * HWo, count: HWo) } }
                // dW[O, CKK] += dOutT · blockᵀ
                if let gw { gemm(gw, dOutT, block, M: O, N: g.colRows, K: n, transB: true, beta: 1) }
                if let gb { for o in 0..<O { var s: Float = 0; let row = dOutT + o * n; for i in 0..<n { s += row[i] }; gb[o] += s } }
                if let gx, let dcols {
                    // dcols[CKK, n] = Wᵀ · dOutT, folded back image by image.
                    gemm(dcols, weight.data, dOutT, M: g.colRows, N: n, K: O, transA: true)
                    for b in range { col2im(dcols + (b - range.lowerBound) * HWo, g, gx + b * inSize, rowStride: n) }
                }
            }
        }
    }

    /// Nearest-neighbour upsampling of [B, C, H, W] by an integer factor.
    public func upsampleNearest(_ factor: Int) -> Tensor {
        precondition(rank == 4 && factor >= 1, "upsampleNearest: input \(shape), factor \(factor)")
        let BC = shape[0] * shape[1], H = shape[2], W = shape[3], f = factor
        let out = Tensor(uninitialized: [shape[0], shape[1], H * f, W * f])
        let x = data, y = out.data
        Threading.parallelChunks(BC, minChunk: 4) { lo, hi in
            for p in lo..<hi {
                for oy in 0..<(H * f) {
                    let src = x + (p * H + oy / f) * W, dst = y + (p * H * f + oy) * W * f
                    for ox in 0..<(W * f) { dst[ox] = src[ox / f] }
                }
            }
        }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            let g = self.gradBuffer().data, go = o.grad!.data
            Threading.parallelChunks(BC, minChunk: 4) { lo, hi in
                for p in lo..<hi {
                    for oy in 0..<(H * f) {
                        let src = go + (p * H * f + oy) * W * f, dst = g + (p * H + oy / f) * W
                        for ox in 0..<(W * f) { dst[ox / f] += src[ox] }
                    }
                }
            }
        }
    }

    /// GroupNorm on [B, C, H, W]: normalise each of `groups` channel groups per sample, then
    /// scale and shift per channel.
    public func groupNorm(groups G: Int, weight: Tensor, bias: Tensor, eps: Float = 1e-5) -> Tensor {
        precondition(rank == 4 && shape[1] % G == 0, "groupNorm: \(shape) with \(G) groups")
        let B = shape[0], C = shape[1], HW = shape[2] * shape[3], cpg = C / G
        let n = cpg * HW  // elements per (sample, group)
        // Normalise each (sample, group) as one LayerNorm row with unit weight, then apply
        // the per-channel affine: reuses the LayerNorm kernels and their gradients.
        let ones = Tensor(filled: 1, shape: [n])
        let normed = reshape([B * G, n]).layerNorm(weight: ones, bias: nil, eps: eps).reshape([B, C, shape[2], shape[3]])
        return normed * weight.reshape([1, C, 1, 1]) + bias.reshape([1, C, 1, 1])
    }
}
