import Testing
@testable import FaceData

@Suite struct SamplerTests {
    @Test func schemaHasFortySixAttributes() {
        #expect(FaceAttribute.all.count == 46)
    }

    @Test func samplingIsDeterministicForASeed() {
        var a = FaceRNG(seed: 42), b = FaceRNG(seed: 42), c = FaceRNG(seed: 43)
        let first = (0..<20).map { _ in FaceSampler.sample(&a) }
        let second = (0..<20).map { _ in FaceSampler.sample(&b) }
        let other = (0..<20).map { _ in FaceSampler.sample(&c) }
        #expect(first == second)
        #expect(first != other)
    }
}
