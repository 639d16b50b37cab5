import Foundation
import Testing
import Tensor
import Imaging
import FaceModel
@testable import Inference

/// A tiny model directory with the sequence-level MoE on and tiny encoders beside it.
final class SequenceModelFixture {
    let path: String
    let engine: Engine

    static func encoders(imageSize: Int) throws -> ImageEncoders {
        let tokenizer = try TextTokenizer.train(texts: ["a face with green eyes", "a man in a hat"], vocabSize: 270, specialTokens: ["<|pad|>"])
        var c = EncoderConfig()
        c.imageSize = imageSize
        c.clip.channels = [4, 6]
        c.clip.tokenDim = 6
        c.clip.embedDim = 4
        c.clip.textVocabSize = tokenizer.vocabSize
        c.clip.textDim = 8; c.clip.textHeads = 2; c.clip.textLayers = 1; c.clip.maxTextTokens = 8
        c.face.channels = [4, 6]
        c.face.embedDim = 5
        c.face.attributes = ["a", "b"]
        return ImageEncoders(config: c, textTokenizer: tokenizer, seed: 2)
    }

    init(name: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("fs-seq-engine-\(name)-\(getpid())").path
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
        try ImageTokenizer(config: imageConfig, seed: 1).save(directory: path)
        let encoders = try SequenceModelFixture.encoders(imageSize: 16)
        try encoders.save(directory: path)
        var c = ModelConfig()
        c.textVocabSize = text.bpeVocabSize
        c.imageCodebookSize = imageConfig.codebookSize
        c.imageTokens = imageConfig.tokenCount
        c.dModel = 32; c.layers = 2; c.heads = 2; c.rotaryDims = 8
        c.maxPromptTokens = 12; c.maxSequenceLength = 200
        c.routedExperts = 4; c.expertHidden = 16
        c.resamplerDim = 8; c.resamplerHeads = 2; c.resamplerDepth = 1; c.noiseEmbeddingDim = 8
        c.clipTokens = encoders.config.clipTokens; c.clipDim = encoders.config.clipDim
        c.faceTokens = encoders.config.faceTokens; c.faceDim = encoders.config.faceDim
        c.initStd = 0.3
        let model = UnifiedModel(config: c, seed: 7)
        // Decisive routers and blending conditioning experts, so every expert matters.
        var rng = RNG(seed: 3)
        for block in model.blocks {
            for moe in [block.t2iSequenceMoE!, block.mmuSequenceMoE!] {
                moe.router.weight.copyValues(from: Tensor.randn(moe.router.weight.shape, std: 3, rng: &rng))
                for (_, beta) in moe.betaLogits { beta.data[0] = 0 }
            }
        }
        try ModelDirectory.export(model: model, textTokenizer: text, imageTokenizerDirectory: path, to: path)
        engine = try Engine(modelDirectory: path)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

@Suite(.serialized) struct SequenceMoEEngineTests {
    @Test func generationTracesBothRoutingLevels() throws {
        let fixture = try SequenceModelFixture(name: "gen")
        var options = GenerateOptions()
        options.steps = 3
        var events: [StepEvent] = []
        let a = try fixture.engine.generate(prompt: "a young woman with green eyes", options: options) { events.append($0) }
        let b = try fixture.engine.generate(prompt: "a young woman with green eyes", options: options)
        #expect(a.codes == b.codes)
        #expect(events.count == 3)
        for e in events {
            #expect(e.routing.layers.count == 2 && e.routing.sequenceLayers.count == 2)
            for s in e.routing.sequenceLayers {
                #expect(s.experts == ["copy", "zero", "noise"] && s.chosen.count == 2 && Set(s.chosen).count == 2)
                #expect(Swift.abs(s.gates.reduce(0, +) - 1) < 1e-5 && Swift.abs(s.weights.reduce(0, +) - 1) < 1e-5)
            }
        }
    }

    /// The KV-cached chat equals recomputing the whole sequence for every token, with the
    /// sequence-level MoE on (routing decided from the image prefix) across two turns.
    @Test func cachedChatEqualsFullRecompute() throws {
        let fixture = try SequenceModelFixture(name: "chat")
        let engine = fixture.engine
        var rng = RNG(seed: 5)
        let image = RGBImage(width: 16, height: 16, pixels: (0..<(16 * 16 * 3)).map { _ in UInt8(rng.int(256)) })
        let session = try engine.chat(image: image)
        let embeddings = try #require(session.imageEmbeddings)
        #expect(embeddings == (try engine.directory.encoders!.embeddings(image)))
        var options = ChatOptions()
        options.maxTokens = 6
        options.noRepeatNgram = 0
        var streamed: [Int] = [], traces: [RoutingTrace] = []
        _ = try session.ask("What colour are her eyes?", options: options) { if $0.tokenID >= 0 { streamed.append($0.tokenID); traces.append($0.routing) } }
        _ = try session.ask("Is she smiling?", options: options)

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
                let logits = GradMode.withoutGrad {
                    model.textLogits(model.forward([layout], conditioning: [.image(embeddings)]).hidden.indexSelect(rows: [ids.count - 1]))
                }.values
                let next = logits.indices.max { logits[$0] < logits[$1] }!
                if next == v.eos { break }
                answer.append(next)
                ids.append(next)
            }
            return answer
        }
        #expect(streamed == greedyAnswer("What colour are her eyes?", after: false))
        #expect(session.turns[1].answer == tokenizer.decode(greedyAnswer("Is she smiling?", after: true), skipSpecial: true))
        // Every token's trace holds both levels, with the MMU group's experts.
        #expect(!traces.isEmpty && traces.allSatisfy { $0.sequenceLayers.count == 2 && $0.sequenceLayers[0].experts == ["copy", "clip", "face"] })
        // The embeddings matter: other embeddings give other hidden states.
        let prefix = builder.mmu(imageIDs: session.imageCodes.map { v.imageOffset + $0 }, turns: [], userPrefix: [], assistantPrefix: []).0
        var other = embeddings
        other.face = other.face.map { $0 + 1 }
        other.clip = other.clip.map { -$0 }
        let h1 = GradMode.withoutGrad { model.forward([prefix], conditioning: [.image(embeddings)]).hidden.values }
        let h2 = GradMode.withoutGrad { model.forward([prefix], conditioning: [.image(other)]).hidden.values }
        #expect(h1 != h2)
    }

    @Test func encodersLoadStrictlyWithTheModel() throws {
        let fixture = try SequenceModelFixture(name: "strict")
        #expect(fixture.engine.directory.encoders != nil)
        // Encoders whose embeddings have other shapes are refused, naming the fields.
        let wide = try SequenceModelFixture.encoders(imageSize: 32)
        try wide.save(directory: fixture.path)
        #expect { try Engine(modelDirectory: fixture.path) } throws: { "\($0)".contains("clip_tokens") }
        // A missing encoder file is named.
        try FileManager.default.removeItem(atPath: fixture.path + "/" + ImageEncoders.faceFile)
        #expect { try Engine(modelDirectory: fixture.path) } throws: { "\($0)".contains(ImageEncoders.faceFile) }
        // Without any encoder file the sequence-level MoE cannot run.
        for name in ImageEncoders.files { try? FileManager.default.removeItem(atPath: fixture.path + "/" + name) }
        #expect { try Engine(modelDirectory: fixture.path) } throws: { "\($0)".contains("encoders") }
        // And exporting such a model without encoders is refused up front.
        let model = fixture.engine.directory.model
        #expect { try ModelDirectory.export(model: model, textTokenizer: fixture.engine.directory.textTokenizer,
                                            imageTokenizerDirectory: fixture.path, to: fixture.path + "/copy") } throws: { "\($0)".contains("encoders") }
    }
}
