import Foundation
import Testing
@testable import Tensor

@Suite struct FastTanhTests {
    @Test func agreesWithLibmTanhEverywhere() {
        var worst: Float = 0
        var x: Float = -12
        while x <= 12 {
            worst = max(worst, abs(fastTanh(x) - tanhf(x)))
            x += 0.001
        }
        #expect(worst < 2e-7, "largest difference \(worst)")
        #expect(fastTanh(0) == 0 && fastTanh(50) == 1 && fastTanh(-50) == -1)
    }
}
