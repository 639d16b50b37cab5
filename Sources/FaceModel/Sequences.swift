/// A built sequence: ids, what each position is, and what (if anything) it is trained to predict.
public struct SequenceLayout: Sendable {
    public enum Task: Sendable { case t2i, mmu }

    public var task: Task
    public var ids: [Int]
    /// Index of `<|soi|>` and of the first image token; the image occupies `imageRange`.
    public var imageRange: Range<Int>
    /// Positions that are padding (attend to nothing but themselves; never predicted).
    public var isPad: [Bool]
    /// For MMU: positions whose next token is an assistant token to predict (target = ids[t+1]).
    public var textTargets: [Int]
    /// First index after `<|eoi|>` (MMU text starts here; T2I ends here).
    public var textStart: Int
    /// Rotary position of every index when it is not the index itself (a T2I sequence with a
    /// shortened text segment keeps the image at the positions it was trained at).
    public var positions: [Int]?
    /// MMU with isolated turns: the turn of every index from `textStart` on; text then sees the
    /// image prefix and its own turn only (nil: each turn sees every earlier one).
    public var turnOfText: [Int]?

    public var count: Int { ids.count }

    public init(task: Task, ids: [Int], imageRange: Range<Int>, isPad: [Bool], textTargets: [Int], textStart: Int,
                positions: [Int]? = nil, turnOfText: [Int]? = nil) {
        self.task = task; self.ids = ids; self.imageRange = imageRange; self.isPad = isPad
        self.textTargets = textTargets; self.textStart = textStart; self.positions = positions; self.turnOfText = turnOfText
    }
}

/// Builds T2I and MMU sequences and their omni-attention masks (docs/DESIGN.md "Vocabulary and
/// sequences").
public struct SequenceBuilder: Sendable {
    public let vocab: TokenIDs
    public let imageTokens: Int
    /// Fixed text segment length for T2I: `<|bos|> text <|eos|> [pad…]`.
    public let promptLength: Int
    public let maxLength: Int

    public init(config: ModelConfig) {
        vocab = TokenIDs(config)
        imageTokens = config.imageTokens
        promptLength = config.maxPromptTokens
        maxLength = config.maxSequenceLength
    }

    /// Length of every T2I sequence.
    public var t2iLength: Int { 1 + promptLength + 1 + imageTokens + 1 }

    /// `<|t2i|> <|bos|> text… <|eos|> [pad…] <|soi|> img×N <|eoi|>`.
    /// `text` is truncated to fit; `imageIDs` are unified ids (codes already offset, or mask).
    /// `promptSlots` shortens the text segment (`<|bos|>` to the last pad) below `promptLength`
    /// (see `promptSlots(_:)`); the image keeps its positions. Returns the layout and whether
    /// the prompt was truncated.
    public func t2i(text: [Int], imageIDs: [Int], promptSlots: Int? = nil) -> (SequenceLayout, truncated: Bool) {
        precondition(imageIDs.count == imageTokens, "t2i: \(imageIDs.count) image ids, expected \(imageTokens)")
        let slots = promptSlots ?? promptLength
        let kept = Array(text.prefix(promptLength - 2))
        precondition(kept.count + 2 <= slots && slots <= promptLength, "t2i: \(kept.count) text tokens do not fit \(slots) slots")
        var ids = [vocab.t2i, vocab.bos] + kept + [vocab.eos]
        var isPad = [Bool](repeating: false, count: ids.count)
        while ids.count < 1 + slots { ids.append(vocab.pad); isPad.append(true) }
        ids.append(vocab.soi); isPad.append(false)
        let start = ids.count
        ids += imageIDs
        ids.append(vocab.eoi)
        isPad += [Bool](repeating: false, count: imageTokens + 1)
        let positions = slots == promptLength ? nil : Array(0..<(1 + slots)) + Array((1 + promptLength)..<t2iLength)
        let layout = SequenceLayout(task: .t2i, ids: ids, imageRange: start..<(start + imageTokens), isPad: isPad,
                                    textTargets: [], textStart: ids.count, positions: positions)
        return (layout, kept.count < text.count)
    }

    /// The shortest text segment that holds every prompt of a batch (after truncation).
    /// Padding attends to nothing and nothing attends to it, so a batch built with this many
    /// slots gives the same outputs as one with all `promptLength`, on less work.
    public func promptSlots(_ texts: [[Int]]) -> Int {
        min(promptLength, (texts.map(\.count).max() ?? 0) + 2)
    }

    /// One chat turn: the user's question and, when known, the assistant's answer.
    public struct Turn: Sendable {
        public var user: [Int]
        public var assistant: [Int]?
        public init(user: [Int], assistant: [Int]?) { self.user = user; self.assistant = assistant }
    }

    /// `<|mmu|> <|soi|> img×N <|eoi|> <|bos|> USER: q1 ASSISTANT: a1 <|eos|> USER: q2 …`
    ///
    /// `userPrefix` / `assistantPrefix` are the token ids of "USER:" / " ASSISTANT:". Every
    /// assistant answer is followed by `<|eos|>`; answer tokens and that `<|eos|>` are the
    /// targets. A final turn without an answer ends with the assistant prefix (ready to
    /// generate). Earliest turns are dropped when the sequence would exceed `maxLength`.
    ///
    /// `isolatedTurns` packs the turns as independent questions about the one image: each is
    /// `<|bos|> USER: q ASSISTANT: a <|eos|>` at the rotary positions it would have alone after
    /// the prefix, and attends to the prefix and itself only — exactly what a chat cleared
    /// before each question computes, with the image prefix paid for once. No answer can then
    /// be copied from an earlier turn: every one must be read from the image.
    public func mmu(imageIDs: [Int], turns: [Turn], userPrefix: [Int], assistantPrefix: [Int],
                    isolatedTurns: Bool = false) -> (SequenceLayout, truncated: Bool) {
        precondition(imageIDs.count == imageTokens, "mmu: \(imageIDs.count) image ids, expected \(imageTokens)")
        func render(_ turns: ArraySlice<Turn>) -> (ids: [Int], targetMask: [Bool], turn: [Int]) {
            var ids: [Int] = [vocab.bos]
            var target: [Bool] = [false]
            var turnOf: [Int] = [0]
            for (k, turn) in turns.enumerated() {
                if isolatedTurns && k > 0 { ids.append(vocab.bos); target.append(false); turnOf.append(k) }
                let q = userPrefix + turn.user + assistantPrefix
                ids += q; target += [Bool](repeating: false, count: q.count)
                if let a = turn.assistant {
                    ids += a + [vocab.eos]; target += [Bool](repeating: true, count: a.count + 1)
                }
                turnOf += [Int](repeating: k, count: ids.count - turnOf.count)
            }
            return (ids, target, turnOf)
        }
        let prefix = [vocab.mmu, vocab.soi] + imageIDs + [vocab.eoi]
        var first = turns.startIndex
        var text = render(turns[first...])
        while prefix.count + text.ids.count > maxLength && first < turns.endIndex - 1 {
            first += 1
            text = render(turns[first...])
        }
        var truncated = first > turns.startIndex
        if prefix.count + text.ids.count > maxLength {
            // A single turn that is still too long: keep its start (the question).
            text.ids = Array(text.ids.prefix(maxLength - prefix.count))
            text.targetMask = Array(text.targetMask.prefix(maxLength - prefix.count))
            truncated = true
        }
        let ids = prefix + text.ids
        var positions: [Int]? = nil, turnOfText: [Int]? = nil
        if isolatedTurns {
            let turnOf = Array(text.turn.prefix(text.ids.count))
            turnOfText = turnOf
            // Each turn restarts at the position right after the prefix.
            var offset = 0
            positions = Array(0..<prefix.count) + turnOf.indices.map { j in
                if j > 0 && turnOf[j] != turnOf[j - 1] { offset = j }
                return prefix.count + j - offset
            }
        }
        // Position t predicts ids[t+1]: a target position is one whose successor is a target token.
        var targets: [Int] = []
        for (j, isTarget) in text.targetMask.enumerated() where isTarget && j > 0 {
            targets.append(prefix.count + j - 1)
        }
        let layout = SequenceLayout(task: .mmu, ids: ids, imageRange: 2..<(2 + imageTokens),
                                    isPad: [Bool](repeating: false, count: ids.count), textTargets: targets,
                                    textStart: prefix.count, positions: positions, turnOfText: turnOfText)
        return (layout, truncated)
    }

    /// Pads a layout to `length` with `<|pad|>` (for batching sequences of different lengths).
    public func padded(_ layout: SequenceLayout, to length: Int) -> SequenceLayout {
        var l = layout
        while l.ids.count < length {
            l.ids.append(vocab.pad); l.isPad.append(true)
            l.positions?.append(l.ids.count - 1)
            l.turnOfText?.append(-1)
        }
        return l
    }

    /// The omni-attention mask as additive values [T, T] (0 = may attend, −inf = blocked).
    ///
    /// - Text rows are causal and never see padding.
    /// - T2I image rows (`<|soi|>` … `<|eoi|>`) see the whole sequence except padding.
    /// - MMU: the prefix up to `<|eoi|>` is bidirectional; later text sees all of it and is
    ///   causal among itself (within its own turn when the turns are isolated).
    /// - Padding rows see only themselves (so softmax stays defined; their outputs are unused).
    public static func attentionMask(_ layout: SequenceLayout) -> [Float] {
        let T = layout.count
        var m = [Float](repeating: -.infinity, count: T * T)
        let imageBlock = (layout.imageRange.lowerBound - 1)...(layout.imageRange.upperBound)  // soi … eoi
        for t in 0..<T {
            if layout.isPad[t] { m[t * T + t] = 0; continue }
            for s in 0..<T where !layout.isPad[s] {
                let allowed: Bool
                switch layout.task {
                case .t2i:
                    allowed = imageBlock.contains(t) ? true : s <= t
                case .mmu:
                    if t < layout.textStart { allowed = s < layout.textStart }
                    else if s < layout.textStart { allowed = true }
                    else if let turn = layout.turnOfText { allowed = s <= t && turn[s - layout.textStart] == turn[t - layout.textStart] }
                    else { allowed = s <= t }
                }
                if allowed { m[t * T + s] = 0 }
            }
        }
        return m
    }
}
