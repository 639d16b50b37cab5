/// The prompt pane's state: the description being edited, the prompts sent before (Up/Down),
/// the Tab completion being cycled, and the last unknown-word lookup.
public struct PromptPane {
    public internal(set) var editor = TextEditor()
    public internal(set) var history: PromptHistory
    var completion: CompletionCycle?
    /// The engine's unknown words of `text` (asked again only when the text changes).
    var unknownCache: (text: String, ranges: [Range<Int>])?

    init(history: [String]) { self.history = PromptHistory(entries: history) }
}
