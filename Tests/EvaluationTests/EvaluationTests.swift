import Foundation
import Testing
import Imaging
import FaceData
@testable import Evaluation

@Suite struct FrechetTests {
    /// Deterministic pseudo-normal samples (Box–Muller on a simple LCG).
    func normals(_ n: Int, seed: UInt64) -> [Float] {
        var state = seed
        func uniform() -> Double { state = state &* 6364136223846793005 &+ 1442695040888963407; return (Double(state >> 11) + 0.5) / Double(1 << 53) }
        return (0..<n).map { _ in Float((-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform())) }
    }

    @Test func oneDimensionMatchesTheClosedForm() {
        // 1-D: (μ₁−μ₂)² + (σ₁−σ₂)².
        let a = normals(4000, seed: 1).map { $0 * 2 + 1 }, b = normals(4000, seed: 2).map { $0 * 0.5 - 1 }
        func stats(_ x: [Float]) -> (Double, Double) {
            let m = x.reduce(0.0) { $0 + Double($1) } / Double(x.count)
            let v = x.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(x.count - 1)
            return (m, v.squareRoot())
        }
        let (ma, sa) = stats(a), (mb, sb) = stats(b)
        let expected = (ma - mb) * (ma - mb) + (sa - sb) * (sa - sb)
        #expect(abs(Frechet.distance(a, b, dim: 1) - expected) < 1e-6 * max(expected, 1))
    }

    @Test func identicalSetsAreAtDistanceZeroAndShiftsAddTheirSquaredLength() {
        let dim = 6
        let a = normals(600 * dim, seed: 3)
        #expect(Frechet.distance(a, a, dim: dim) < 1e-6)
        // Shifting every row by v moves only the means: distance = ‖v‖².
        let v: [Float] = [1, -2, 0.5, 0, 3, -1]
        let shifted = a.enumerated().map { $0.element + v[$0.offset % dim] }
        let expected = v.reduce(0.0) { $0 + Double($1 * $1) }
        #expect(abs(Frechet.distance(a, shifted, dim: dim) - expected) < 1e-6 * expected)
    }

    @Test func correlatedCovarianceAgreesWithTheDiagonalFormulaAfterRotation() {
        // Σ₁ = I, Σ₂ = R diag(4, 1/4) Rᵀ: Tr(Σ₁+Σ₂−2(Σ₁Σ₂)^½) = (2−1)² + (½−1)² (rotation-invariant).
        let n = 20000
        let z = normals(2 * n, seed: 5), w = normals(2 * n, seed: 6)
        let c = Float(cos(0.7)), s = Float(sin(0.7))
        var b: [Float] = []
        for r in 0..<n {
            let x = w[2 * r] * 2, y = w[2 * r + 1] * 0.5
            b += [c * x - s * y, s * x + c * y]
        }
        let d = Frechet.distance(z, b, dim: 2)
        #expect(abs(d - 1.25) < 0.08, "got \(d)")
    }

    @Test func jacobiFindsTheEigenvaluesOfASymmetricMatrix() {
        // [[2,1],[1,2]] has eigenvalues 1 and 3.
        let values = Frechet.jacobiEigen([2, 1, 1, 2], dim: 2).values.sorted()
        #expect(abs(values[0] - 1) < 1e-12 && abs(values[1] - 3) < 1e-12)
    }
}

@Suite struct AnswerMatcherTests {
    @Test func yesNoMustAgree() {
        #expect(AnswerMatcher.matches(reply: "Yes, he has a big nose.", truth: "Yes, he has a big nose."))
        #expect(!AnswerMatcher.matches(reply: "No, his nose is not big.", truth: "Yes, he has a big nose."))
    }

    @Test func aVerdictAtTheEndCountsAsMuchAsOneAtTheStart() {
        // Hair-colour answers name the colour first; either order is judged on the same verdict.
        #expect(AnswerMatcher.matches(reply: "Her hair is blond, so no.", truth: "Her hair is blond, so no."))
        #expect(AnswerMatcher.matches(reply: "No, her hair is blond.", truth: "Her hair is blond, so no."))
        #expect(!AnswerMatcher.matches(reply: "Her hair is blond, so yes.", truth: "Her hair is blond, so no."))
        #expect(!AnswerMatcher.matches(reply: "Yes, her hair is blond.", truth: "Her hair is blond, so no."))
        #expect(!AnswerMatcher.matches(reply: "Her hair is black, so no.", truth: "Her hair is blond, so no."))
        #expect(!AnswerMatcher.matches(reply: "Her hair is blond.", truth: "Her hair is blond, so no."))
    }

    @Test func claimsAboutTheAskedAttributeMustAgree() {
        #expect(AnswerMatcher.matches(reply: "His eyes are blue.", truth: "His eyes are blue."))
        #expect(!AnswerMatcher.matches(reply: "His eyes are green.", truth: "His eyes are blue."))
        // Extra words about other attributes do not matter.
        #expect(AnswerMatcher.matches(reply: "He looks neutral and has a round face.", truth: "He looks neutral."))
        #expect(!AnswerMatcher.matches(reply: "He looks happy.", truth: "He looks neutral."))
    }

    @Test func answersWithoutKnownPhrasesCompareAsText() {
        #expect(AnswerMatcher.matches(reply: "this is   a PERSON", truth: "This is a person."))
        #expect(!AnswerMatcher.matches(reply: "a cat", truth: "This is a person."))
    }
}

@Suite struct CaptionFactsTests {
    @Test func factsAreThePresentAttributesAndVisibleDetails() throws {
        let record = CaptionRecord(id: "x", image: "images/x.png", split: "test", caption: "", attributes: ["male", "bald", "happy"],
                                   details: ["hair_color": "black", "eye_color": "blue", "skin_tone": "fair", "face_shape": "round"])
        let truth = try FaceAttributes(names: record.attributes, details: record.details)
        let facts = CaptionFacts.present(in: truth, record: record)
        #expect(facts.contains(.present(.appearance(.male))))
        #expect(facts.contains(.present(.emotion(.happy))))
        // A bald head shows no hair colour, so a caption cannot be blamed for leaving it out.
        #expect(!facts.contains(.detail(.hairColor, "black")))
        #expect(facts.contains(.detail(.eyeColor, "blue")))
    }

    @Test func unknownAttributeNamesAreAnError() {
        #expect(throws: DatasetError.self) { try FaceAttributes(names: ["male", "winged"], details: [:]) }
    }
}

@Suite struct ExpertPlotTests {
    @Test func drawsOnePanelPerGroupWithShadedCells() {
        let panels = [EvalReport.Activation(group: "t2i", level: "token", experts: (0..<4).map { "e\($0)" }, share: [[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]]),
                      EvalReport.Activation(group: "mmu", level: "sequence", experts: ["copy", "clip", "face"], share: [[0.5, 0.5, 0]])]
        let image = ExpertPlot.draw(panels)
        #expect(image.width > 2 * 4 * ExpertPlot.cell && image.height > 2 * ExpertPlot.cell)
        // The busiest cell is darker than an idle one.
        let busy = ExpertPlot.shade(1), idle = ExpertPlot.shade(0)
        #expect(Int(busy.0) + Int(busy.1) + Int(busy.2) < Int(idle.0) + Int(idle.1) + Int(idle.2))
        let png = try? PNGCodec.encode(image)
        #expect(png != nil)
    }
}
