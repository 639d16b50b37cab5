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
        for r in rows { precondition(r >= 0 && r < N, "indexSelect: row \(r) outside 0..<\(N)") }
        var outShape = shape
        outShape[0] = rows.count
        let out = Tensor(uninitialized: outShape)
        gatherRows(out.data, from: data, rows: rows, D: D)
        return Tensor.result(out, inputs: [self]) { [unowned self] o in
            scatterAddRows(into: self.gradBuffer().data, N: N, D: D, [(rows, UnsafePointer(o.grad!.data))])
        }
    }

    /// `self` ([N, D...]) plus `src` ([rows.count, D...]) added at `rows` (repeats accumulate).
    public func indexAdd(rows: [Int], _ src: Tensor) -> Tensor {
        indexAdd([(rows, src)])
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
        for (rows, src) in parts {
            precondition(src.shape[0] == rows.count && src.count == rows.count * D, "indexAdd: src \(src.shape) for \(rows.count) rows of \(shape)")
            for r in rows { precondition(r >= 0 && r < N, "indexAdd: row \(r) outside 0..<\(N)") }
        }
        let out = Tensor(uninitialized: shape)
        scatterAddRows(into: out.data, N: N, D: D, parts.map { ($0.rows, UnsafePointer($0.src.data)) }, base: data)
        return Tensor.result(out, inputs: [self] + parts.map(\.src)) { [unowned self] o in
            let go = o.grad!.data
            if self.requiresGrad { self.accumulateGrad(go) }
            for (rows, src) in parts where src.requiresGrad {
                gatherRows(src.gradBuffer().data, from: go, rows: rows, D: D, accumulate: true)
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

/// dst[i] = src[rows[i]] (or += with `accumulate`), rows of D floats, split over the workers.
func gatherRows(_ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, rows: [Int], D: Int, accumulate: Bool = false) {
    rows.withUnsafeBufferPointer { rows in
        Threading.parallelChunks(rows.count, minChunk: max(1, (1 << 14) / max(D, 1))) { lo, hi in
            for i in lo..<hi {
                if accumulate { vAdd(dst + i * D, src + rows[i] * D, D) } else { (dst + i * D).update(from: src + rows[i] * D, count: D) }
            }
        }
    }
}

/// dst[rows[i]] += src[i] for every part (repeated rows accumulate), after dst = base when
/// given. Each worker owns a range of destination rows and scans every part for its own, so
/// repeats never race.
func scatterAddRows(into dst: UnsafeMutablePointer<Float>, N: Int, D: Int, _ parts: [(rows: [Int], src: UnsafePointer<Float>)],
                    base: UnsafePointer<Float>? = nil) {
    let entries = parts.reduce(0) { $0 + $1.rows.count }
    // About 16k floats of copying and adding per worker at least.
    Threading.parallelChunks(N, minChunk: max(1, N * (1 << 14) / max((N + entries) * D, 1))) { lo, hi in
        if let base { (dst + lo * D).update(from: base + lo * D, count: (hi - lo) * D) }
        for (rows, src) in parts {
            for (i, r) in rows.enumerated() where r >= lo && r < hi { vAdd(dst + r * D, src + i * D, D) }
        }
    }
}
