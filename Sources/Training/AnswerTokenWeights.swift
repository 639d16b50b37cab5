import FaceModel

/// `training.mmu_token_weights` resolved to token ids: which answer tokens' next-token loss
/// counts more than once.
///
/// A key is a word or a phrase ending in one ("so yes"). The weighted token is the first token
/// of the last word written after a space — where the answer makes its choice (" yes" may be
/// " y" + "es", and once " y" is chosen the rest follows); a space that is a token of its own
/// is not the choice, so the token after it is weighted. The words before it are context that
/// must come right before that token, so "so no" weights the verdict of "…, so no." and not
/// the "no" of "no jewelry".
public struct AnswerTokenWeights: Sendable, Equatable {
    public struct Rule: Sendable, Equatable {
        /// Token ids that must precede `token` (empty: any context).
        public var context: [Int]
        public var token: Int
        public var weight: Float
        public init(context: [Int] = [], token: Int, weight: Float) { self.context = context; self.token = token; self.weight = weight }
    }

    public private(set) var rules: [Rule] = []
    /// Rules by weighted token, longest context first.
    private var byToken: [Int: [Rule]] = [:]

    public var isEmpty: Bool { rules.isEmpty }

    /// Rules given as token ids (the config's phrases go through `init(_:tokenizer:)`).
    public init(rules: [Rule] = []) {
        self.rules = rules
        for rule in rules { byToken[rule.token, default: []].append(rule) }
        for k in byToken.keys { byToken[k]!.sort { $0.context.count > $1.context.count } }
    }

    /// Resolves `phrases` (as in the config) with the text tokenizer the model reads. Throws when
    /// two phrases would weight the same token in the same context differently.
    public init(_ phrases: [String: Float], tokenizer: TextTokenizer) throws {
        var rules: [Rule] = [], phraseOfRule: [String] = []
        for (phrase, weight) in phrases.sorted(by: { $0.key < $1.key }) {
            let words = phrase.split(separator: " ").map(String.init)
            guard let last = words.last else {
                throw TrainingError.config("training.mmu_token_weights: \"\(phrase)\" has no words")
            }
            // Where the word's space is a token of its own (" Yes" may be " " + "Yes"), the choice
            // is made at the next token, and the space joins the context.
            let word = tokenizer.encode(" " + last)
            let space = word.prefix { tokenizer.decode([$0]).allSatisfy(\.isWhitespace) }
            guard let token = word.dropFirst(space.count).first else {
                throw TrainingError.config("training.mmu_token_weights: \"\(phrase)\" ends in no word")
            }
            let context = (words.count > 1 ? tokenizer.encode(" " + words.dropLast().joined(separator: " ")) : []) + space
            if let clash = rules.firstIndex(where: { $0.token == token && $0.context == context && $0.weight != weight }) {
                let other = phraseOfRule[clash]
                throw TrainingError.config("training.mmu_token_weights: \"\(phrase)\" and \"\(other)\" weight the same token \"\(tokenizer.decode([token]))\" differently")
            }
            rules.append(Rule(context: context, token: token, weight: weight))
            phraseOfRule.append(phrase)
        }
        self.init(rules: rules)
    }

    /// The weight of predicting `ids[index]` from what precedes it (1 when no rule matches; the
    /// rule with the longest matching context wins). `start` is where the text begins: context
    /// is never matched across it.
    public func weight(ids: [Int], index: Int, start: Int = 0) -> Float {
        guard let candidates = byToken[ids[index]] else { return 1 }
        for rule in candidates {
            let from = index - rule.context.count
            if from >= start && ids[from..<index].elementsEqual(rule.context) { return rule.weight }
        }
        return 1
    }

    /// "“so” → “ no” ×16" lines for the training log: the weighted token may be only the start
    /// of the word, so show it.
    public func summary(tokenizer: TextTokenizer) -> String {
        rules.map { rule in
            let context = rule.context.isEmpty ? "" : "\"\(tokenizer.decode(rule.context))\" → "
            return context + "\"\(tokenizer.decode([rule.token]))\" ×\(String(format: "%g", Double(rule.weight)))"
        }.joined(separator: ", ")
    }
}
