import Foundation

/// Geometric operations and image comparison on `RGBImage`. All functions are total: sizes are
/// clamped and rectangles clipped rather than trapping, because they are fed from CLI options.
public enum ImageOps {
    /// Resamples to `width`x`height` (each clamped to `1...ImageLimits.maxSide`).
    ///
    /// Separable, chosen per axis: **area averaging** where that axis shrinks (each output pixel
    /// is the mean of the source area it covers, with fractional edge weights — an integer factor
    /// averages whole blocks exactly) and **bilinear** interpolation with pixel-centre alignment
    /// where it grows. Results are rounded half away from zero.
    public static func resize(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        let dstW = min(max(width, 1), ImageLimits.maxSide)
        let dstH = min(max(height, 1), ImageLimits.maxSide)
        if dstW == image.width && dstH == image.height { return image }

        let horizontal = AxisWeights(source: image.width, destination: dstW)
        let vertical = AxisWeights(source: image.height, destination: dstH)
        let srcW = image.width, srcH = image.height

        // Pass 1: rows resampled horizontally, kept in Float so pass 2 rounds only once.
        var rows = [Float](repeating: 0, count: srcH * dstW * 3)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<srcH {
                let srcRow = y * srcW * 3, dstRow = y * dstW * 3
                for x in 0..<dstW {
                    var r: Float = 0, g: Float = 0, b: Float = 0
                    for k in horizontal.range(x) {
                        let w = horizontal.weights[k], o = srcRow + horizontal.indices[k] * 3
                        r += w * Float(src[o]); g += w * Float(src[o + 1]); b += w * Float(src[o + 2])
                    }
                    rows[dstRow + x * 3] = r; rows[dstRow + x * 3 + 1] = g; rows[dstRow + x * 3 + 2] = b
                }
            }
        }

        // Pass 2: rows of pass 1 blended vertically (row-at-a-time, contiguous), rounded to bytes.
        var out = [UInt8](repeating: 0, count: dstW * dstH * 3)
        let rowStride = dstW * 3
        var accumulator = [Float](repeating: 0, count: rowStride)
        for y in 0..<dstH {
            for i in 0..<rowStride { accumulator[i] = 0 }
            for k in vertical.range(y) {
                let w = vertical.weights[k], srcRow = vertical.indices[k] * rowStride
                for i in 0..<rowStride { accumulator[i] += w * rows[srcRow + i] }
            }
            let dstRow = y * rowStride
            for i in 0..<rowStride {
                out[dstRow + i] = UInt8(min(max(accumulator[i].rounded(), 0), 255))
            }
        }
        return RGBImage(width: dstW, height: dstH, pixels: out)
    }

    /// Each pixel becomes a `factor`x`factor` block (pixel-art preview of 64x64 samples).
    /// `factor` is clamped so the result stays within `ImageLimits.maxSide`.
    public static func nearestUpscale(_ image: RGBImage, factor: Int) -> RGBImage {
        let f = min(max(factor, 1), max(1, ImageLimits.maxSide / max(image.width, image.height)))
        if f == 1 { return image }
        let dstW = image.width * f, dstH = image.height * f
        var out = [UInt8](repeating: 0, count: dstW * dstH * 3)
        for y in 0..<image.height {
            // Build one widened row, then copy it f times.
            let rowStart = y * f * dstW * 3
            for x in 0..<image.width {
                let s = (y * image.width + x) * 3
                for dx in 0..<f {
                    let d = rowStart + (x * f + dx) * 3
                    out[d] = image.pixels[s]; out[d + 1] = image.pixels[s + 1]; out[d + 2] = image.pixels[s + 2]
                }
            }
            for dy in 1..<f {
                let d = rowStart + dy * dstW * 3
                out.replaceSubrange(d..<(d + dstW * 3), with: out[rowStart..<(rowStart + dstW * 3)])
            }
        }
        return RGBImage(width: dstW, height: dstH, pixels: out)
    }

    /// The `width`x`height` window whose top-left corner is at (`x`, `y`) in `image`.
    /// The window may hang over the edges (or miss the image entirely): uncovered parts are
    /// `fill`. Sizes are clamped to `1...ImageLimits.maxSide`.
    public static func crop(_ image: RGBImage, x: Int, y: Int, width: Int, height: Int,
                            fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) -> RGBImage {
        let w = min(max(width, 1), ImageLimits.maxSide), h = min(max(height, 1), ImageLimits.maxSide)
        var out = RGBImage(width: w, height: h, fill: fill)
        paste(image, into: &out, x: -x, y: -y)
        return out
    }

    /// Copies `source` into `destination` with its top-left corner at (`x`, `y`); whatever falls
    /// outside `destination` is clipped (negative offsets are fine).
    public static func paste(_ source: RGBImage, into destination: inout RGBImage, x: Int, y: Int) {
        let x0 = max(x, 0), x1 = min(x + source.width, destination.width)
        let y0 = max(y, 0), y1 = min(y + source.height, destination.height)
        guard x0 < x1, y0 < y1 else { return }
        let count = (x1 - x0) * 3
        for dy in y0..<y1 {
            let s = ((dy - y) * source.width + (x0 - x)) * 3
            let d = (dy * destination.width + x0) * 3
            destination.pixels.replaceSubrange(d..<(d + count), with: source.pixels[s..<(s + count)])
        }
    }

    /// Peak signal-to-noise ratio in dB over all three channels, peak 255:
    /// `10·log10(255² / MSE)`. `+infinity` for identical images, `nan` when sizes differ.
    public static func psnr(_ a: RGBImage, _ b: RGBImage) -> Double {
        guard a.width == b.width, a.height == b.height else { return .nan }
        var squared: Int = 0
        for i in 0..<a.pixels.count {
            let d = Int(a.pixels[i]) - Int(b.pixels[i])
            squared += d * d
        }
        if squared == 0 { return .infinity }
        let mse = Double(squared) / Double(a.pixels.count)
        return 10 * log10(255 * 255 / mse)
    }
}

/// For each output index along one axis, the source indices and weights that make it up
/// (flattened; `range(i)` selects output i's entries). Weights of one output sum to 1.
struct AxisWeights {
    var indices: [Int] = []
    var weights: [Float] = []
    private var starts: [Int] = [0]

    init(source: Int, destination: Int) {
        if destination < source {
            // Area: output i covers source interval [i·s, (i+1)·s).
            let scale = Double(source) / Double(destination)
            for i in 0..<destination {
                let lo = Double(i) * scale, hi = Double(i + 1) * scale
                var j = Int(lo.rounded(.down))
                while Double(j) < hi && j < source {
                    let overlap = min(hi, Double(j + 1)) - max(lo, Double(j))
                    if overlap > 1e-9 { append(j, overlap / scale) }
                    j += 1
                }
                starts.append(indices.count)
            }
        } else {
            // Bilinear between the two nearest source centres, clamped at the borders.
            let scale = Double(source) / Double(destination)
            for i in 0..<destination {
                let position = min(max((Double(i) + 0.5) * scale - 0.5, 0), Double(source - 1))
                let j0 = Int(position.rounded(.down)), f = position - Double(j0)
                if f > 1e-9 && j0 + 1 < source {
                    append(j0, 1 - f); append(j0 + 1, f)
                } else {
                    append(j0, 1)
                }
                starts.append(indices.count)
            }
        }
    }

    private mutating func append(_ index: Int, _ weight: Double) {
        indices.append(index); weights.append(Float(weight))
    }

    @inline(__always) func range(_ i: Int) -> Range<Int> { starts[i]..<starts[i + 1] }
}
