import Foundation
import Tensor

// Batch-1 forward passes of the tokenizer on preallocated buffers, without autograd.
//
// Why a second forward path: a preview is decoded at every MaskGIT step, and at batch 1 the
// autograd ops spend more time allocating (and page-faulting) fresh tensors, copying 1×1 convs
// through im2col and waking threads than multiplying. This path reuses three activation buffers
// and one column buffer, runs 1×1 convs as a plain sgemm, fuses GroupNorm with SiLU, and copies
// whole rows in im2col. It computes the same function as the layers' `callAsFunction`
// (tests compare the two); training uses the autograd path.

/// One activation: a [C, H, W] image in a buffer.
struct Activation {
    var data: UnsafeMutablePointer<Float>
    var channels: Int, height: Int, width: Int
    var plane: Int { height * width }
    var count: Int { channels * plane }
}

/// Reusable buffers for batch-1 passes through one tokenizer. Not thread-safe by itself;
/// `ImageTokenizer` serialises access with a lock.
final class TokenizerFastPath {
    private let columnCapacity: Int
    private let buffers: [UnsafeMutablePointer<Float>]
    private let columns: UnsafeMutablePointer<Float>

    init(config c: ImageTokenizerConfig) {
        // The largest activation: 4× a level's channels right before a pixel shuffle, or a level's
        // channels at its resolution; the largest column matrix: a 3×3 conv's C·9 rows × H·W.
        var largest = 3 * c.imageSize * c.imageSize
        var largestColumns = 27 * c.imageSize * c.imageSize
        for widths in [c.channels, c.decoderWidths] {
            for i in 0..<c.levels {
                let side = c.imageSize >> i, plane = side * side
                largest = max(largest, widths[i] * plane)
                if i > 0 { largest = max(largest, 4 * widths[i - 1] * plane) }
                largestColumns = max(largestColumns, 9 * widths[i] * plane)
                if i == c.levels - 1 { largestColumns = max(largestColumns, 9 * c.bits * plane) }
            }
        }
        columnCapacity = largestColumns
        buffers = (0..<3).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: largest) }
        columns = UnsafeMutablePointer<Float>.allocate(capacity: largestColumns)
    }

    deinit {
        for b in buffers { b.deallocate() }
        columns.deallocate()
    }

    // MARK: Whole passes

    /// Image [3, S, S] in [-1, 1] (CHW) → latents z [bits, S/4, S/4] written to `output`.
    func encode(_ enc: TokenizerEncoder, image: UnsafePointer<Float>, side: Int, output: UnsafeMutablePointer<Float>) {
        let input = Activation(data: UnsafeMutablePointer(mutating: image), channels: 3, height: side, width: side)
        var h = conv(enc.convIn, input, into: buffers[0])
        for level in enc.levels {
            h = residualBlocks(level.blocks, h)
            if let down = level.transition {
                let t = silu(h, into: buffers[1])
                h = conv(down, t, into: buffers[0])
            }
        }
        let t = groupNormSiLU(enc.normOut, h, into: buffers[1])
        _ = conv(enc.convOut, t, into: output)
    }

    /// Quantised latents [bits, t, t] → image [3, S, S] (unclamped) written to `output`.
    func decode(_ dec: TokenizerDecoder, latents: UnsafePointer<Float>, bits: Int, side: Int, output: UnsafeMutablePointer<Float>) {
        let input = Activation(data: UnsafeMutablePointer(mutating: latents), channels: bits, height: side, width: side)
        var h = conv(dec.convIn, input, into: buffers[0])
        for level in dec.levels.reversed() {
            h = residualBlocks(level.blocks, h)
            if let up = level.transition {
                let t = silu(h, into: buffers[1])
                let wide = conv(up, t, into: buffers[2])
                h = pixelShuffle2(wide, into: buffers[0])
            }
        }
        let t = normSiLU(dec.normOut, h, into: buffers[1])
        _ = conv(dec.convOut, t, into: output)
    }

    /// Runs residual blocks in place on `h` (which lives in buffers[0]).
    private func residualBlocks(_ blocks: [TokenizerResBlock], _ h: Activation) -> Activation {
        for block in blocks {
            let a = normSiLU(block.norm1, h, into: buffers[1])
            let b = conv(block.conv1, a, into: buffers[2])
            let c = normSiLU(block.norm2, b, into: buffers[1])
            let d = conv(block.conv2, c, into: buffers[2])
            for i in 0..<h.count { h.data[i] += d.data[i] }
        }
        return h
    }

    // MARK: Kernels

    /// y = conv(x) + bias: a 1×1 stride-1 conv is one sgemm; others go through im2col.
    private func conv(_ layer: Conv2d, _ x: Activation, into out: UnsafeMutablePointer<Float>) -> Activation {
        let w = layer.weight, O = w.shape[0], k = w.shape[2], s = layer.stride, p = layer.padding
        let Ho = (x.height + 2 * p - k) / s + 1, Wo = (x.width + 2 * p - k) / s + 1
        let y = Activation(data: out, channels: O, height: Ho, width: Wo)
        if k == 1 && s == 1 && p == 0 {
            gemm(out, w.data, x.data, M: O, N: x.plane, K: x.channels)
        } else {
            precondition(x.channels * k * k * y.plane <= columnCapacity, "fast path: column buffer too small")
            im2col(x, kernel: k, stride: s, padding: p, outHeight: Ho, outWidth: Wo)
            gemm(out, w.data, columns, M: O, N: y.plane, K: x.channels * k * k)
        }
        if let bias = layer.bias {
            for o in 0..<O {
                let row = out + o * y.plane, b = bias.data[o]
                for i in 0..<y.plane { row[i] += b }
            }
        }
        return y
    }

    /// Column matrix [C·k·k, Ho·Wo] of `x` with zero padding into `columns`.
    private func im2col(_ x: Activation, kernel k: Int, stride s: Int, padding p: Int, outHeight Ho: Int, outWidth Wo: Int) {
        let H = x.height, W = x.width
        for c in 0..<x.channels {
            for ky in 0..<k {
                for kx in 0..<k {
                    let dst = columns + ((c * k + ky) * k + kx) * Ho * Wo
                    // Output columns whose input column ix = ox·s − p + kx lies inside the image.
                    let oxLo = max(0, (p - kx + s - 1) / s), oxHi = min(Wo, (W - 1 + p - kx) / s + 1)
                    for oy in 0..<Ho {
                        let row = dst + oy * Wo
                        let iy = oy * s - p + ky
                        if iy < 0 || iy >= H || oxLo >= oxHi {
                            row.update(repeating: 0, count: Wo)
                            continue
                        }
                        let src = x.data + (c * H + iy) * W
                        for ox in 0..<oxLo { row[ox] = 0 }
                        if s == 1 {
                            (row + oxLo).update(from: src + (oxLo - p + kx), count: oxHi - oxLo)
                        } else {
                            for ox in oxLo..<oxHi { row[ox] = src[ox * s - p + kx] }
                        }
                        for ox in oxHi..<Wo { row[ox] = 0 }
                    }
                }
            }
        }
    }

    /// silu(GroupNorm(x)): statistics per group as the engine's `groupNorm` (mean, then mean
    /// squared deviation, eps 1e-5), then the per-channel affine and SiLU in one sweep, eight
    /// lanes at a time (planes are multiples of 8 here; a scalar tail covers the rest).
    private func groupNormSiLU(_ norm: GroupNorm, _ x: Activation, into out: UnsafeMutablePointer<Float>) -> Activation {
        let G = norm.groups, perGroup = x.channels / G * x.plane
        let gain = norm.weight.data, shift = norm.bias.data
        for g in 0..<G {
            let src = x.data + g * perGroup
            let mean = laneSum(src, perGroup) { $0 } / Float(perGroup)
            let variance = laneSum(src, perGroup) { ($0 - mean) * ($0 - mean) } / Float(perGroup)
            let rstd = 1 / (variance + 1e-5).squareRoot()
            for cc in 0..<(x.channels / G) {
                let c = g * (x.channels / G) + cc
                let scale = rstd * gain[c], offset = shift[c] - mean * rstd * gain[c]
                siluAffine(x.data + c * x.plane, out + c * x.plane, x.plane, scale: scale, offset: offset)
            }
        }
        return Activation(data: out, channels: x.channels, height: x.height, width: x.width)
    }

    /// silu(norm(x)), or silu(x) where the layer has no norm.
    private func normSiLU(_ norm: GroupNorm?, _ x: Activation, into out: UnsafeMutablePointer<Float>) -> Activation {
        norm.map { groupNormSiLU($0, x, into: out) } ?? silu(x, into: out)
    }

    private func silu(_ x: Activation, into out: UnsafeMutablePointer<Float>) -> Activation {
        siluAffine(x.data, out, x.count, scale: 1, offset: 0)
        return Activation(data: out, channels: x.channels, height: x.height, width: x.width)
    }

    /// Same layout as `Tensor.pixelShuffle2`: channel 4c + 2dy + dx → pixel (2y + dy, 2x + dx) of c.
    private func pixelShuffle2(_ x: Activation, into out: UnsafeMutablePointer<Float>) -> Activation {
        let C = x.channels / 4, H = x.height, W = x.width
        for c in 0..<C {
            for dy in 0..<2 {
                for dx in 0..<2 {
                    let src = x.data + (4 * c + 2 * dy + dx) * H * W
                    let dst = out + c * 4 * H * W
                    for y in 0..<H {
                        let d = dst + (2 * y + dy) * 2 * W + dx, s = src + y * W
                        for xx in 0..<W { d[2 * xx] = s[xx] }
                    }
                }
            }
        }
        return Activation(data: out, channels: C, height: 2 * H, width: 2 * W)
    }
}

/// Σ f(x[i]) over eight partial sums (the compiler keeps a strict order for a single float
/// accumulator, which is several times slower).
@inline(__always)
private func laneSum(_ x: UnsafePointer<Float>, _ n: Int, _ f: (SIMD8<Float>) -> SIMD8<Float>) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var i = 0
    while i + 8 <= n {
        acc += f(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
        i += 8
    }
    var total = acc.sum()
    while i < n { total += f(SIMD8<Float>(repeating: x[i]))[0]; i += 1 }
    return total
}

/// y = silu(scale·x + offset) over n elements.
@inline(__always)
private func siluAffine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, scale: Float, offset: Float) {
    var i = 0
    while i + 8 <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) * scale + offset
        UnsafeMutableRawPointer(y + i).storeBytes(of: v / (1 + exp8(-v)), as: SIMD8<Float>.self)
        i += 8
    }
    while i < n { let v = x[i] * scale + offset; y[i] = v / (1 + expf(-v)); i += 1 }
}
