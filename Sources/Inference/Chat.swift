import Foundation
import Tensor
import FaceModel

/// Settings of `ask` / `caption`: greedy by default.
public struct ChatOptions: Codable, Sendable, Equatable {
    /// 0 = greedy (argmax).
    public var temperature: Float = 0
    /// Keep only the k most likely tokens (0 = all).
    public var topK: Int = 0
    /// Keep the smallest set of tokens whose probability reaches p (1 = all).
    public var topP: Float = 1
    public var maxTokens: Int = 160
    public var seed: UInt64 = 0
    /// No n-gram of this many tokens appears twice in one answer (0 = off). Small models decoding
    /// greedily fall into loops ("She has a neat nose." over and over); blocking the token that
    /// would repeat a 4-gram sends them on to the next thing to say.
    public var noRepeatNgram: Int = 4

    public init() {}

    func validate() throws {
        if !(temperature >= 0 && temperature <= 10) { throw InferenceError.invalidOption("temperature: \(temperature) is outside 0…10") }
        if topK < 0 { throw InferenceError.invalidOption("top-k: \(topK) must not be negative") }
        if !(topP > 0 && topP <= 1) { throw InferenceError.invalidOption("top-p: \(topP) is outside (0, 1]") }
        if maxTokens < 1 { throw InferenceError.invalidOption("max tokens: \(maxTokens) must be positive") }
        if noRepeatNgram < 0 { throw InferenceError.invalidOption("no-repeat n-gram: \(noRepeatNgram) must not be negative") }
    }
}

/// A conversation about one image. The image prefix (`<|mmu|> <|soi|> img <|eoi|> <|bos|>`) is
/// prefilled once into a KV cache; each question and answer extends it, so earlier turns stay
/// in context without being recomputed — or, with `isolatedTurns`, each question goes right
/// after the image, as the model was trained. Answers are decoded one token at a time (gemv).
public final class ChatSession {
    let engine: Engine
    public let imageCodes: [Int]
    /// The image's CLIP and face embeddings (nil without encoders: the experts then read zeros).
    public let imageEmbeddings: ImageEmbeddings?
    let cache: KVCache
    /// Every id in the cache, in order.
    public private(set) var context: [Int]
    public private(set) var turns: [(question: String, answer: String)] = []
    /// Tokens of the last answer not yet in the cache (its last token and `<|eos|>`); they
    /// start the next turn.
    private var pending: [Int] = []
    private var rng: RNG
    /// Each question is answered on its own after the image (earlier turns are kept in `turns`
    /// but leave the context): the model directory's `chat_isolated_turns`.
    public var isolatedTurns: Bool

    init(engine: Engine, codes: [Int], embeddings: ImageEmbeddings? = nil) throws {
        self.engine = engine
        imageCodes = codes
        imageEmbeddings = embeddings
        let model = engine.directory.model
        cache = KVCache(layers: model.config.layers)
        let prefix = engine.builder.mmu(imageIDs: codes.map { model.vocab.imageOffset + $0 }, turns: [],
                                        userPrefix: [], assistantPrefix: []).0
        context = prefix.ids
        rng = RNG(seed: 0)
        isolatedTurns = model.config.chatIsolatedTurns
        // The prefill also decides the sequence-level routing and resamples the embeddings;
        // the cache keeps both for every later token.
        _ = GradMode.withoutGrad { model.forward([prefix], cache: cache, conditioning: conditioning) }
    }

    /// The sequence-level conditioning of this chat's sequence.
    public var conditioning: [SequenceConditioning]? { imageEmbeddings.map { [.image($0)] } }

    /// Forgets the conversation but keeps the image prefix.
    public func clear() {
        rewindToImage()
        turns = []
    }

    /// Drops every text token from the context and the cache; the image prefix stays.
    private func rewindToImage() {
        cache.truncate(to: engine.builder.imageTokens + 4)
        context = Array(context.prefix(engine.builder.imageTokens + 4))
        pending = []
    }

    /// Room left in the context (tokens).
    public var remaining: Int { engine.directory.config.maxSequenceLength - context.count }

    /// Puts an earlier turn back into the conversation without generating (a restored studio
    /// session continues where it was): the question and answer are fed through the cache as
    /// if the answer had just been decoded (with `isolatedTurns` only recorded: no later
    /// question sees it).
    public func replay(question: String, answer: String) throws {
        if isolatedTurns { turns.append((question, answer)); return }
        let ids = pending + turnTokens(question, answer: answer)
        guard context.count + ids.count + 1 < engine.directory.config.maxSequenceLength else {
            throw InferenceError.invalidOption("the restored conversation does not fit the model's context (\(remaining) tokens left, the turn needs \(ids.count + 1))")
        }
        _ = feed(ids)
        pending = [engine.directory.model.vocab.eos]
        turns.append((question, answer))
    }

    /// Room kept for an answer when earlier turns have to make way for a new question.
    private func answerReserve(_ options: ChatOptions) -> Int { min(options.maxTokens, 48) }

    /// Drops the earliest turns, as training does with conversations longer than the context,
    /// until `tokens` more fit; the turns kept are fed again after the image prefix.
    private func forgetEarliestTurns(toFit tokens: Int) throws {
        let cost = turns.map { turnTokens($0.question, answer: $0.answer).count + 1 }  // + the <|eos|> after it
        let room = engine.directory.config.maxSequenceLength - (engine.builder.imageTokens + 4) - tokens
        var first = 0, kept = cost.reduce(0, +)
        while first < turns.count && kept >= room { kept -= cost[first]; first += 1 }
        let keep = Array(turns[first...])
        clear()
        for turn in keep { try replay(question: turn.question, answer: turn.answer) }
    }

    /// What a turn feeds before its answer: the previous answer's pending tokens, then the
    /// question in chat format up to the assistant prefix.
    private func turnStart(_ question: String) -> [Int] { pending + turnTokens(question, answer: nil) }

    /// A turn in chat format: the question up to the assistant prefix, then the answer if given.
    private func turnTokens(_ question: String, answer: String?) -> [Int] {
        let tokenizer = engine.directory.textTokenizer
        return tokenizer.encode(ChatFormat.userPrefix) + tokenizer.encode(ChatFormat.turnText(question))
            + tokenizer.encode(ChatFormat.assistantPrefix) + (answer.map { tokenizer.encode(ChatFormat.turnText($0)) } ?? [])
    }

    /// Asks `question`, streaming the answer token by token; returns the whole answer.
    public func ask(_ question: String, options: ChatOptions = ChatOptions(), cancel: Cancellation? = nil,
                    onToken: ((TokenEvent) -> Void)? = nil) throws -> String {
        try options.validate()
        let tokenizer = engine.directory.textTokenizer
        let model = engine.directory.model
        let vocab = model.vocab
        rng = RNG(seed: options.seed)
        if isolatedTurns { rewindToImage() }
        var ids = turnStart(question)
        let limit = engine.directory.config.maxSequenceLength
        let reserve = answerReserve(options)
        // Isolated turns are not in the context: forgetting them would free nothing.
        if context.count + ids.count + reserve >= limit && !turns.isEmpty && !isolatedTurns {
            try forgetEarliestTurns(toFit: ids.count + reserve)
            ids = turnStart(question)
        }
        guard context.count + ids.count < limit else {
            throw InferenceError.invalidOption("question too long: it needs \(ids.count + 1) tokens and the model's context has \(remaining) left after the image")
        }
        pending = []
        var stream = TextDecodeStream(tokenizer: tokenizer, skipSpecial: true)
        var answer = ""
        var (hidden, record) = feed(ids)
        var produced: [Int] = []
        while true {
            if cancel?.isCancelled == true { pending = [vocab.eos]; break }
            var logits = GradMode.withoutGrad { model.textLogits(hidden) }.values
            for banned in Self.repeatingTokens(after: produced, n: options.noRepeatNgram) { logits[banned] = -.infinity }
            let next = sample(textLogits: logits, options: options)
            if next == vocab.eos { pending = [vocab.eos]; break }
            // The answer's first token carries the space after "ASSISTANT:"; nobody wants to see it.
            var piece = stream.push(next)
            if answer.isEmpty { piece = String(piece.drop(while: \.isWhitespace)) }
            answer += piece
            onToken?(TokenEvent(text: piece, tokenID: next, routing: RoutingTrace(group: .mmu, record: record, rows: [0])))
            produced.append(next)
            // A cut answer still ends as in training, with <|eos|>, when the next turn starts.
            if produced.count >= options.maxTokens || context.count + 2 >= limit { pending = [next, vocab.eos]; break }
            (hidden, record) = feed([next])
        }
        var tail = stream.finish()
        if answer.isEmpty { tail = String(tail.drop(while: \.isWhitespace)) }
        if !tail.isEmpty { answer += tail; onToken?(TokenEvent(text: tail, tokenID: -1, routing: RoutingTrace(group: .mmu, record: record, rows: [0]))) }
        turns.append((question, answer))
        if cancel?.isCancelled == true { throw InferenceError.cancelled }
        return answer
    }

    /// Runs new text tokens through the cache (causal among themselves, seeing all earlier
    /// positions); returns the last position's hidden state [1, d] and the routing record.
    private func feed(_ ids: [Int]) -> (Tensor, ForwardRecord) {
        let model = engine.directory.model
        let start = context.count, T = ids.count, S = start + T
        var mask = [Float](repeating: 0, count: T * S)
        for i in 0..<T { for s in (start + i + 1)..<S { mask[i * S + s] = -.infinity } }
        let layout = SequenceLayout(task: .mmu, ids: ids, imageRange: 2..<(2 + engine.builder.imageTokens),
                                    isPad: [Bool](repeating: false, count: T), textTargets: [], textStart: 0)
        let (hidden, record) = GradMode.withoutGrad {
            model.forward([layout], mask: Tensor(shape: [1, T, S], values: mask), cache: cache, positionOffset: start)
        }
        context += ids
        let last = T == 1 ? hidden : GradMode.withoutGrad { hidden.indexSelect(rows: [T - 1]) }
        // Keep only the last row's routing so events describe the token being produced.
        var lastRecord = record
        lastRecord.tokenRouting = record.tokenRouting.map { r in
            r.map { TokenRouting(tokens: 1, chosen: Array($0.chosen.suffix($0.k)), gates: Array($0.gates.suffix($0.k)), experts: $0.experts, k: $0.k) }
        }
        return (last, lastRecord)
    }

    /// The tokens that would complete an n-gram already in `tokens` (its last n−1 tokens seen
    /// before, followed by them).
    static func repeatingTokens(after tokens: [Int], n: Int) -> Set<Int> {
        guard n > 0, tokens.count >= n - 1 else { return [] }
        if n == 1 { return Set(tokens) }
        let tail = tokens.suffix(n - 1)
        var banned = Set<Int>()
        for start in 0..<(tokens.count - n + 1) {
            if tokens[start..<(start + n - 1)].elementsEqual(tail) { banned.insert(tokens[start + n - 1]) }
        }
        return banned
    }

    /// Greedy, or temperature sampling restricted by top-k / top-p.
    private func sample(textLogits logits: [Float], options: ChatOptions) -> Int {
        if options.temperature == 0 {
            var best = 0
            for i in 1..<logits.count where logits[i] > logits[best] { best = i }
            return best
        }
        var order = Array(0..<logits.count).sorted { logits[$0] > logits[$1] }
        if options.topK > 0 { order = Array(order.prefix(options.topK)) }
        let top = logits[order[0]]
        var probs = order.map { expf((logits[$0] - top) / options.temperature) }
        let total = probs.reduce(0, +)
        probs = probs.map { $0 / total }
        if options.topP < 1 {
            var mass: Float = 0, keep = 0
            while keep < probs.count && mass < options.topP { mass += probs[keep]; keep += 1 }
            order = Array(order.prefix(keep)); probs = Array(probs.prefix(keep))
        }
        var u = rng.uniform() * probs.reduce(0, +)
        for (i, p) in probs.enumerated() { u -= p; if u < 0 { return order[i] } }
        return order.last!
    }
}
