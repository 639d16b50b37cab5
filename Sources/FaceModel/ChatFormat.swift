/// The text conventions shared by training and inference for MMU (chat) sequences.
public enum ChatFormat {
    /// Precede each question and answer inside the MMU text segment.
    public static let userPrefix = "USER:"
    public static let assistantPrefix = " ASSISTANT:"
    /// The question whose answer is the image's caption (`caption` asks it).
    public static let describeQuestion = "Describe this face in detail."

    /// A question or answer as it is tokenised inside a turn (a leading space, like running text).
    public static func turnText(_ text: String) -> String { " " + text.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// The human turn's text without LLaVA's `<image>` placeholder.
    public static func question(fromLLaVA value: String) -> String {
        value.replacingOccurrences(of: "<image>", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
