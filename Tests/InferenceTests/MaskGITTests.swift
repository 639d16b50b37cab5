import Foundation
import Testing
import Tensor
@testable import Inference

@Suite struct MaskGITStateTests {
    /// Runs the bookkeeping with random logits; returns revealed slots per step and the codes.
    func run(seed: UInt64, steps: Int, schedule: MaskSchedule = .cosine, slots: Int = 64) -> ([[Int]], [Int]) {
        var options = GenerateOptions()
        options.steps = steps
        options.schedule = schedule
        var state = MaskGITState(slots: slots, codebook: 16, seed: seed)
        var logitRNG = RNG(seed: 1000)
        var revealed: [[Int]] = [], codes: [Int] = []
        for k in 0..<steps {
            let logits = (0..<(state.unknownCount * 16)).map { _ in logitRNG.normal() * 2 }
            let out = state.step(k, of: steps, logits: logits, options: options)
            revealed.append(out.revealed)
            codes = out.codes
            #expect(out.probability.allSatisfy { $0 > 0 && $0 <= 1 })
        }
        #expect(state.unknownCount == 0)
        return (revealed, codes)
    }

    @Test(arguments: [1, 2, 8, 12])
    func everySlotIsRevealedExactlyOnce(steps: Int) {
        for schedule in MaskSchedule.allCases {
            let (revealed, _) = run(seed: 3, steps: steps, schedule: schedule)
            let all = revealed.flatMap { $0 }
            #expect(all.count == 64 && Set(all).count == 64)
            // Every step reveals at least one slot.
            #expect(revealed.allSatisfy { !$0.isEmpty })
        }
    }

    @Test func cosineScheduleRevealsFewFirstAndManyLater() {
        let (revealed, _) = run(seed: 4, steps: 12, slots: 256)
        let counts = revealed.map(\.count)
        // Masked after step k is floor(256·cos(π(k+1)/24)).
        var masked = 256
        for (k, c) in counts.enumerated() {
            let expected = k == 11 ? 0 : Int(floor(256 * cos(Double.pi * Double(k + 1) / 24)))
            #expect(masked - c == expected, "step \(k)")
            masked -= c
        }
    }

    @Test func deterministicForASeed() {
        let a = run(seed: 7, steps: 8), b = run(seed: 7, steps: 8), c = run(seed: 8, steps: 8)
        #expect(a.0 == b.0 && a.1 == b.1)
        #expect(a.1 != c.1)
    }

    @Test func aColdSampleTemperaturePicksEachSlotsLikeliestCode() {
        var options = GenerateOptions()
        options.steps = 1
        var logitRNG = RNG(seed: 11)
        let slots = 32, codebook = 16
        let logits = (0..<(slots * codebook)).map { _ in logitRNG.normal() * 2 }
        let argmax = (0..<slots).map { n in (0..<codebook).max { logits[n * codebook + $0] < logits[n * codebook + $1] }! }
        options.sampleTemperature = 0.01
        var cold = MaskGITState(slots: slots, codebook: codebook, seed: 5)
        #expect(cold.step(0, of: 1, logits: logits, options: options).codes == argmax)
        // At temperature 1 the same draws stray from the argmax somewhere.
        options.sampleTemperature = 1
        var warm = MaskGITState(slots: slots, codebook: codebook, seed: 5)
        #expect(warm.step(0, of: 1, logits: logits, options: options).codes != argmax)
    }

    @Test func badOptionsAreRefused() {
        var o = GenerateOptions()
        o.steps = 0
        #expect(throws: InferenceError.self) { try o.validate() }
        o = GenerateOptions(); o.cfg = -1
        #expect(throws: InferenceError.self) { try o.validate() }
        o = GenerateOptions(); o.temperature = .nan
        #expect(throws: InferenceError.self) { try o.validate() }
        o = GenerateOptions(); o.sampleTemperature = 0
        #expect(throws: InferenceError.self) { try o.validate() }
    }
}
