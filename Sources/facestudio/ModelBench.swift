import Foundation
import Tensor
import Imaging
import FaceModel
import Inference
import Training

/// The model-level figures of `facestudio bench`: generation, chat decoding and training speed.
/// They run on the model in `directory` when it loads, else on a randomly initialised model of
/// the default configuration (speed does not depend on the weights).
struct ModelBench {
    let engine: Engine
    let source: String

    init(directory: String) throws {
        if let loaded = try? Engine(modelDirectory: directory) {
            engine = loaded
            source = directory
            return
        }
        let config = ModelConfig()
        let text = try TextTokenizer.train(texts: ["a young woman with long wavy brown hair and green eyes"],
                                           vocabSize: 300)
        let image = try ImageTokenizer(config: ImageTokenizerConfig())
        engine = Engine(directory: ModelDirectory(config: config, model: UnifiedModel(config: config), textTokenizer: text,
                                                   imageTokenizer: image))
        source = "random default config"
    }

    static let generationPrompt = "a smiling young woman with long wavy blond hair, green eyes and round eyeglasses"

    /// Milliseconds per MaskGIT step and per image (K = 12, CFG on, preview decode included;
    /// without `previews`, the network's own time).
    func generation(previews: Bool = true) throws -> (stepMs: Double, imageMs: Double) {
        var options = GenerateOptions()
        options.previews = previews
        _ = try timedImage(options)  // warm-up
        var best = Double.infinity
        for seed in 1...4 {
            options.seed = UInt64(seed)
            best = min(best, try timedImage(options).seconds)
        }
        return (best * 1000 / Double(options.steps), best * 1000)
    }

    /// The MaskGIT step's model FLOPs per second (previews off) as a share of the sgemm peak,
    /// each image timed beside its own peak measurement (`Bench.shareOfPeak`).
    func maskgitShareOfPeak(peakSize: Int, rounds: Int = 5) throws -> Double {
        var options = GenerateOptions()
        options.previews = false
        _ = try timedImage(options)  // warm-up
        var seed: UInt64 = 0
        return try Bench.shareOfPeak(rounds: rounds, peakSize: peakSize) {
            seed += 1
            options.seed = seed
            let image = try timedImage(options)
            let flops = Double(options.steps) * maskgitStepFLOPs(unknownSlots: image.meanUnknownSlots)
            return flops / image.seconds / 1e9
        }
    }

    /// One image of the bench prompt: seconds, and the mean number of still-masked slots per step.
    private func timedImage(_ options: GenerateOptions) throws -> (seconds: Double, meanUnknownSlots: Double) {
        let t0 = Bench.now()
        let result = try engine.generate(prompt: ModelBench.generationPrompt, options: options) { _ in }
        let seconds = Bench.now() - t0
        var left = engine.directory.config.imageTokens, total = 0
        for revealed in result.revealedPerStep { total += left; left -= revealed }
        return (seconds, Double(total) / Double(options.steps))
    }

    /// Tokens per second decoding at a context of about `context` tokens, with the KV cache and
    /// by recomputing the whole sequence for each token.
    func decoding(context: Int, tokens: Int = 24) throws -> (kv: Double, noKV: Double) {
        let model = engine.directory.model
        let builder = SequenceBuilder(config: engine.directory.config)
        let v = model.vocab
        let image = [Int](repeating: v.imageOffset, count: builder.imageTokens)
        let textLength = max(context - builder.imageTokens - 4, 1)
        let filler = [Int](repeating: 5, count: textLength)
        let layout = builder.mmu(imageIDs: image, turns: [.init(user: filler, assistant: nil)], userPrefix: [], assistantPrefix: []).0
        // With the cache: prefill once, then single-token steps (gemv).
        let cache = KVCache(layers: model.config.layers)
        _ = GradMode.withoutGrad { model.forward([layout], cache: cache) }
        // Best of a few rounds from the same prefilled cache (one round is only ~20 ms).
        var kv = 0.0
        for _ in 0..<5 {
            cache.truncate(to: layout.count)
            let t0 = Bench.now()
            for i in 0..<tokens {
                let position = layout.count + i
                let step = SequenceLayout(task: .mmu, ids: [7], imageRange: layout.imageRange, isPad: [false], textTargets: [], textStart: 0)
                let mask = Tensor(zeros: [1, 1, position + 1])
                _ = GradMode.withoutGrad { model.textLogits(model.forward([step], mask: mask, cache: cache, positionOffset: position).hidden) }
            }
            kv = max(kv, Double(tokens) / (Bench.now() - t0))
        }
        // Without: the whole sequence every token (fewer tokens: it is slow).
        let slowTokens = max(tokens / 4, 2)
        var growing = layout
        let t0 = Bench.now()
        for _ in 0..<slowTokens {
            growing.ids.append(7); growing.isPad.append(false)
            _ = GradMode.withoutGrad { () -> Tensor in
                let h = model.forward([growing]).hidden
                return model.textLogits(h.indexSelect(rows: [growing.count - 1]))
            }
        }
        return (kv, Double(slowTokens) / (Bench.now() - t0))
    }

    /// Training tokens per second (best round) and model-FLOPs utilisation (each round's share of
    /// an sgemm peak measured beside it, the median; `Bench.shareOfPeak`), on a synthetic corpus
    /// (the data do not change the speed).
    func training(peakSize: Int, steps: Int = 2, rounds: Int = 5) throws -> (tokensPerS: Double, mfu: Double) {
        let c = engine.directory.config
        var rng = RNG(seed: 1)
        let examples = (0..<16).map { _ in
            (prompt: (0..<40).map { _ in rng.int(c.textVocabSize) }, codes: (0..<c.imageTokens).map { _ in rng.int(c.imageCodebookSize) })
        }
        let corpus = TrainingCorpus(
            t2i: examples.map { T2IExample(prompt: $0.prompt, codes: $0.codes) },
            mmu: examples.map {
                MMUExample(codes: $0.codes, turns: [.init(user: Array($0.prompt.prefix(12)), assistant: Array($0.prompt.suffix(12)))],
                           embeddings: c.readsImageEmbeddings ? .zeros(for: c) : nil)
            },
            userPrefix: [1], assistantPrefix: [2])
        let model = UnifiedModel(config: c, seed: 3)
        let trainer = try UnifiedTrainer(model: model, config: TrainConfig(), corpus: corpus)
        _ = trainer.trainStep()  // warm-up
        // (6·N_active + 12·L·T·d) FLOPs per token, T ≈ the T2I sequence length (40-token prompts).
        let builder = SequenceBuilder(config: c)
        let T = Double(builder.t2iLength - builder.promptLength + builder.promptSlots([[Int](repeating: 0, count: 40)]))
        let flopsPerToken = 6 * activeParameters + 12 * Double(c.layers) * T * Double(c.dModel)
        var best = 0.0
        let mfu = Bench.shareOfPeak(rounds: rounds, peakSize: peakSize) {
            var tokens = 0
            let t0 = Bench.now()
            for _ in 0..<steps { tokens += trainer.trainStep().tokens }
            let perS = Double(tokens) / (Bench.now() - t0)
            best = max(best, perS)
            return perS * flopsPerToken / 1e9
        }
        return (best, mfu)
    }

    /// Weights one token multiplies by: attention and the shared + top-k experts of one group.
    var activeParameters: Double {
        let c = engine.directory.config
        let expert = Double(2 * c.dModel * c.expertHidden)
        return Double(c.layers) * (4 * Double(c.dModel * c.dModel) + Double(c.sharedExperts + c.expertsPerToken) * expert)
    }

    /// Model FLOPs of one MaskGIT step with CFG on the bench's prompt: the forward pass over
    /// both T2I rows (2·N_active + 4·L·T·d per token, T the length the prompt needs) and the
    /// image-code logits of both rows' still-masked slots (`unknownSlots` on average).
    func maskgitStepFLOPs(unknownSlots: Double) -> Double {
        let c = engine.directory.config
        let builder = SequenceBuilder(config: c)
        let slots = builder.promptSlots([engine.directory.textTokenizer.encode(ModelBench.generationPrompt)])
        let T = Double(builder.t2iLength - builder.promptLength + slots), d = Double(c.dModel)
        let body = T * (2 * activeParameters + 4 * Double(c.layers) * T * d)
        let head = unknownSlots * 2 * d * Double(c.imageCodebookSize)
        return 2 * (body + head)
    }
}
