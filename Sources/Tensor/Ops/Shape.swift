// Shape operations: reshape (a view), transpose/permute/slice/concat (copies), and the
// broadcasting machinery the element-wise ops and reductions share.

/// Row-major strides of a contiguous shape.
@inline(__always) func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[d] = acc
        acc *= shape[d]
    }
    return strides
}

/// NumPy broadcasting of two shapes, or nil when they are incompatible.
public func broadcastShapes(_ a: [Int], _ b: [Int]) -> [Int]? {
    let n = max(a.count, b.count)
    var out = [Int](repeating: 1, count: n)
    for i in 0..<n {
        let da = i < n - a.count ? 1 : a[i - (n - a.count)]
        let db = i < n - b.count ? 1 : b[i - (n - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}

/// Strides for reading a tensor of `shape` as if it had `outShape` (0 on broadcast axes).
@inline(__always) func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let base = contiguousStrides(shape)
    let lead = outShape.count - shape.count
    var s = [Int](repeating: 0, count: outShape.count)
    for i in 0..<shape.count where shape[i] != 1 || outShape[lead + i] == 1 {
        s[lead + i] = shape[i] == 1 ? 0 : base[i]
    }
    return s
}

/// Calls `row(outOffset, aOffset, bOffset)` for every innermost row of `shape`, where the
/// offsets of `a` and `b` follow their (possibly zero) strides. The innermost axis has
/// length `shape.last` and strides `aStrides.last`, `bStrides.last`.
@inline(__always)
func forEachRow(_ shape: [Int], _ aStrides: [Int], _ bStrides: [Int], _ row: (Int, Int, Int) -> Void) {
    let rank = shape.count
    if rank == 0 { row(0, 0, 0); return }
    let inner = shape[rank - 1]
    let rows = shape.reduce(1, *) / max(inner, 1)
    if inner == 0 || rows == 0 { return }
    var idx = [Int](repeating: 0, count: rank)
    var ao = 0, bo = 0
    for r in 0..<rows {
        row(r * inner, ao, bo)
        // Increment the multi-index over all axes but the last.
        var d = rank - 2
        while d >= 0 {
            idx[d] += 1
            ao += aStrides[d]; bo += bStrides[d]
            if idx[d] < shape[d] { break }
            ao -= aStrides[d] * shape[d]; bo -= bStrides[d] * shape[d]
            idx[d] = 0
            d -= 1
        }
    }
}

/// Sums `g` (shape `from`) down to `shape` by adding over broadcast axes, accumulating into `out`.
/// Large reductions run on every worker, each into its own copy of `out`, added at the end.
func reduceBroadcast(_ g: UnsafePointer<Float>, from: [Int], into out: UnsafeMutablePointer<Float>, shape: [Int]) {
    if from == shape {
        vAddParallel(out, g, shape.reduce(1, *))
        return
    }
    let os = broadcastStrides(shape, to: from)
    let inner = from.last ?? 1
    let innerStride = os.last ?? 0
    var starts: [(g: Int, out: Int)] = []
    forEachRow(from, os, os) { go, oo, _ in starts.append((go, oo)) }
    let outCount = shape.reduce(1, *)
    starts.withUnsafeBufferPointer { starts in
        func addRows(_ lo: Int, _ hi: Int, into dst: UnsafeMutablePointer<Float>) {
            for r in lo..<hi {
                let src = g + starts[r].g, d = dst + starts[r].out
                if innerStride == 0 { d[0] += rowSum(src, inner) } else { vAdd(d, src, inner) }
            }
        }
        // Private copies only while they stay small next to the work they split.
        let minChunk = outCount <= (1 << 16) ? max(1, (1 << 15) / max(inner, 1)) : starts.count
        accumulateInParts(starts.count, minChunk: minChunk, width: outCount, into: out, addRows)
    }
}

/// Sums over `0..<count` split across the workers: `body(lo, hi, acc)` adds its range's share
/// into `acc` (`width` floats), a zeroed private buffer per worker, and the buffers are then
/// added into `out`. With one part `body` adds straight into `out`.
func accumulateInParts(_ count: Int, minChunk: Int, width: Int, into out: UnsafeMutablePointer<Float>,
                       _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
    let parts = Threading.parts(count, minChunk: minChunk)
    if parts <= 1 {
        body(0, count, out)
        return
    }
    let partial = UnsafeMutablePointer<Float>.allocate(capacity: parts * width)
    partial.initialize(repeating: 0, count: parts * width)
    defer { partial.deallocate() }
    Threading.parallelFor(parts) { p in body(count * p / parts, count * (p + 1) / parts, partial + p * width) }
    for p in 0..<parts { vAdd(out, partial + p * width, width) }
}

/// Σ x[0..<n], eight lanes at a time.
@inline(__always) func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var sum = SIMD8<Float>(repeating: 0)
    var j = 0
    while j < n { sum += load8(x + j, n - j); j += 8 }
    return sum.sum()
}

extension Tensor {
    /// A view with a new shape (same element count); one dimension may be -1.
    public func reshape(_ newShape: [Int]) -> Tensor {
        var shape = newShape
        if let i = shape.firstIndex(of: -1) {
            let known = shape.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(self.shape) to \(newShape)")
            shape[i] = count / known
        }
        precondition(shape.reduce(1, *) == count, "cannot reshape \(self.shape) to \(newShape)")
        let out = Tensor(shape: shape, storage: storage)
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            self.accumulateGrad(o.grad!.data)
        }
    }

    /// A view that records no graph (straight-through estimators, frozen features).
    public func detach() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// Reorders axes: `out.shape[i] = shape[axes[i]]` (a copy).
    public func permute(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "permute: \(axes) is not a permutation of 0..<\(rank)")
        let outShape = axes.map { shape[$0] }
        let inStrides = contiguousStrides(shape)
        let readStrides = axes.map { inStrides[$0] }
        let out = Tensor(uninitialized: outShape)
        permuteCopy(src: data, srcStrides: readStrides, dst: out.data, shape: outShape, accumulate: false)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            // dx = permute(dy, inverse)
            let g = self.gradBuffer()
            let gStrides = contiguousStrides(outShape)
            permuteCopy(src: o.grad!.data, srcStrides: inverse.map { gStrides[$0] }, dst: g.data, shape: self.shape, accumulate: true)
        }
    }

    /// Swaps two axes (a copy).
    public func transpose(_ a: Int, _ b: Int) -> Tensor {
        var axes = Array(0..<rank)
        axes.swapAt(a < 0 ? rank + a : a, b < 0 ? rank + b : b)
        return permute(axes)
    }

    /// Elements `range` along `axis` (a copy).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = axis < 0 ? rank + axis : axis
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax], "slice \(range) out of bounds for axis \(ax) of \(shape)")
        var outShape = shape
        outShape[ax] = range.count
        let outer = shape[..<ax].reduce(1, *)
        let inner = shape[(ax + 1)...].reduce(1, *)
        let out = Tensor(uninitialized: outShape)
        let len = range.count * inner, srcRow = shape[ax] * inner, off = range.lowerBound * inner
        for o in 0..<outer { (out.data + o * len).update(from: data + o * srcRow + off, count: len) }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            let g = self.gradBuffer()
            for r in 0..<outer { vAdd(g.data + r * srcRow + off, o.grad!.data + r * len, len) }
        }
    }

    /// Concatenates tensors along `axis` (all other dimensions equal).
    public static func concat(_ parts: [Tensor], axis: Int) -> Tensor {
        precondition(!parts.isEmpty, "concat of nothing")
        let rank = parts[0].rank
        let ax = axis < 0 ? rank + axis : axis
        for p in parts {
            precondition(p.rank == rank && (0..<rank).allSatisfy { $0 == ax || p.shape[$0] == parts[0].shape[$0] },
                         "concat: shapes \(parts.map(\.shape)) differ off axis \(ax)")
        }
        var outShape = parts[0].shape
        outShape[ax] = parts.map { $0.shape[ax] }.reduce(0, +)
        let outer = outShape[..<ax].reduce(1, *)
        let inner = outShape[(ax + 1)...].reduce(1, *)
        let outRow = outShape[ax] * inner
        let out = Tensor(uninitialized: outShape)
        var offsets: [Int] = []
        var off = 0
        for p in parts {
            offsets.append(off)
            let len = p.shape[ax] * inner
            for o in 0..<outer { (out.data + o * outRow + off).update(from: p.data + o * len, count: len) }
            off += len
        }
        return Tensor.result(out, inputs: parts) { o in
            for (p, off) in zip(parts, offsets) where p.requiresGrad {
                let g = p.gradBuffer()
                let len = p.shape[ax] * inner
                for r in 0..<outer { vAdd(g.data + r * len, o.grad!.data + r * outRow + off, len) }
            }
        }
    }
}

/// dst[i] (=|+=) src[strided i] for a contiguous `dst` of `shape`.
func permuteCopy(src: UnsafePointer<Float>, srcStrides: [Int], dst: UnsafeMutablePointer<Float>, shape: [Int], accumulate: Bool) {
    let inner = shape.last ?? 1
    let innerStride = srcStrides.last ?? 1
    forEachRow(shape, srcStrides, srcStrides) { dOff, sOff, _ in
        if accumulate {
            for j in 0..<inner { dst[dOff + j] += src[sOff + j * innerStride] }
        } else {
            for j in 0..<inner { dst[dOff + j] = src[sOff + j * innerStride] }
        }
    }
}
