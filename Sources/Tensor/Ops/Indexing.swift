// Gathers and scatters: embedding lookup, row selection / addition for expert dispatch,
// top-k selection.

extension Tensor {
    /// Embedding lookup: rows `ids` of `self` ([V, D]) → [ids.count, D]; backward scatter-adds.
    public func embedding(_ ids: [Int]) -> Tensor {
        precondition(rank == 2, "embedding table must be [V, D], got \(shape)")
        return indexSelect(rows: ids)
    }

    /// Rows `rows` of `self` viewed as [N, D] (D = product of trailing dims) → [rows.count, D...].
    public func indexSelect(rows: [Int]) -> Tensor {
        let N = shape[0], D = count / max(N, 1)
        var outShape = shape
        outShape[0] = rows.count
        let out = Tensor(uninitialized: outShape)
        let x = data
        for (i, r) in rows.enumerated() {
            precondition(r >= 0 && r < N, "indexSelect: row \(r) outside 0..<\(N)")
            (out.data + i * D).update(from: x + r * D, count: D)
        }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            let g = self.gradBuffer().data, go = o.grad!.data
            for (i, r) in rows.enumerated() { vAdd(g + r * D, go + i * D, D) }
        }
    }

    /// `self` ([N, D...]) plus `src` ([rows.count, D...]) added at `rows` (repeats accumulate).
    public func indexAdd(rows: [Int], _ src: Tensor) -> Tensor {
        let N = shape[0], D = count / max(N, 1)
        precondition(src.shape[0] == rows.count && src.count == rows.count * D, "indexAdd: src \(src.shape) for \(rows.count) rows of \(shape)")
        let out = detached()
        for (i, r) in rows.enumerated() {
            precondition(r >= 0 && r < N, "indexAdd: row \(r) outside 0..<\(N)")
            vAdd(out.data + r * D, src.data + i * D, D)
        }
        return Tensor.result(out, inputs: [self, src]) { [unowned self] o in
            let go = o.grad!.data
            if self.requiresGrad { self.accumulateGrad(go) }
            if src.requiresGrad {
                let gs = src.gradBuffer().data
                for (i, r) in rows.enumerated() { vAdd(gs + i * D, go + r * D, D) }
            }
        }
    }

    /// The `k` largest entries of each row of the last axis, in descending order (ties: lower
    /// index first). Returns the values (differentiable: the gradient flows to the chosen
    /// entries) and their indices.
    public func topK(_ k: Int) -> (values: Tensor, indices: [Int]) {
        let n = shape[rank - 1], rows = count / max(n, 1)
        precondition(k >= 1 && k <= n, "topK: k = \(k) for rows of \(n)")
        var outShape = shape
        outShape[rank - 1] = k
        let out = Tensor(uninitialized: outShape)
        var indices = [Int](repeating: 0, count: rows * k)
        let x = data
        for r in 0..<rows {
            let xr = x + r * n
            // k is tiny (2 for MoE routing): repeated selection beats sorting.
            for s in 0..<k {
                var best = -1
                var bestV = -Float.infinity
                for j in 0..<n {
                    if (0..<s).contains(where: { indices[r * k + $0] == j }) { continue }
                    if best < 0 || xr[j] > bestV { best = j; bestV = xr[j] }
                }
                indices[r * k + s] = best
                out.data[r * k + s] = bestV
            }
        }
        let result = Tensor.result(out, inputs: [self]) { [unowned self] o in
            let g = self.gradBuffer().data, go = o.grad!.data
            for r in 0..<rows { for s in 0..<k { g[r * n + indices[r * k + s]] += go[r * k + s] } }
        }
        return (result, indices)
    }
}

extension Tensor {
    /// `self` ([N, D...]) plus each part's rows added at its `rows` — one copy of `self` for
    /// any number of parts (mixture-of-experts combine).
    public func indexAdd(_ parts: [(rows: [Int], src: Tensor)]) -> Tensor {
        let N = shape[0], D = count / max(N, 1)
        let out = detached()
        for (rows, src) in parts {
            precondition(src.count == rows.count * D, "indexAdd: src \(src.shape) for \(rows.count) rows of \(shape)")
            for (i, r) in rows.enumerated() {
                precondition(r >= 0 && r < N, "indexAdd: row \(r) outside 0..<\(N)")
                vAdd(out.data + r * D, src.data + i * D, D)
            }
        }
        return Tensor.result(out, inputs: [self] + parts.map(\.src)) { [unowned self] o in
            let go = o.grad!.data
            if self.requiresGrad { self.accumulateGrad(go) }
            for (rows, src) in parts where src.requiresGrad {
                let gs = src.gradBuffer().data
                for (i, r) in rows.enumerated() { vAdd(gs + i * D, go + r * D, D) }
            }
        }
    }

    /// Picks one entry per row of the last axis: out[r] = self[r, columns[r]] → [rows].
    public func gatherColumns(_ columns: [Int]) -> Tensor {
        let n = shape[rank - 1], rows = count / max(n, 1)
        precondition(columns.count == rows, "gatherColumns: \(columns.count) columns for \(rows) rows")
        let out = Tensor(uninitialized: [rows])
        for r in 0..<rows {
            precondition(columns[r] >= 0 && columns[r] < n, "gatherColumns: column \(columns[r]) outside 0..<\(n)")
            out.data[r] = data[r * n + columns[r]]
        }
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            let g = self.gradBuffer().data, go = o.grad!.data
            for r in 0..<rows { g[r * n + columns[r]] += go[r] }
        }
    }
}
