/// The drawing parameters of the emotion and actions: lids, gaze, brows, mouth and extra cues.
/// Emotion sets a default; actions override the parts they take over (a talking surprised face
/// keeps its raised brows and wide eyes but gets a talking mouth).
struct Expression {
    enum EyeClosure { case open, relaxed, happy }   // closed shapes: "‿" relaxed, "^" happy

    struct Mouth {
        var w: Float             // half-width
        var corner: Float = 0    // + lifts the corners (smile)
        var openUp: Float = 0    // opening above the centre line
        var openLo: Float = 0    // opening below it
        var roundness: Float = 0.5   // opening profile exponent: small = boxy
        var lipTop: Float
        var lipBot: Float
        var sideLift: Float = 0  // raises the right side (disgust, wink smirk); negative: the left
        var sideOpen: Float = 0  // extra opening on the raised side
        var teethTop = false, teethBot = false, tongue = false
    }

    var closureLeft = EyeClosure.open, closureRight = EyeClosure.open
    var lidOpen: Float = 1        // upper lid openness (half closed ~0.4)
    var lowerLift: Float = 0      // lower lid raised (smiles, disgust)
    var wide: Float = 1           // fear and surprise open the eyes wider
    var gazeX: Float = 0, gazeY: Float = 0
    var lidSlant: Float = 0       // angry: lids lower at the inner corners
    var browInner: Float = 0      // + moves the inner ends down
    var browOuter: Float = 0
    var browAll: Float = 0
    var browArch: Float = 0
    var browPinch: Float = 0      // inner ends pulled together
    var furrow = false
    var mouth: Mouth
    var tear = false, sweat = false, noseWrinkle = false, puffCheeks = false, zzz = false
    var flush: Float = 0
    var cheekLift: Float = 0

    init(_ a: FaceAttributes, _ n: Nuisance) {
        let female = !a.isMale
        mouth = Mouth(w: female ? 0.105 : 0.11, lipTop: female ? 0.024 : 0.018, lipBot: female ? 0.03 : 0.024)
        if !a.has(.young) { mouth.lipTop *= 0.8; mouth.lipBot *= 0.85 }      // lips thin with age
        if a.has(.lipstick) { mouth.lipTop *= 1.25; mouth.lipBot *= 1.2 }     // lined and overdrawn

        switch a.emotion {
        case .neutral:
            break
        case .happy:
            mouth.corner = 0.065; mouth.w *= 1.1
            if n.smileTeeth { mouth.openUp = 0.004; mouth.openLo = 0.02; mouth.teethTop = true; mouth.roundness = 0.9 }
            lowerLift = 0.3; browAll = -0.006; cheekLift = 1
        case .sad:
            mouth.corner = -0.045; mouth.w *= 0.92
            browInner = -0.04; browOuter = 0.015
            gazeY = 0.35; lidOpen = 0.8; tear = true
        case .angry:
            mouth.corner = -0.02; mouth.lipTop *= 0.55; mouth.lipBot *= 0.6
            browInner = 0.045; browOuter = -0.015; browPinch = 0.014
            lidSlant = 0.4; lidOpen = 0.85; flush = 0.12
        case .fearful:
            browInner = -0.045; browAll = -0.022; browPinch = 0.014
            wide = 1.25; gazeX = 0
            mouth.w *= 1.12; mouth.corner = -0.02; mouth.openUp = 0.006; mouth.openLo = 0.014
            mouth.roundness = 0.3; mouth.teethBot = true
            sweat = true
        case .surprised:
            browAll = -0.05; browArch = 0.015
            wide = 1.3
            mouth.w = 0.05; mouth.openUp = 0.03; mouth.openLo = 0.042; mouth.roundness = 0.5
            mouth.lipTop = 0.014; mouth.lipBot = 0.016
        case .disgusted:
            browInner = 0.03; browPinch = 0.008
            lidOpen = 0.75; lowerLift = 0.25
            mouth.corner = -0.02; mouth.sideLift = 0.04; mouth.sideOpen = 0.016; mouth.teethTop = true
            noseWrinkle = true
        }

        // Eye actions.
        let happyClosure: EyeClosure = a.emotion == .happy ? .happy : .relaxed
        if a.has(.eyesClosed) { closureLeft = happyClosure; closureRight = happyClosure }
        if a.has(.sleep) { closureLeft = .relaxed; closureRight = .relaxed; zzz = true }
        if a.has(.wink) {
            if n.winkRight { closureRight = .happy } else { closureLeft = .happy }
            if a.mouthAction == nil { mouth.sideLift = n.winkRight ? 0.025 : -0.025 }
        }
        if a.has(.lookAround) { gazeX = n.lookRight ? 0.9 : -0.9; gazeY = -0.1 }
        let eyesFree = !a.has(.eyesClosed) && !a.has(.wink) && !a.has(.lookAround)

        // Mouth actions replace the emotion's mouth.
        let w = mouth.w, lipTop = mouth.lipTop, lipBot = mouth.lipBot
        switch a.mouthAction {
        case .yawn?:
            mouth = Mouth(w: 0.075, openUp: 0.055, openLo: 0.085, roundness: 0.6, lipTop: 0.014, lipBot: 0.016)
            mouth.tongue = true
            if eyesFree { lidOpen = 0.38 }
            browInner -= 0.015
        case .talk?:
            mouth = Mouth(w: w * 0.95, corner: mouth.corner * 0.4, openUp: 0.02, openLo: 0.036, roundness: 0.7,
                          lipTop: lipTop, lipBot: lipBot)
            mouth.teethTop = true
        case .laugh?:
            mouth = Mouth(w: 0.13, corner: 0.045, openUp: 0.01, openLo: 0.075, roundness: 0.85, lipTop: 0.012, lipBot: 0.016)
            mouth.teethTop = true; mouth.tongue = true
            if eyesFree { closureLeft = .happy; closureRight = .happy }
            cheekLift = 1
        case .shout?:
            mouth = Mouth(w: 0.12, corner: -0.01, openUp: 0.045, openLo: 0.075, roundness: 0.3, lipTop: 0.012, lipBot: 0.014)
            mouth.teethTop = true; mouth.teethBot = true; mouth.tongue = true
            if eyesFree { wide = max(wide, 1.1) }
        case .blow?:
            mouth = Mouth(w: 0.042, openUp: 0.005, openLo: 0.007, roundness: 0.5, lipTop: 0.024, lipBot: 0.026)
            puffCheeks = true
        default:
            break
        }
        if a.has(.sleep) {
            mouth = Mouth(w: 0.07, openUp: 0.004, openLo: 0.014, roundness: 0.6, lipTop: lipTop, lipBot: lipBot)
        }
        if a.has(.frown) {
            browAll += 0.02; browInner += 0.03; browPinch += 0.018; furrow = true
            if a.mouthAction == nil { mouth.corner = min(mouth.corner, 0) - 0.025 }
        }
    }
}
