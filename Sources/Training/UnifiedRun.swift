import Foundation
import Support
import Tensor
import FaceModel

/// One training run of the unified model, from a data set directory to an exported model
/// directory in `out/model`: what `facestudio train` and the ablation rows run. Resumable
/// (`resume`), with a progress line, a JSONL metrics log and held-out losses; Ctrl-C saves a
/// checkpoint and throws `TrainingInterrupted`.
public struct UnifiedRun {
    public var data: String
    public var modelConfig: ModelConfig
    public var trainConfig: TrainConfig
    public var out: String
    public var imageTokenizerDirectory: String
    public var encoderDirectory: String
    public var resume: Bool
    public var quiet: Bool
    /// Where the text tokenizer, the image codes and the embeddings are cached (default: `out`);
    /// runs over the same data set can share it.
    public var cacheDirectory: String?
    /// A checkpoint file or model directory whose weights a new (not resumed) run starts from.
    public var initFrom: String?

    public init(data: String, modelConfig: ModelConfig, trainConfig: TrainConfig, out: String, imageTokenizerDirectory: String,
                encoderDirectory: String, resume: Bool, quiet: Bool, cacheDirectory: String? = nil, initFrom: String? = nil) {
        self.data = data; self.modelConfig = modelConfig; self.trainConfig = trainConfig; self.out = out
        self.imageTokenizerDirectory = imageTokenizerDirectory; self.encoderDirectory = encoderDirectory
        self.resume = resume; self.quiet = quiet; self.cacheDirectory = cacheDirectory; self.initFrom = initFrom
    }

    public struct Summary { public var steps: Int; public var tokensPerSecond: Double; public var modelDirectory: String }

    var cache: String { cacheDirectory ?? out }
    var checkpointPath: String { out + "/checkpoint.safetensors" }

    /// What the run trains on, tokenised and cached before the first step.
    struct Inputs {
        var modelConfig: ModelConfig
        var textTokenizer: TextTokenizer
        var corpus: TrainingCorpus
        /// The test split, for held-out losses (empty when the data set has none).
        var heldOut: TrainingCorpus
    }

    public func train() throws -> Summary {
        try trainConfig.validate()
        let fm = FileManager.default
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: cache, withIntermediateDirectories: true)
        if fm.fileExists(atPath: checkpointPath) && !resume {
            throw TrainingError.config("\(checkpointPath) exists: pass --resume to continue it, or choose another --out")
        }
        let inputs = try prepareInputs()
        let model = UnifiedModel(config: inputs.modelConfig, seed: trainConfig.seed)
        let targetWeights = try AnswerTokenWeights(trainConfig.mmuTokenWeights, tokenizer: inputs.textTokenizer)
        if !quiet && !targetWeights.isEmpty {
            FileHandle.standardError.write(Data("weighted answer tokens: \(targetWeights.summary(tokenizer: inputs.textTokenizer))\n".utf8))
        }
        let trainer = try UnifiedTrainer(model: model, config: trainConfig, corpus: inputs.corpus, targetWeights: targetWeights)
        let configJSON = String(decoding: try inputs.modelConfig.jsonData(), as: UTF8.self)
        let throughput = try runSteps(trainer, model: model, heldOut: inputs.heldOut, configJSON: configJSON)
        let modelDir = out + "/model"
        try ModelDirectory.export(model: model, textTokenizer: inputs.textTokenizer, imageTokenizerDirectory: imageTokenizerDirectory,
                                  encoderDirectory: encoderDirectory, to: modelDir)
        return Summary(steps: trainer.step, tokensPerSecond: throughput, modelDirectory: modelDir)
    }

    /// The text tokenizer (adopted from a warm start, loaded from the cache or trained), the
    /// image codes and embeddings (cached), and the two splits as corpora.
    func prepareInputs() throws -> Inputs {
        var modelConfig = self.modelConfig
        let tokenizerPath = cache + "/" + ModelDirectory.tokenizerFile
        if let initFrom { try adoptTextTokenizer(of: initFrom, into: tokenizerPath) }
        let textTokenizer = try trainOrLoadTextTokenizer(path: tokenizerPath, vocab: modelConfig.textVocabSize)
        modelConfig.textVocabSize = textTokenizer.bpeVocabSize
        // The chat should give the model the context it was trained on.
        modelConfig.chatIsolatedTurns = trainConfig.mmuIsolatedTurns
        try modelConfig.validate()

        let imageTokenizer = try ImageTokenizer.load(directory: imageTokenizerDirectory)
        guard imageTokenizer.config.codebookSize == modelConfig.imageCodebookSize, imageTokenizer.config.tokenCount == modelConfig.imageTokens else {
            throw TrainingError.config("image tokenizer has \(imageTokenizer.config.codebookSize) codes × \(imageTokenizer.config.tokenCount) tokens; config wants \(modelConfig.imageCodebookSize) × \(modelConfig.imageTokens)")
        }
        let images = try CorpusBuilder.images(dataDirectory: data)
        let codes = try CorpusBuilder.imageCodes(
            dataDirectory: data, images: images, tokens: modelConfig.imageTokens, cachePath: cache + "/image_codes.bin",
            fingerprint: imageTokenizer.encoderFingerprint, showProgress: !quiet) { image in try imageTokenizer.encode(image) }
        let embeddings = try imageEmbeddings(images: images, modelConfig: modelConfig)
        return Inputs(modelConfig: modelConfig, textTokenizer: textTokenizer,
                      corpus: try CorpusBuilder.corpus(dataDirectory: data, split: "train", tokenizer: textTokenizer, codes: codes, embeddings: embeddings),
                      heldOut: try CorpusBuilder.corpus(dataDirectory: data, split: "test", tokenizer: textTokenizer, codes: codes, embeddings: embeddings))
    }

    /// The frozen encoders' embeddings of every image, when the model reads them (the
    /// sequence-level MoE's CLIP and face experts and the direct face paths); nil otherwise.
    func imageEmbeddings(images: [(id: String, path: String)], modelConfig: ModelConfig) throws -> [String: ImageEmbeddings]? {
        guard modelConfig.readsImageEmbeddings else { return nil }
        guard ImageEncoders.present(directory: encoderDirectory) else {
            throw TrainingError.config("the model reads image embeddings (sequence_moe or an mmu_face_* path) but \(encoderDirectory) holds no image encoders: train them with `facestudio encoders train` and pass --encoders, or turn sequence_moe and the mmu_face_* paths off")
        }
        let loaded = try ImageEncoders.load(directory: encoderDirectory)
        try ModelDirectory.check(encoders: loaded, against: modelConfig, path: encoderDirectory)
        return try CorpusBuilder.imageEmbeddings(dataDirectory: data, images: images, encoders: loaded,
                                                 cachePath: cache + "/image_embeddings.safetensors",
                                                 fingerprint: try ImageEncoders.fingerprint(directory: encoderDirectory), showProgress: !quiet)
    }

    /// Resumes or starts the logs, then trains to `trainConfig.steps` (checkpoints, metrics and
    /// held-out losses as configured); returns the tokens per second of the steps run here.
    func runSteps(_ trainer: UnifiedTrainer, model: UnifiedModel, heldOut: TrainingCorpus, configJSON: String) throws -> Double {
        let fm = FileManager.default
        let metricsPath = out + "/metrics.jsonl", heldOutPath = out + "/heldout.jsonl"
        if resume && fm.fileExists(atPath: checkpointPath) {
            _ = try trainer.restore(path: checkpointPath)
            try MetricsLog.truncate(path: metricsPath, after: trainer.step)
            try MetricsLog.truncate(path: heldOutPath, after: trainer.step + 1)
        } else {
            if let initFrom { try warmStart(model, from: initFrom) }
            try? fm.removeItem(atPath: metricsPath)
            try? fm.removeItem(atPath: heldOutPath)
        }
        let log = try MetricsLog(path: metricsPath), heldOutLog = try MetricsLog(path: heldOutPath)
        let evaluateHeldOut = trainConfig.evalEvery > 0 && !(heldOut.t2i.isEmpty && heldOut.mmu.isEmpty)
        var lastHeldOut: HeldOutMetrics? = nil
        func measureHeldOut() throws {
            lastHeldOut = trainer.heldOutLosses(heldOut)
            try heldOutLog.append(lastHeldOut!)
        }
        if evaluateHeldOut && trainer.step == 0 { try measureHeldOut() }

        let interrupt = InterruptFlag()
        let progress = ProgressLine(label: "train", total: trainConfig.steps, unit: "step", startCount: trainer.step, enabled: !quiet)
        var tokens = 0, seconds = 0.0
        var recent: [Float] = []
        while trainer.step < trainConfig.steps && !interrupt.isSet {
            let m = trainer.trainStep()
            tokens += m.tokens; seconds += m.seconds
            recent.append(m.loss); if recent.count > 20 { recent.removeFirst() }
            if m.step % trainConfig.logEvery == 0 { try log.append(m) }
            if evaluateHeldOut && (trainer.step % trainConfig.evalEvery == 0 || trainer.step == trainConfig.steps) { try measureHeldOut() }
            if trainer.step % trainConfig.checkpointEvery == 0 { try trainer.save(path: checkpointPath, configJSON: configJSON) }
            progress.update(trainer.step, extra: progressText(recent: recent, tokensPerSecond: Double(tokens) / max(seconds, 1e-9), heldOut: lastHeldOut))
        }
        try trainer.save(path: checkpointPath, configJSON: configJSON)
        progress.finish(trainer.step)
        if interrupt.isSet {
            FileHandle.standardError.write(Data("interrupted at step \(trainer.step); checkpoint saved, continue with --resume\n".utf8))
            throw TrainingInterrupted(step: trainer.step)
        }
        return Double(tokens) / max(seconds, 1e-9)
    }

    /// The progress line's tail: the recent mean loss, throughput and the last held-out losses.
    func progressText(recent: [Float], tokensPerSecond: Double, heldOut: HeldOutMetrics?) -> String {
        let mean = recent.reduce(0, +) / Float(max(recent.count, 1))
        var text = String(format: "loss %.3f  %.0f tok/s", mean, tokensPerSecond)
        if let h = heldOut {
            text += "  held-out" + (h.heldOutT2IMask.map { String(format: " mask %.3f", $0) } ?? "") + (h.heldOutNTP.map { String(format: " ntp %.3f", $0) } ?? "")
        }
        return text
    }

    /// A warm start's weights: from a model directory's weights file or a training checkpoint.
    func warmStart(_ model: UnifiedModel, from source: String) throws {
        // Weights this config adds that start neutral (the mmu_face_* projections) may be absent from it.
        let neutral = model.neutralAtInitParameterNames
        if isDirectory(source) {
            try model.allParameters.load(from: SafetensorsFile(path: source + "/" + ModelDirectory.weightsFile), allowMissing: neutral)
        } else {
            try TrainingCheckpoint.loadWeights(path: source, parameters: model.allParameters, allowMissing: neutral)
        }
    }

    /// The text tokenizer a warm start was trained with (a model directory's, or the one cached
    /// beside a checkpoint) becomes this run's: token ids must mean the same words.
    func adoptTextTokenizer(of source: String, into path: String) throws {
        let sourceDirectory = isDirectory(source) ? source : (source as NSString).deletingLastPathComponent
        let sourcePath = (sourceDirectory.isEmpty ? "." : sourceDirectory) + "/" + ModelDirectory.tokenizerFile
        guard FileManager.default.fileExists(atPath: sourcePath) else {
            throw TrainingError.config("--init \(source): no \(ModelDirectory.tokenizerFile) beside it; the warm start needs the text tokenizer it was trained with")
        }
        let bytes = try AtomicFile.read(path: sourcePath)
        if FileManager.default.fileExists(atPath: path) {
            guard try AtomicFile.read(path: path) == bytes else {
                throw TrainingError.config("--init \(source): \(path) differs from \(sourcePath); use another --out, or remove it")
            }
            return
        }
        try AtomicFile.write(bytes, to: path)
    }

    private func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// The tokenizer at `path`, or one trained on the data set's captions and conversations.
    func trainOrLoadTextTokenizer(path: String, vocab: Int) throws -> TextTokenizer {
        if FileManager.default.fileExists(atPath: path) { return try TextTokenizer(contentsOf: path) }
        let texts = try CorpusBuilder.texts(dataDirectory: data)
        let progress = ProgressLine(label: "text tokenizer", total: vocab, unit: "merge", enabled: !quiet)
        let tokenizer = try TextTokenizer.train(texts: texts, vocabSize: vocab + TextTokenizer.defaultSpecialTokens.count) { done, _ in
            progress.update(done)
        }
        progress.finish()
        try tokenizer.save(to: path)
        return tokenizer
    }

    /// The `training` section of a unified config file (defaults where it is absent).
    public static func trainingSection(path: String) throws -> TrainConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError.config("\(path): cannot read") }
        do { return try JSONDecoder().decode(TrainingFile.self, from: data).training } catch let e as DecodingError {
            throw TrainingError.config("\(path): training: \(describe(e))")
        }
    }
}

/// Training stopped by Ctrl-C or SIGTERM after saving a checkpoint (`--resume` continues it).
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public let step: Int
    public var description: String { "interrupted at step \(step); checkpoint saved, continue with --resume" }
}
