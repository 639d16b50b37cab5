import Tensor

/// A feed-forward expert: fc2(GELU(fc1(u))).
public final class Expert: Layer {
    public let fc1: Linear
    public let fc2: Linear

    init(dim: Int, hidden: Int, outStd: Float, rng: inout RNG) {
        fc1 = Linear(dim, hidden, std: 0.02, rng: &rng)
        fc2 = Linear(hidden, dim, std: outStd, rng: &rng)
    }

    public func callAsFunction(_ u: Tensor) -> Tensor { fc2(fc1(u).gelu()) }

    public func parameters(prefix: String) -> [Parameter] { collectParameters(prefix, [("fc1", fc1), ("fc2", fc2)]) }
}

/// What one token-level MoE call decided, for the routing trace and the balance loss.
public struct TokenRouting: Sendable {
    /// Tokens routed (rows of the input).
    public var tokens: Int
    /// For each token, its `k` chosen routed experts (flat, k per token).
    public var chosen: [Int]
    /// The gate value of each choice (flat, k per token).
    public var gates: [Float]
    public var experts: Int
    public var k: Int

    public init(tokens: Int, chosen: [Int], gates: [Float], experts: Int, k: Int) {
        self.tokens = tokens; self.chosen = chosen; self.gates = gates; self.experts = experts; self.k = k
    }

    /// Fraction of counted tokens that chose each routed expert (sums to k over experts).
    public func frequencies(counting rows: [Int]? = nil) -> [Double] {
        var f = [Double](repeating: 0, count: experts)
        let rows = rows ?? Array(0..<tokens)
        for r in rows { for s in 0..<k { f[chosen[r * k + s]] += 1 } }
        return f.map { $0 / Double(max(rows.count, 1)) }
    }
}

/// Where a worker leaves one expert's gated output (each worker writes only its own).
private final class ExpertOutput: @unchecked Sendable {
    var value: Tensor?
}

/// DeepSeekMoE-style token-level mixture for one task group: shared experts always on
/// (unweighted) plus top-k of `routed` experts chosen by a softmax router, tokens dispatched
/// per expert so each expert runs one matmul. With `dense` the routed part is replaced by a
/// dense MLP of the same active width (the Tab. 4 "token MoE off" row).
public final class TokenMoE: Layer {
    public let shared: [Expert]
    public let routed: [Expert]
    public let router: Linear?
    public let k: Int
    public let renormalize: Bool

    init(config c: ModelConfig, outStd: Float, rng: inout RNG) {
        if c.tokenMoE {
            shared = (0..<c.sharedExperts).map { _ in Expert(dim: c.dModel, hidden: c.expertHidden, outStd: outStd, rng: &rng) }
            routed = (0..<c.routedExperts).map { _ in Expert(dim: c.dModel, hidden: c.expertHidden, outStd: outStd, rng: &rng) }
            router = Linear(c.dModel, c.routedExperts, bias: false, std: 0.02, rng: &rng)
        } else {
            let width = c.expertHidden * (c.sharedExperts + c.expertsPerToken)
            shared = [Expert(dim: c.dModel, hidden: width, outStd: outStd, rng: &rng)]
            routed = []
            router = nil
        }
        k = c.expertsPerToken
        renormalize = c.renormalizeGates
    }

    /// Mixes `u` [N, d]. Returns the output, the routing decisions, and the router's softmax
    /// scores [N, E] (the balance loss needs them), or nils for a dense layer.
    public func callAsFunction(_ u: Tensor) -> (out: Tensor, routing: TokenRouting?, scores: Tensor?) {
        guard let router else {
            var out = shared.first.map { $0(u) } ?? u * 0
            for e in shared.dropFirst() { out = out + e(u) }
            return (out, nil, nil)
        }
        let N = u.shape[0], E = routed.count
        let scores = router(u).softmax()
        var (gates, chosen) = scores.topK(k)
        if renormalize { gates = gates / gates.sum(axes: [1], keepDims: true) }
        // Dispatch: the rows (and gate slots) that chose each expert.
        var rowsPerExpert = [[Int]](repeating: [], count: E)
        var slotsPerExpert = [[Int]](repeating: [], count: E)
        for r in 0..<N { for s in 0..<k { let e = chosen[r * k + s]; rowsPerExpert[e].append(r); slotsPerExpert[e].append(r * k + s) } }
        let flatGates = gates.reshape([N * k, 1])
        let used = (0..<E).filter { !rowsPerExpert[$0].isEmpty }
        // Tasks: the shared experts on every row, then each used routed expert on its rows.
        let outputs = (0..<(shared.count + used.count)).map { _ in ExpertOutput() }
        func runExpert(_ i: Int) {
            if i < shared.count {
                outputs[i].value = shared[i](u)
                return
            }
            let e = used[i - shared.count]
            let y = routed[e](u.indexSelect(rows: rowsPerExpert[e]))
            outputs[i].value = y * flatGates.indexSelect(rows: slotsPerExpert[e])
        }
        if GradMode.isEnabled || N < 64 {
            // Training: a few hundred rows per expert, large enough to split each op. Decoding:
            // one row, too little to hand to another thread at all.
            for i in outputs.indices { runExpert(i) }
        } else {
            // Inference: each expert, shared ones included, whole on one worker. Its matmuls
            // are small (a MaskGIT step gives a routed expert ~150 rows): splitting each op in
            // two costs more in hand-offs than it gains. Measured: a MaskGIT step 40 → 36 ms.
            Threading.parallelTasks(costs: shared.map { _ in N } + used.map { rowsPerExpert[$0].count }, runExpert)
        }
        var out = shared.isEmpty ? u * 0 : outputs[0].value!
        for i in shared.indices.dropFirst() { out = out + outputs[i].value! }
        out = out.indexAdd(zip(used, outputs.dropFirst(shared.count)).map { (rowsPerExpert[$0], $1.value!) })
        let routing = TokenRouting(tokens: N, chosen: chosen, gates: gates.values, experts: E, k: k)
        return (out, routing, scores)
    }

    /// Expert-level balance loss on the given rows: λ·Σ_i f_i·P_i with
    /// f_i = (E/(k·T))·#{tokens choosing i} (a constant) and P_i = mean_t s_{i,t}.
    public static func balanceLoss(scores: Tensor, routing: TokenRouting, rows: [Int], weight: Float) -> Tensor {
        let E = routing.experts
        let counted = scores.indexSelect(rows: rows)
        let P = counted.mean(axes: [0])
        let f = routing.frequencies(counting: rows).map { Float($0) * Float(E) / Float(routing.k) }
        return (P * Tensor(shape: [E], values: f)).sum() * weight
    }

    public func parameters(prefix: String) -> [Parameter] {
        var children: [(String, Layer?)] = shared.enumerated().map { ("shared.\($0.offset)", $0.element) }
        children += routed.enumerated().map { ("experts.\($0.offset)", $0.element) }
        children.append(("router", router))
        return collectParameters(prefix, children)
    }
}
