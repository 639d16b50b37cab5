import Foundation
import Testing
import Tensor
import Imaging
import FaceModel
@testable import Inference

/// Writes a tiny random model directory (16×16 images, 4×4 tokens of 8 codes) and loads it.
final class TinyModelFixture {
    let path: String
    let engine: Engine

    init(name: String, isolatedChatTurns: Bool = false) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("fs-engine-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let texts = (0..<40).map { "a young woman with green eyes and long hair number \($0 % 7)" } +
                    ["USER:", " ASSISTANT:", ChatFormat.describeQuestion]
        let text = try TextTokenizer.train(texts: texts, vocabSize: 300)
        var imageConfig = ImageTokenizerConfig()
        imageConfig.imageSize = 16
        imageConfig.bits = 3
        imageConfig.channels = [8, 8, 8]
        imageConfig.resBlocks = [0, 0, 0]
        imageConfig.groups = 4
        let image = try ImageTokenizer(config: imageConfig, seed: 1)
        try image.save(directory: path)
        var c = ModelConfig()
        c.textVocabSize = text.bpeVocabSize
        c.imageCodebookSize = imageConfig.codebookSize
        c.imageTokens = imageConfig.tokenCount
        c.dModel = 32; c.layers = 2; c.heads = 2; c.rotaryDims = 8
        c.maxPromptTokens = 12; c.maxSequenceLength = 200
        c.routedExperts = 4; c.expertHidden = 16
        c.sequenceMoE = false
        c.initStd = 0.3
        c.chatIsolatedTurns = isolatedChatTurns
        try ModelDirectory.export(model: UnifiedModel(config: c, seed: 7), textTokenizer: text, imageTokenizerDirectory: path, to: path)
        engine = try Engine(modelDirectory: path)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite(.serialized) struct EngineTests {
    @Test func generationIsDeterministicAndEmitsEveryStep() throws {
        let fixture = try TinyModelFixture(name: "gen")
        var options = GenerateOptions()
        options.steps = 5
        options.seed = 11
        var events: [StepEvent] = []
        let a = try fixture.engine.generate(prompt: "a young woman with green eyes", options: options) { events.append($0) }
        let b = try fixture.engine.generate(prompt: "a young woman with green eyes", options: options)
        options.seed = 12
        let c = try fixture.engine.generate(prompt: "a young woman with green eyes", options: options)
        #expect(a.codes == b.codes && a.image == b.image)
        #expect(a.codes != c.codes)
        #expect(events.count == 5)
        #expect(events.map(\.step) == Array(0..<5))
        let maskedCounts = events.map { $0.masked.filter { $0 }.count }
        #expect(maskedCounts == maskedCounts.sorted(by: >) && maskedCounts.last == 0)
        #expect(events.map(\.revealed.count).reduce(0, +) == 16)
        #expect(events.allSatisfy { $0.preview?.width == 16 && $0.routing.layers.count == 2 })
        #expect(events.last!.codes == a.codes)
        #expect(a.image.width == 16 && a.image.height == 16)
    }

    @Test func guidanceChangesTheResult() throws {
        let fixture = try TinyModelFixture(name: "cfg")
        var options = GenerateOptions()
        options.steps = 4
        options.cfg = 0
        let plain = try fixture.engine.generate(prompt: "green eyes", options: options)
        options.cfg = 3
        let guided = try fixture.engine.generate(prompt: "green eyes", options: options)
        #expect(plain.codes != guided.codes)
    }

    @Test func cancellationStopsBetweenSteps() throws {
        let fixture = try TinyModelFixture(name: "cancel")
        let cancel = Cancellation()
        var seen = 0
        #expect(throws: InferenceError.self) {
            _ = try fixture.engine.generate(prompt: "hair", cancel: cancel) { _ in seen += 1; cancel.cancel() }
        }
        #expect(seen == 1)
    }

    /// The KV-cached chat gives the same greedy answer as recomputing the whole sequence for
    /// every token, across two turns.
    @Test func cachedChatEqualsFullRecompute() throws {
        let fixture = try TinyModelFixture(name: "chat")
        let engine = fixture.engine
        let image = RGBImage(width: 16, height: 16, fill: (120, 80, 60))
        let session = try engine.chat(image: image)
        var options = ChatOptions()
        options.maxTokens = 6
        options.noRepeatNgram = 0
        var streamed: [Int] = []
        let first = try session.ask("What colour are her eyes?", options: options) { if $0.tokenID >= 0 { streamed.append($0.tokenID) } }
        _ = try session.ask("Is she smiling?", options: options)

        // Reference: the same context, no cache, one full forward per token.
        let model = engine.directory.model, tokenizer = engine.directory.textTokenizer, v = model.vocab
        let builder = SequenceBuilder(config: model.config)
        var ids = builder.mmu(imageIDs: session.imageCodes.map { v.imageOffset + $0 }, turns: [], userPrefix: [], assistantPrefix: []).0.ids
        func greedyAnswer(_ question: String, after previous: Bool) -> [Int] {
            if previous { ids.append(v.eos) }
            ids += tokenizer.encode(ChatFormat.userPrefix) + tokenizer.encode(ChatFormat.turnText(question)) + tokenizer.encode(ChatFormat.assistantPrefix)
            var answer: [Int] = []
            for _ in 0..<6 {
                let layout = SequenceLayout(task: .mmu, ids: ids, imageRange: 2..<(2 + builder.imageTokens),
                                            isPad: [Bool](repeating: false, count: ids.count), textTargets: [],
                                            textStart: builder.imageTokens + 3)
                let logits = GradMode.withoutGrad { model.textLogits(model.forward([layout]).hidden.indexSelect(rows: [ids.count - 1])) }.values
                let next = logits.indices.max { logits[$0] < logits[$1] }!
                if next == v.eos { break }
                answer.append(next)
                ids.append(next)
            }
            return answer
        }
        let reference1 = greedyAnswer("What colour are her eyes?", after: false)
        #expect(streamed == reference1)
        // Answers are shown without the space that follows "ASSISTANT:".
        func shown(_ ids: [Int]) -> String { String(tokenizer.decode(ids, skipSpecial: true).drop(while: \.isWhitespace)) }
        #expect(first == shown(reference1))
        let reference2 = greedyAnswer("Is she smiling?", after: true)
        #expect(session.turns[1].answer == shown(reference2))
        #expect(ids.starts(with: session.context) && session.context.count >= ids.count - 1)
    }

    /// A replayed turn puts exactly the tokens training would have (question and answer in
    /// chat format) into the context, and the conversation continues as after a real answer.
    @Test func replayedTurnsContinueLikeAnsweredOnes() throws {
        let fixture = try TinyModelFixture(name: "replay")
        let image = RGBImage(width: 16, height: 16, fill: (200, 150, 90))
        var options = ChatOptions()
        options.maxTokens = 5
        let real = try fixture.engine.chat(image: image)
        let answer = try real.ask("What colour is her hair?", options: options)
        let replayed = try fixture.engine.chat(image: image)
        try replayed.replay(question: "What colour is her hair?", answer: answer)
        let tokenizer = fixture.engine.directory.textTokenizer
        let start = try fixture.engine.chat(image: image).context
        let expected = start + tokenizer.encode(ChatFormat.userPrefix) + tokenizer.encode(ChatFormat.turnText("What colour is her hair?"))
            + tokenizer.encode(ChatFormat.assistantPrefix) + tokenizer.encode(ChatFormat.turnText(answer))
        #expect(replayed.context == expected)
        #expect(replayed.turns.count == 1 && replayed.turns[0].answer == answer)
        // Where the sampled answer is the tokenizer's own encoding, the two chats are the same
        // from here on.
        if real.context == expected {
            #expect(try replayed.ask("Is she smiling?", options: options) == (try real.ask("Is she smiling?", options: options)))
        } else {
            _ = try replayed.ask("Is she smiling?", options: options)
        }
        #expect(replayed.turns.count == 2)
    }

    /// A model trained on isolated turns answers each chat question as if it were asked alone
    /// after the image; the earlier turns stay in the transcript, not in the context.
    @Test func isolatedTurnsAnswerEachQuestionAsIfAskedAlone() throws {
        let fixture = try TinyModelFixture(name: "isolated", isolatedChatTurns: true)
        let image = RGBImage(width: 16, height: 16, fill: (90, 140, 60))
        var options = ChatOptions()
        options.maxTokens = 6
        let session = try fixture.engine.chat(image: image)
        #expect(session.isolatedTurns)
        let first = try session.ask("What colour are her eyes?", options: options)
        let second = try session.ask("Is she smiling?", options: options)
        let alone = try fixture.engine.chat(image: image)
        #expect(try alone.ask("Is she smiling?", options: options) == second)
        #expect(session.context == alone.context)
        #expect(session.turns.map(\.question) == ["What colour are her eyes?", "Is she smiling?"] && session.turns[0].answer == first)
        // A replayed turn is kept for the transcript only.
        let restored = try fixture.engine.chat(image: image)
        let start = restored.context
        try restored.replay(question: "What colour are her eyes?", answer: first)
        #expect(restored.context == start && restored.turns.count == 1)
        #expect(try restored.ask("Is she smiling?", options: options) == second)
        // A question too long for the context is refused without dropping the transcript.
        let long = String(repeating: "Is she young and smiling with long hair? ", count: 40)
        #expect(throws: InferenceError.self) { try restored.ask(long, options: options) }
        #expect(restored.turns.count == 2)
        // The same model told to keep the turns sees the first one.
        let shared = try fixture.engine.chat(image: image)
        shared.isolatedTurns = false
        _ = try shared.ask("What colour are her eyes?", options: options)
        _ = try shared.ask("Is she smiling?", options: options)
        #expect(shared.context.count > session.context.count)
    }

    /// A conversation longer than the model's context goes on: the earliest turns make way
    /// (as in training), and what stays is the image prefix followed by the latest turns.
    @Test func longConversationsForgetTheirEarliestTurns() throws {
        let fixture = try TinyModelFixture(name: "long")
        let image = RGBImage(width: 16, height: 16, fill: (120, 60, 30))
        var options = ChatOptions()
        options.maxTokens = 8
        let session = try fixture.engine.chat(image: image)
        let limit = fixture.engine.directory.config.maxSequenceLength
        var asked = 0
        for i in 0..<30 {
            _ = try session.ask("Is she young and smiling with long hair number \(i)?", options: options)
            asked += 1
            #expect(session.context.count < limit)
        }
        #expect(asked == 30)
        #expect(session.turns.count < 30 && session.turns.count >= 2)
        #expect(session.turns.last?.question == "Is she young and smiling with long hair number 29?")
        // The kept turns are exactly what a fresh chat holds after replaying them.
        let fresh = try fixture.engine.chat(image: image)
        for turn in session.turns.dropLast() { try fresh.replay(question: turn.question, answer: turn.answer) }
        let tokenizer = fixture.engine.directory.textTokenizer
        let lastQuestion = tokenizer.encode(ChatFormat.userPrefix) + tokenizer.encode(ChatFormat.turnText(session.turns.last!.question))
        #expect(Array(session.context.prefix(fresh.context.count + 1 + lastQuestion.count)) == fresh.context + [fixture.engine.directory.model.vocab.eos] + lastQuestion)
    }

    /// The n-gram block: the token that would complete a seen n-gram is banned, nothing else.
    @Test func repeatingTokensAreTheOnesThatCloseASeenNgram() {
        #expect(ChatSession.repeatingTokens(after: [5, 6, 7, 5, 6], n: 3) == [7])
        #expect(ChatSession.repeatingTokens(after: [5, 6, 7, 5, 6], n: 4) == [])
        #expect(ChatSession.repeatingTokens(after: [1, 2, 1, 3, 1], n: 2) == [2, 3])
        #expect(ChatSession.repeatingTokens(after: [4, 4, 4], n: 3) == [4])
        #expect(ChatSession.repeatingTokens(after: [9], n: 1) == [9])
        #expect(ChatSession.repeatingTokens(after: [1, 2, 3], n: 0) == [])
    }

    /// With the block on, no 4-gram occurs twice in an answer, even from a random model that
    /// otherwise loops.
    @Test func answersNeverRepeatABlockedNgram() throws {
        let fixture = try TinyModelFixture(name: "ngram")
        let session = try fixture.engine.chat(image: RGBImage(width: 16, height: 16, fill: (30, 90, 200)))
        var options = ChatOptions()
        options.maxTokens = 40
        var ids: [Int] = []
        _ = try session.ask("Describe her.", options: options) { if $0.tokenID >= 0 { ids.append($0.tokenID) } }
        var seen = Set<[Int]>()
        for start in 0..<max(0, ids.count - 3) {
            #expect(seen.insert(Array(ids[start..<(start + 4)])).inserted, "4-gram \(ids[start..<(start + 4)]) repeated")
        }
    }

    @Test func loadingIsStrict() throws {
        let fixture = try TinyModelFixture(name: "strict")
        // A config that disagrees with the weights' shapes names the tensor.
        var c = fixture.engine.directory.config
        c.dModel = 48
        try AtomicFile.write(Array(try c.jsonData()), to: fixture.path + "/config.json")
        #expect { try Engine(modelDirectory: fixture.path) } throws: { "\($0)".contains("embed.weight") || "\($0)".contains("shape") }
        #expect { try Engine(modelDirectory: fixture.path + "/missing") } throws: { "\($0)".contains("missing") }
    }
}
