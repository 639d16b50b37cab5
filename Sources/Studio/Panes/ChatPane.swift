import Inference

/// The chat pane's state: the question being typed, the transcript, and the conversation the
/// model is in (its image and turns, saved with a session and replayed on restore).
public struct ChatPane {
    public internal(set) var input = TextEditor()
    public internal(set) var messages: [ChatMessage] = []
    /// Questions asked before (Up/Down).
    var questions = PromptHistory()
    /// Rows scrolled back from the end of the transcript.
    public internal(set) var scroll = 0
    /// What the conversation is about ("generated image" or a file name); nil before one opens.
    public internal(set) var source: String?
    /// The generation whose image the chat is about (so a newer image reopens the chat).
    var generation: Int?
    /// The opened PNG the chat is about (nil: a generated image).
    var imagePath: String?
    /// The turns in the model's context.
    public internal(set) var turns: [ChatTurn] = []
    /// The question being answered and where its answer starts in `messages`.
    var asked: (question: String, messageIndex: Int)?
    public internal(set) var answering = false

    /// Appends a streamed piece of the answer.
    mutating func receive(_ token: TokenEvent) {
        if messages.last?.role != .assistant { messages.append(ChatMessage(.assistant, "")) }
        messages[messages.count - 1].text += token.text
    }

    /// Ends the answer: a finished or cancelled one joins the turns in the model's context
    /// (a cancelled answer stays there as far as it got); a failure is shown.
    mutating func finishAnswer(_ outcome: JobOutcome) {
        answering = false
        if let asked, outcome == .finished || outcome == .cancelled {
            let answer = messages.indices.contains(asked.messageIndex) && messages[asked.messageIndex].role == .assistant
                ? messages[asked.messageIndex].text : ""
            turns.append(ChatTurn(question: asked.question, answer: answer))
        }
        asked = nil
        switch outcome {
        case .finished: break
        case .cancelled: messages.append(ChatMessage(.info, "(answer cancelled)"))
        case .failed(let error): messages.append(ChatMessage(.error, error))
        }
    }
}
