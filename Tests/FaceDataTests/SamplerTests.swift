import Testing
@testable import FaceData

@Suite struct SamplerTests {
    @Test func schemaHas29AppearanceTenActionsSevenEmotions() {
        #expect(FaceAttribute.all.count == 46)
        #expect(Appearance.allCases.count == 29)
        #expect(Action.allCases.count == 10)
        #expect(Emotion.allCases.count == 7)
        let schema = DatasetSchema.current
        #expect(schema.count(.appearance) == 29 && schema.count(.action) == 10 && schema.count(.emotion) == 7)
        #expect(Set(schema.attributes.map(\.name)).count == 46)
        for attr in FaceAttribute.all { #expect(FaceAttribute(name: attr.name) == attr) }
    }

    @Test func samplingIsDeterministicForASeed() {
        var a = FaceRNG(seed: 42), b = FaceRNG(seed: 42), c = FaceRNG(seed: 43)
        let first = (0..<20).map { _ in FaceSampler.sample(&a) }
        let second = (0..<20).map { _ in FaceSampler.sample(&b) }
        let other = (0..<20).map { _ in FaceSampler.sample(&c) }
        #expect(first == second)
        #expect(first != other)
    }

    @Test func sampledRecordsKeepEveryRuleAndCoverEveryAttribute() {
        var rng = FaceRNG(seed: 7)
        var counts: [FaceAttribute: Int] = [:]
        let n = 4000
        for i in 0..<n {
            let face = FaceSampler.sample(&rng)
            let problems = face.violations()
            #expect(problems.isEmpty, "sample \(i): \(problems)")
            #expect(face.present.filter { $0.group == .emotion }.count == 1)
            for attr in face.present { counts[attr, default: 0] += 1 }
        }
        // Every attribute occurs often enough to learn (at least 0.5% of faces).
        for attr in FaceAttribute.all {
            #expect((counts[attr] ?? 0) >= n / 200, "\(attr.name) in \(counts[attr] ?? 0) of \(n)")
        }
    }

    @Test func settingAnAttributeKeepsTheRecordValid() {
        var rng = FaceRNG(seed: 11)
        for _ in 0..<60 {
            let base = FaceSampler.sample(&rng)
            for attr in FaceAttribute.all {
                for on in [true, false] {
                    let changed = base.setting(attr, on)
                    #expect(changed.violations().isEmpty, "\(attr.name)=\(on): \(changed.violations())")
                    #expect(changed.has(attr) == on || (attr.group == .emotion && !on && changed.has(attr) == false),
                            "\(attr.name)=\(on)")
                }
            }
        }
    }

    @Test func violationsCatchContradictions() {
        var face = FaceAttributes(appearance: [.young], details: FaceDetails())
        face.syncDerivedFlags()
        #expect(face.violations().isEmpty)
        var bearded = face
        bearded.appearance.insert(.goatee)           // facial hair on a woman
        #expect(bearded.violations().contains { $0.contains("goatee") })
        var mismatch = face
        mismatch.appearance.insert(.blackHair)       // flag disagrees with hair_color brown
        #expect(!mismatch.violations().isEmpty)
        var sleepy = face
        sleepy.actions = [.sleep]                    // sleep without closed eyes
        #expect(sleepy.violations().contains { $0.contains("requires eyes_closed") })
        var shouting = face
        shouting.actions = [.shout]                  // shouting with a neutral face
        #expect(shouting.violations().contains { $0.contains("shout") })
    }
}
