/// Draws attribute records with plausible frequencies and no contradictions (see
/// `FaceAttributes.violations`): facial hair only on men, no bangs on bald heads, eye actions
/// never behind sunglasses, emotions that every shown action allows.
public enum FaceSampler {
    public static func sample(_ rng: inout FaceRNG) -> FaceAttributes {
        var look: Set<Appearance> = []
        let male = rng.chance(0.5)
        let young = rng.chance(0.7)
        if male { look.insert(.male) }
        if young { look.insert(.young) }
        if rng.chance(0.16) { look.insert(.chubby) }

        var d = FaceDetails()
        d.skinTone = rng.weighted([(.pale, 12), (.fair, 22), (.medium, 18), (.olive, 12), (.tan, 12), (.brown, 12), (.dark, 12)])
        d.faceShape = rng.weighted([(.oval, 35), (.round, 25), (.square, 20), (.heart, 20)])
        d.eyeColor = rng.weighted([(.brown, 34), (.hazel, 16), (.green, 14), (.blue, 24), (.gray, 12)])
        d.hairColor = young
            ? rng.weighted([(.black, 25), (.brown, 28), (.auburn, 8), (.red, 6), (.blond, 20), (.platinumBlond, 6), (.gray, 4), (.white, 3)])
            : rng.weighted([(.black, 12), (.brown, 15), (.auburn, 3), (.red, 2), (.blond, 8), (.platinumBlond, 3), (.gray, 35), (.white, 22)])

        let baldChance: Float = male ? (young ? 0.06 : 0.25) : 0.005
        if rng.chance(baldChance) {
            d.hairLength = nil
            d.hairTexture = nil
        } else {
            d.hairLength = male ? rng.weighted([(.short, 75), (.medium, 20), (.long, 5)])
                                : rng.weighted([(.short, 12), (.medium, 38), (.long, 50)])
            d.hairTexture = rng.weighted([(.straight, 50), (.wavy, 30), (.curly, 20)])
            if rng.chance(0.15) {
                d.hatKind = rng.pick(HatKind.allCases)
                d.hatColor = rng.pick(NamedColor.allCases)
            } else if rng.chance(male ? 0.10 : 0.30) {
                look.insert(.bangs)
            } else if rng.chance(male ? (young ? 0.08 : 0.35) : 0.02) {
                look.insert(.recedingHairline)
            }
        }

        if rng.chance(male ? 0.12 : 0.40) { look.insert(.archedEyebrows) }
        if rng.chance(male ? 0.35 : 0.08) { look.insert(.bushyEyebrows) }
        if rng.chance(0.22) { look.insert(.bigNose) }
        if rng.chance(0.20) { look.insert(.rosyCheeks) }

        let eyewear = rng.weighted([(0, 73), (1, 18), (2, 9)])
        if eyewear == 1 {
            d.eyewearStyle = rng.pick(EyewearStyle.allCases)
            d.frameColor = rng.weighted([(.black, 30), (.brown, 15), (.gray, 10), (.red, 10), (.blue, 10), (.purple, 5), (.white, 5), (.green, 5), (.pink, 5), (.orange, 5)])
        } else if eyewear == 2 {
            d.eyewearStyle = rng.pick(EyewearStyle.allCases)
            d.lensColor = rng.pick(LensColor.allCases)
        }
        if d.lensColor == nil && rng.chance(young ? 0.12 : 0.45) { look.insert(.bagsUnderEyes) }

        if male {
            for (hair, p) in [(Appearance.stubble, Float(0.30)), (.mustache, 0.22), (.goatee, 0.20), (.sideburns, 0.18)]
            where rng.chance(p) && !(hair == .sideburns && d.hairLength == nil) { look.insert(hair) }
        }
        if rng.chance(male ? 0.02 : 0.30) { d.eyeshadowColor = rng.pick(EyeshadowColor.allCases) }
        if rng.chance(male ? 0.02 : 0.40) { d.lipstickColor = rng.pick(LipstickColor.allCases) }
        if rng.chance(male ? 0.08 : 0.45) {
            d.earringKind = rng.pick(EarringKind.allCases)
            d.earringMaterial = d.earringKind == .hoop ? rng.pick([Jewelry.gold, .silver]) : rng.pick(Jewelry.allCases)
        }
        if rng.chance(male ? 0.10 : 0.30) {
            d.necklaceKind = rng.pick(NecklaceKind.allCases)
            d.necklaceMaterial = d.necklaceKind == .pearls ? .pearl : rng.pick([Jewelry.gold, .silver])
        }

        var face = FaceAttributes(appearance: look, actions: [], emotion: .neutral, details: d)
        face.syncDerivedFlags()
        sampleExpression(&face, &rng)
        return face
    }

    /// Emotion first, then up to two actions that the emotion (and the eyewear) allows.
    static func sampleExpression(_ face: inout FaceAttributes, _ rng: inout FaceRNG) {
        face.emotion = rng.weighted([(.neutral, 28), (.happy, 24), (.sad, 8), (.angry, 8), (.fearful, 8), (.surprised, 8), (.disgusted, 8)])
        if rng.chance(0.5) { return }
        func candidates() -> [Action] {
            Action.allCases.filter { a in
                !face.actions.contains(a)
                    && ActionRules.allowedEmotions(a).contains(face.emotion)
                    && !(face.has(.sunglasses) && ActionRules.needsVisibleEyes.contains(a))
                    && (ActionRules.implied(by: a) + [a]).allSatisfy { new in
                        face.actions.allSatisfy { !ActionRules.conflict($0, new) }
                    }
            }
        }
        for round in 0..<2 {
            if round == 1 && !rng.chance(0.2) { break }
            let options = candidates()
            if options.isEmpty { break }
            let a = rng.pick(options)
            face.actions.insert(a)
            face.actions.formUnion(ActionRules.implied(by: a))
        }
    }
}
