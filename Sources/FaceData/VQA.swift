/// Question–answer pairs about a face. `PeopleVQA` writes most of them in people's words; the
/// reasoning question here names the action or emotion and the visible cue behind it ("She is
/// probably yawning: her mouth is wide open in a tall oval and her eyes are half closed.").
public struct QAPair: Codable, Hashable, Sendable {
    public let question: String
    public let answer: String
    public init(question: String, answer: String) { self.question = question; self.answer = answer }
}

extension TextContext {
    /// "she" / "the woman" / "this person" in questions.
    mutating func questionSubject() -> String {
        switch rng.below(6) {
        case 0: return "this person"
        case 1: return "the " + (male ? "man" : "woman")
        default: return pronoun
        }
    }
    var Sub: String { TextContext.capital(pronoun) }
    static func capital(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

    mutating func ask(_ templates: [String], _ answer: String) -> QAPair {
        QAPair(question: TextContext.capital(rng.pick(templates)), answer: TextContext.finish(answer))
    }

    // MARK: Reasoning

    /// The visible cue for an action, consistent with what the renderer draws.
    func actionCue(_ a: Action) -> String {
        let eyesFree = !face.has(.eyesClosed) && !face.has(.wink) && !face.has(.lookAround) && !face.has(.sleep)
        switch a {
        case .yawn: return "\(poss) mouth is wide open in a tall oval" + (eyesFree ? " and \(poss) eyes are half closed" : "")
        case .talk: return "\(poss) mouth is partly open and \(poss) upper teeth show"
        case .laugh: return "\(poss) mouth is wide open in a broad smile" + (eyesFree ? " and \(poss) eyes are squeezed shut" : "")
        case .shout: return "\(poss) mouth is wide open and shows both rows of teeth"
        case .blow: return "\(poss) lips are pursed, \(poss) cheeks are puffed out and puffs of air leave \(poss) lips"
        case .wink: return "one of \(poss) eyes is closed while the other is open"
        case .eyesClosed: return "both of \(poss) eyes are closed"
        case .sleep: return "\(poss) eyes are closed, \(poss) head is tilted to one side and Z letters float above \(obj)"
        case .frown: return "\(poss) eyebrows are drawn down and together, with creases between them"
        case .lookAround: return "\(poss) eyes are turned to one side"
        }
    }

    /// The visible cue for an emotion (used when the face shows no action).
    func emotionReason() -> String {
        switch face.emotion {
        case .neutral: return "\(poss) mouth is relaxed and \(poss) eyebrows are level"
        case .happy: return "\(poss) mouth curves up in a smile"
        case .sad: return "\(poss) mouth turns down, \(poss) inner eyebrows are raised and a tear runs down \(poss) cheek"
        case .angry: return "\(poss) eyebrows are pulled down into a V and \(poss) lips are pressed tight"
        case .fearful: return "\(poss) eyebrows are raised and drawn together, and a drop of sweat runs down \(poss) forehead"
        case .surprised: return "\(poss) eyebrows are raised high and \(poss) mouth is open in an O"
        case .disgusted: return "\(poss) nose is wrinkled and \(poss) upper lip is raised on one side"
        }
    }

    /// Actions in the order a person would name them first (sleep before the closed eyes it implies).
    static let actionPriority: [Action] = [.sleep, .yawn, .laugh, .shout, .talk, .blow, .wink, .lookAround, .frown, .eyesClosed]

    mutating func reasoningQuestion() -> QAPair {
        var acts = TextContext.actionPriority.filter { face.has($0) }
        if face.has(.sleep) { acts.removeAll { $0 == .eyesClosed } }
        let q = questionSubject()
        let be = q == "they" ? "are" : "is"
        if acts.isEmpty {
            let adjective = face.emotion.rawValue
            return ask(["why does \(q) look \(adjective)?", "what makes \(q == pronoun ? obj : q) look \(adjective)?",
                        "what in the face shows that \(q) \(be) \(adjective)?"],
                       "\(Sub) looks \(adjective): \(emotionReason())")
        }
        let shown = Array(acts.prefix(2))
        let gerunds = shown.map { $0 == .eyesClosed ? "keeping \(poss) eyes closed" : Words.gerund($0)[0] }
        let cues = shown.map(actionCue)
        // Not the wording of a wh-question frame (some of those are held out).
        return ask(["what is happening in this picture?", "what is going on in this picture, and how can you tell?",
                    "how can you tell what \(q) \(be) doing?"],
                   "\(Sub) is probably \(TextContext.list(gerunds)): \(cues.joined(separator: ", and "))")
    }
}
