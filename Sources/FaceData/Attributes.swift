/// One face's ground truth: which of the 46 attributes it shows, and its detail values.
/// Everything the renderer draws and every caption/VQA word is a function of this record.
///
/// JSON (stable: keys sorted, lists in schema order, absent details omitted):
/// `{"actions":["yawn"],"appearance":["male","young",...],"details":{"eye_color":"blue",...},"emotion":"neutral"}`
public struct FaceAttributes: Hashable, Sendable {
    public var appearance: Set<Appearance>
    public var actions: Set<Action>
    public var emotion: Emotion
    public var details: FaceDetails

    public init(appearance: Set<Appearance> = [.young], actions: Set<Action> = [], emotion: Emotion = .neutral,
                details: FaceDetails = FaceDetails()) {
        self.appearance = appearance
        self.actions = actions
        self.emotion = emotion
        self.details = details
    }

    @inline(__always) public func has(_ a: Appearance) -> Bool { appearance.contains(a) }
    @inline(__always) public func has(_ a: Action) -> Bool { actions.contains(a) }

    public func has(_ attribute: FaceAttribute) -> Bool {
        switch attribute {
        case .appearance(let a): return appearance.contains(a)
        case .action(let a): return actions.contains(a)
        case .emotion(let e): return emotion == e
        }
    }

    /// The attributes present, in schema order.
    public var present: [FaceAttribute] { FaceAttribute.all.filter { has($0) } }

    public var isMale: Bool { has(.male) }
    /// The mouth action, if any (at most one).
    public var mouthAction: Action? { Action.mouthActions.first { actions.contains($0) } }
    /// Whether the eyes can be seen (sunglasses hide them).
    public var eyesVisible: Bool { !has(.sunglasses) }
}

// MARK: - Consistency rules

extension FaceAttributes {
    /// Every broken rule, in words (empty for a valid record). The sampler only produces valid
    /// records; loaders and the studio use this to reject hand-written ones.
    public func violations() -> [String] {
        var out: [String] = []
        func rule(_ ok: Bool, _ message: @autoclosure () -> String) { if !ok { out.append(message()) } }
        let d = details
        let bald = has(.bald)

        // Flags that are views of detail fields.
        let colorFlag = bald ? nil : d.hairColor.flag
        for flag in Appearance.hairColorFlags {
            rule(has(flag) == (flag == colorFlag),
                 "\(flag.rawValue) must be \(flag == colorFlag) for hair_color \(d.hairColor.rawValue)\(bald ? " (bald)" : "")")
        }
        rule(bald == (d.hairLength == nil), "hair_length must be absent exactly when bald")
        rule(bald == (d.hairTexture == nil), "hair_texture must be absent exactly when bald")
        rule(has(.longHair) == (d.hairLength == .long), "long_hair must match hair_length")
        rule(has(.wavyHair) == (d.hairTexture == .wavy || d.hairTexture == .curly), "wavy_hair must match hair_texture")
        rule(has(.paleSkin) == (d.skinTone == .pale), "pale_skin must match skin_tone")
        rule((has(.eyeglasses) || has(.sunglasses)) == (d.eyewearStyle != nil), "eyewear_style needs eyeglasses or sunglasses")
        rule(has(.eyeglasses) == (d.frameColor != nil), "frame_color must be present exactly with eyeglasses")
        rule(has(.sunglasses) == (d.lensColor != nil), "lens_color must be present exactly with sunglasses")
        rule(has(.earrings) == (d.earringKind != nil && d.earringMaterial != nil), "earring_kind and earring_material must be present exactly with earrings")
        rule(!(d.earringKind == .hoop && d.earringMaterial == .pearl), "hoop earrings cannot be pearl")
        rule(has(.hat) == (d.hatKind != nil && d.hatColor != nil), "hat_kind and hat_color must be present exactly with hat")
        rule(has(.lipstick) == (d.lipstickColor != nil), "lipstick_color must be present exactly with lipstick")
        rule(has(.heavyMakeup) == (d.eyeshadowColor != nil), "eyeshadow_color must be present exactly with heavy_makeup")
        rule(has(.necklace) == (d.necklaceKind != nil && d.necklaceMaterial != nil), "necklace_kind and necklace_material must be present exactly with necklace")
        rule((d.necklaceKind == .pearls) == (d.necklaceMaterial == .pearl), "pearls necklaces (and only they) are pearl")

        // Contradictions.
        for other in [Appearance.bangs, .recedingHairline, .hat, .sideburns] {
            rule(!(bald && has(other)), "bald contradicts \(other.rawValue)")
        }
        rule(!(has(.bangs) && has(.recedingHairline)), "bangs contradict receding_hairline")
        rule(!(has(.hat) && (has(.bangs) || has(.recedingHairline))), "a hat hides bangs and the hairline")
        for hair in Appearance.facialHair {
            rule(isMale || !has(hair), "\(hair.rawValue) needs male")
        }
        rule(!(has(.eyeglasses) && has(.sunglasses)), "eyeglasses contradict sunglasses")
        rule(!(has(.sunglasses) && has(.bagsUnderEyes)), "sunglasses hide bags_under_eyes")

        // Actions and emotion.
        let acts = actions.sorted()
        for (i, a) in acts.enumerated() {
            rule(ActionRules.allowedEmotions(a).contains(emotion), "\(a.rawValue) cannot be shown with emotion \(emotion.rawValue)")
            for b in acts[(i + 1)...] where ActionRules.conflict(a, b) {
                out.append("\(a.rawValue) contradicts \(b.rawValue)")
            }
            for needed in ActionRules.implied(by: a) where !actions.contains(needed) {
                out.append("\(a.rawValue) requires \(needed.rawValue)")
            }
            rule(!(has(.sunglasses) && ActionRules.needsVisibleEyes.contains(a)), "sunglasses hide \(a.rawValue)")
        }
        return out
    }

    /// Sets the appearance flags that mirror detail fields (hair colour, length, texture, skin,
    /// eyewear and accessories) from the details.
    public mutating func syncDerivedFlags() {
        let d = details
        let bald = d.hairLength == nil
        func set(_ a: Appearance, _ on: Bool) { if on { appearance.insert(a) } else { appearance.remove(a) } }
        set(.bald, bald)
        for flag in Appearance.hairColorFlags { set(flag, !bald && d.hairColor.flag == flag) }
        set(.longHair, d.hairLength == .long)
        set(.wavyHair, d.hairTexture == .wavy || d.hairTexture == .curly)
        set(.paleSkin, d.skinTone == .pale)
        set(.eyeglasses, d.frameColor != nil)
        set(.sunglasses, d.lensColor != nil)
        set(.earrings, d.earringKind != nil)
        set(.hat, d.hatKind != nil)
        set(.lipstick, d.lipstickColor != nil)
        set(.heavyMakeup, d.eyeshadowColor != nil)
        set(.necklace, d.necklaceKind != nil)
    }

    /// This record with one attribute switched on or off by the smallest consistent change
    /// (turning on sunglasses removes eyeglasses and eye actions; turning off male removes facial
    /// hair; turning on an action adjusts the emotion if it must). Used by the studio's prompt
    /// editor and by the tests that check every attribute is visible.
    public func setting(_ attribute: FaceAttribute, _ on: Bool) -> FaceAttributes {
        var r = self
        switch attribute {
        case .appearance(let a): r.setAppearance(a, on)
        case .action(let a): r.setAction(a, on)
        case .emotion(let e):
            if on { r.emotion = e } else if r.emotion == e { r.emotion = e == .neutral ? .happy : .neutral }
            r.actions = r.actions.filter { ActionRules.allowedEmotions($0).contains(r.emotion) }
            r.restoreImpliedActions()
        }
        r.syncDerivedFlags()
        return r
    }

    private mutating func setAppearance(_ a: Appearance, _ on: Bool) {
        func unbald() {
            if details.hairLength == nil { details.hairLength = .short; details.hairTexture = .straight }
        }
        switch a {
        case .blackHair, .blondHair, .brownHair, .grayHair:
            if on {
                unbald()
                details.hairColor = [.blackHair: HairColor.black, .blondHair: .blond, .brownHair: .brown, .grayHair: .gray][a] ?? .brown
            } else if details.hairColor.flag == a {
                details.hairColor = .auburn
            }
        case .bald:
            if on {
                details.hairLength = nil; details.hairTexture = nil
                appearance.subtract([.bangs, .recedingHairline])
                details.hatKind = nil; details.hatColor = nil
                appearance.remove(.sideburns)
            } else { unbald() }
        case .longHair:
            if on { unbald(); details.hairLength = .long } else if details.hairLength == .long { details.hairLength = .medium }
        case .wavyHair:
            if on { unbald(); details.hairTexture = .wavy } else if details.hairTexture != nil { details.hairTexture = .straight }
        case .paleSkin:
            if on { details.skinTone = .pale } else if details.skinTone == .pale { details.skinTone = .fair }
        case .eyeglasses:
            details.frameColor = on ? (details.frameColor ?? .black) : nil
            if on { details.lensColor = nil }
            details.eyewearStyle = (details.frameColor == nil && details.lensColor == nil) ? nil : (details.eyewearStyle ?? .rectangular)
        case .sunglasses:
            details.lensColor = on ? (details.lensColor ?? .black) : nil
            if on {
                details.frameColor = nil
                appearance.remove(.bagsUnderEyes)
                actions.subtract(ActionRules.needsVisibleEyes)
            }
            details.eyewearStyle = (details.frameColor == nil && details.lensColor == nil) ? nil : (details.eyewearStyle ?? .aviator)
        case .earrings:
            details.earringKind = on ? (details.earringKind ?? .hoop) : nil
            details.earringMaterial = on ? (details.earringMaterial ?? .gold) : nil
        case .hat:
            if on { unbald(); appearance.subtract([.bangs, .recedingHairline]) }
            details.hatKind = on ? (details.hatKind ?? .beanie) : nil
            details.hatColor = on ? (details.hatColor ?? .red) : nil
        case .lipstick:
            details.lipstickColor = on ? (details.lipstickColor ?? .red) : nil
        case .heavyMakeup:
            details.eyeshadowColor = on ? (details.eyeshadowColor ?? .purple) : nil
        case .necklace:
            details.necklaceKind = on ? (details.necklaceKind ?? .chain) : nil
            details.necklaceMaterial = on ? (details.necklaceMaterial ?? .gold) : nil
        case .male:
            if on { appearance.insert(.male) } else { appearance.remove(.male); appearance.subtract(Appearance.facialHair) }
        case .stubble, .goatee, .mustache, .sideburns:
            if on {
                appearance.insert(.male); appearance.insert(a)
                if a == .sideburns { unbald() }
            } else { appearance.remove(a) }
        case .bangs, .recedingHairline:
            if on {
                unbald()
                details.hatKind = nil; details.hatColor = nil
                appearance.remove(a == .bangs ? .recedingHairline : .bangs)
                appearance.insert(a)
            } else { appearance.remove(a) }
        case .bagsUnderEyes:
            if on { details.lensColor = nil; appearance.insert(a) } else { appearance.remove(a) }
            if details.lensColor == nil && details.frameColor == nil { details.eyewearStyle = nil }
        case .young, .chubby, .rosyCheeks, .archedEyebrows, .bushyEyebrows, .bigNose:
            if on { appearance.insert(a) } else { appearance.remove(a) }
        }
    }

    private mutating func setAction(_ a: Action, _ on: Bool) {
        if !on {
            actions.remove(a)
            // Eyes that open again cannot be sleeping.
            if a == .eyesClosed { actions.remove(.sleep) }
            return
        }
        let adding = [a] + ActionRules.implied(by: a)
        let wanted = adding.reduce(Set(Emotion.allCases)) { $0.intersection(ActionRules.allowedEmotions($1)) }
        // Drop actions that conflict with the new one or share no emotion with it.
        actions = actions.filter { old in
            !adding.contains { ActionRules.conflict(old, $0) } && !wanted.isDisjoint(with: ActionRules.allowedEmotions(old))
        }
        actions.formUnion(adding)
        let shared = actions.reduce(Set(Emotion.allCases)) { $0.intersection(ActionRules.allowedEmotions($1)) }
        if shared.isEmpty { actions = Set(adding) }
        if !actions.allSatisfy({ ActionRules.allowedEmotions($0).contains(emotion) }) {
            let allowed = actions.reduce(Set(Emotion.allCases)) { $0.intersection(ActionRules.allowedEmotions($1)) }
            emotion = Emotion.allCases.first { allowed.contains($0) } ?? .neutral
        }
        if !actions.isDisjoint(with: ActionRules.needsVisibleEyes) {
            details.lensColor = nil
            if details.frameColor == nil { details.eyewearStyle = nil }
        }
    }

    private mutating func restoreImpliedActions() {
        for a in actions { actions.formUnion(ActionRules.implied(by: a)) }
    }
}

// MARK: - JSON

extension FaceAttributes: Codable {
    enum CodingKeys: String, CodingKey { case appearance, actions, emotion, details }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(appearance.sorted().map(\.rawValue), forKey: .appearance)
        try c.encode(actions.sorted().map(\.rawValue), forKey: .actions)
        try c.encode(emotion, forKey: .emotion)
        try c.encode(details, forKey: .details)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        appearance = Set(try c.decode([Appearance].self, forKey: .appearance))
        actions = Set(try c.decodeIfPresent([Action].self, forKey: .actions) ?? [])
        emotion = try c.decode(Emotion.self, forKey: .emotion)
        details = try c.decode(FaceDetails.self, forKey: .details)
    }
}
