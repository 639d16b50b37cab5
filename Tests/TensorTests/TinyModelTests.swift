import Testing
@testable import Tensor
import TestSupport

/// A minimal transformer block LM built only from engine ops:
/// embedding → RMS/LayerNorm → causal attention with RoPE → residual → LayerNorm → GELU MLP →
/// residual → head → cross-entropy.
struct TinyLM {
    let V: Int, D: Int, H: Int, T: Int
    var params: [Parameter] = []

    init(V: Int, D: Int, H: Int, T: Int, seed: UInt64) {
        self.V = V; self.D = D; self.H = H; self.T = T
        var rng = RNG(seed: seed)
        func p(_ name: String, _ shape: [Int], std: Float) { params.append(Parameter(name: name, tensor: Tensor.randn(shape, std: std, rng: &rng))) }
        p("embed.weight", [V, D], std: 0.5)
        p("ln1.weight", [D], std: 0.1); p("ln1.bias", [D], std: 0.1)
        p("attn.wqkv.weight", [3 * D, D], std: 0.3)
        p("attn.wo.weight", [D, D], std: 0.3)
        p("ln2.weight", [D], std: 0.1); p("ln2.bias", [D], std: 0.1)
        p("mlp.fc1.weight", [2 * D, D], std: 0.3); p("mlp.fc1.bias", [2 * D], std: 0.1)
        p("mlp.fc2.weight", [D, 2 * D], std: 0.3)
        p("head.weight", [V, D], std: 0.3)
        // Norm gains start near 1.
        for q in params where q.name.hasSuffix("ln1.weight") || q.name.hasSuffix("ln2.weight") {
            for i in 0..<q.tensor.count { q.tensor.data[i] += 1 }
        }
    }

    func loss(_ tokens: [[Int]], targets: [[Int]], weights w: [Tensor]) -> Tensor {
        let B = tokens.count
        var m = [Float](repeating: 0, count: T * T)
        for t in 0..<T { for s in (t + 1)..<T { m[t * T + s] = -.infinity } }
        let mask = Tensor(shape: [T, T], values: m)
        let x = w[0].embedding(tokens.flatMap { $0 }).reshape([B, T, D])
        let h1 = x.layerNorm(weight: w[1], bias: w[2])
        let qkv = h1.linear(w[3])
        let q = qkv.slice(axis: 2, 0..<D).rope(positions: Array(0..<T), heads: H)
        let k = qkv.slice(axis: 2, D..<(2 * D)).rope(positions: Array(0..<T), heads: H)
        let v = qkv.slice(axis: 2, (2 * D)..<(3 * D))
        let h = x + q.attention(k: k, v: v, heads: H, mask: mask).linear(w[4])
        let h2 = h.layerNorm(weight: w[5], bias: w[6])
        let out = h + h2.linear(w[7], w[8]).gelu().linear(w[9])
        return out.linear(w[10]).reshape([B * T, V]).crossEntropy(targets: targets.flatMap { $0 })
    }
}

@Suite struct TinyModelTests {
    @Test func wholeModelGradientCheck() {
        let model = TinyLM(V: 7, D: 8, H: 2, T: 5, seed: 1)
        let tokens = [[1, 4, 2, 6, 0], [3, 3, 5, 1, 2]]
        let targets = [[4, 2, 6, 0, -100], [3, 5, 1, 2, 6]]
        GradCheck(samplesPerInput: 24).run(model.params.map(\.tensor)) { w in
            model.loss(tokens, targets: targets, weights: w).reshape([1])
        }
    }

    @Test func overfitsOneBatch() {
        let model = TinyLM(V: 11, D: 32, H: 4, T: 8, seed: 2)
        var rng = RNG(seed: 3)
        let tokens = (0..<4).map { _ in (0..<8).map { _ in rng.int(11) } }
        let targets = tokens.map { Array($0.dropFirst()) + [0] }
        let opt = AdamW(parameters: model.params, learningRate: 3e-3, weightDecay: 0)
        let w = model.params.map(\.tensor)
        var first: Float = 0, last: Float = 0
        for step in 0..<300 {
            opt.zeroGrad()
            let l = model.loss(tokens, targets: targets, weights: w)
            if step == 0 { first = l.item }
            last = l.item
            l.backward()
            clipGradNorm(model.params, maxNorm: 1)
            opt.update()
        }
        #expect(first > 1.5)
        #expect(last < 0.05, "loss went from \(first) to \(last)")
    }
}
