import Testing
@testable import Tensor

@Suite struct OptimTests {
    @Test func adamWFirstStepMatchesHandComputation() {
        let w = Tensor(shape: [2, 2], values: [1, -2, 3, 0.5])
        let p = Parameter(name: "layer.weight", tensor: w)
        #expect(p.decay)
        let opt = AdamW(parameters: [p], learningRate: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01)
        w.grad = Tensor(shape: [2, 2], values: [0.5, -1, 2, 0])
        opt.update()
        // Step 1: m̂ = g, v̂ = g², so the update is lr·sign(g) (0 where g = 0), plus decay lr·wd·w.
        let expected: [Float] = [1 - 0.1 - 0.001, -2 + 0.1 + 0.002, 3 - 0.1 - 0.003, 0.5 - 0.0005]
        for (a, b) in zip(w.values, expected) { #expect(Swift.abs(a - b) < 1e-5) }
    }

    /// A parameter's rate scale multiplies its step and its decay; the others' are unchanged.
    @Test func rateScalesMultiplyTheStepAndTheDecay() {
        let a = Tensor(shape: [1, 2], values: [1, -1]), b = Tensor(shape: [1, 2], values: [1, -1])
        let opt = AdamW(parameters: [Parameter(name: "a.weight", tensor: a), Parameter(name: "b.weight", tensor: b)],
                        learningRate: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01)
        #expect(opt.rateScales == [1, 1])
        opt.rateScales = [1, 3]
        a.grad = Tensor(shape: [1, 2], values: [2, -2]); b.grad = Tensor(shape: [1, 2], values: [2, -2])
        opt.update()
        // Step 1 moves by lr·sign(g) plus the decay lr·wd·w, each times the scale.
        for (got, want) in zip(a.values, [1 - 0.1 - 0.001, -1 + 0.1 + 0.001] as [Float]) { #expect(Swift.abs(got - want) < 1e-6) }
        for (got, want) in zip(b.values, [1 - 0.3 - 0.003, -1 + 0.3 + 0.003] as [Float]) { #expect(Swift.abs(got - want) < 1e-6) }
    }

    @Test func noDecayOnBiasesNormsAndEmbeddings() {
        #expect(!Parameter.defaultDecay(name: "fc.bias", shape: [4]))
        #expect(!Parameter.defaultDecay(name: "ln1.weight", shape: [4]))
        #expect(!Parameter.defaultDecay(name: "embed.weight", shape: [10, 4]))
        #expect(Parameter.defaultDecay(name: "fc.weight", shape: [4, 4]))
    }

    @Test func clippingScalesToMaxNorm() {
        let w = Tensor(zeros: [2])
        let p = Parameter(name: "w", tensor: w)
        w.grad = Tensor(shape: [2], values: [3, 4])
        let before = clipGradNorm([p], maxNorm: 1)
        #expect(Swift.abs(before - 5) < 1e-5)
        #expect(Swift.abs(w.grad!.values[0] - 0.6) < 1e-4 && Swift.abs(w.grad!.values[1] - 0.8) < 1e-4)
    }

    @Test func warmupThenCosine() {
        let s = WarmupCosine(peak: 1, minLR: 0.1, warmupSteps: 10, totalSteps: 110)
        #expect(Swift.abs(s.rate(at: 0) - 0.1) < 1e-6)
        #expect(Swift.abs(s.rate(at: 9) - 1) < 1e-6)
        #expect(Swift.abs(s.rate(at: 60) - 0.55) < 1e-5)
        #expect(Swift.abs(s.rate(at: 110) - 0.1) < 1e-6)
        #expect(s.rate(at: 30) > s.rate(at: 80))
    }

    @Test func rngIsDeterministicAndResumable() {
        var a = RNG(seed: 42)
        _ = (0..<10).map { _ in a.next() }
        var b = a  // a checkpointed state continues identically
        #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })
        var c = RNG(seed: 43)
        #expect(RNG(seed: 42).state != c.state)
        let u = (0..<1000).map { _ in c.uniform() }
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(Swift.abs(u.reduce(0, +) / 1000 - 0.5) < 0.05)
    }
}
