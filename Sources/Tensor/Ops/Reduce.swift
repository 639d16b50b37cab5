// Sums and means over axes; their backward broadcasts the gradient back.

extension Tensor {
    /// Sum over `axes` (all axes when nil). With `keepDims` the reduced axes stay as size 1.
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = Set((axes ?? Array(0..<rank)).map { $0 < 0 ? rank + $0 : $0 })
        let kept = shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let outShape = keepDims ? kept : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        let out = Tensor(zeros: outShape)
        reduceBroadcast(data, from: shape, into: out.data, shape: kept)
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            // Broadcast dL/dout back over the reduced axes.
            let g = self.gradBuffer().data
            let gs = broadcastStrides(kept, to: self.shape)
            let inner = self.shape.last ?? 1, step = gs.last ?? 0
            let go = o.grad!.data
            forEachRow(self.shape, gs, gs) { xo, oo, _ in
                for j in 0..<inner { g[xo + j] += go[oo + j * step] }
            }
        }
    }

    /// Mean over `axes` (all axes when nil).
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let ax = (axes ?? Array(0..<rank)).map { $0 < 0 ? rank + $0 : $0 }
        let n = Set(ax).map { shape[$0] }.reduce(1, *)
        return sum(axes: ax, keepDims: keepDims) * (1 / Float(max(n, 1)))
    }
}
