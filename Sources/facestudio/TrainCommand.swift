import ArgumentParser
import Foundation
import Support
import Tensor
import FaceModel
import Training

/// `facestudio train`: the unified model on a data set, resumable, with a progress line and a
/// JSONL metrics log.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the unified model (T2I with D3Diff + MMU with NTP) on a data set.",
        discussion: """
        Writes into --out: checkpoint.safetensors (weights, AdamW moments, step, RNG; every \
        checkpoint_every steps and on Ctrl-C), metrics.jsonl (one line per log_every steps), \
        tokenizer.json (trained from the data set's text unless present), image_codes.bin (the data \
        set encoded once by the image tokenizer), and at the end a model directory in --out/model.
        """)

    @Option(help: "Data set directory (captions.jsonl, llava_train.json, images/).")
    var data: String

    @Option(help: "JSON file: model settings at the top level, optional \"training\" object.")
    var config: String

    @Option(help: "Output directory for checkpoints, logs and the trained model.")
    var out: String

    @Option(help: "Directory holding the trained image tokenizer.")
    var imageTokenizer: String = "Models"

    @Option(help: "Directory holding the trained image encoders, read when sequence_moe is on (default: --image-tokenizer).")
    var encoders: String?

    @Flag(help: "Continue from --out/checkpoint.safetensors.")
    var resume = false

    @Option(help: "Total optimiser steps (overrides training.steps).")
    var steps: Int?

    @Option(name: .customLong("init"), help: ArgumentHelp(
        "Warm start: the weights of a training checkpoint or a model directory of the same config (fresh optimiser, schedule and step count).",
        discussion: "The run uses that model's text tokenizer.", valueName: "checkpoint-or-model-dir"))
    var initFrom: String?

    @Flag(help: "Print a JSON summary at the end instead of text.")
    var json = false

    func run() throws {
        var trainConfig = try UnifiedRun.trainingSection(path: config)
        if let steps { trainConfig.steps = steps }
        let run = UnifiedRun(data: data, modelConfig: try ModelConfig.load(path: config), trainConfig: trainConfig, out: out,
                             imageTokenizerDirectory: imageTokenizer, encoderDirectory: encoders ?? imageTokenizer,
                             resume: resume, quiet: json, initFrom: initFrom)
        let summary = try run.train()
        if json {
            let object: [String: Any] = ["steps": summary.steps, "model": summary.modelDirectory, "tokens_per_s": summary.tokensPerSecond]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("trained \(summary.steps) steps; model written to \(summary.modelDirectory)")
        }
    }
}

/// One training run of the unified model, from a data set directory to an exported model
/// directory in `out/model`: used by `train` and by `eval --ablation`.
struct UnifiedRun {
    var data: String
    var modelConfig: ModelConfig
    var trainConfig: TrainConfig
    var out: String
    var imageTokenizerDirectory: String
    var encoderDirectory: String
    var resume: Bool
    var quiet: Bool
    /// Where the text tokenizer, the image codes and the embeddings are cached (default: `out`);
    /// runs over the same data set can share it.
    var cacheDirectory: String? = nil
    /// A checkpoint file or model directory whose weights a new (not resumed) run starts from.
    var initFrom: String? = nil

    struct Summary { var steps: Int; var tokensPerSecond: Double; var modelDirectory: String }

    func train() throws -> Summary {
        var modelConfig = self.modelConfig
        try trainConfig.validate()
        let fm = FileManager.default
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        let cache = cacheDirectory ?? out
        try fm.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let checkpoint = out + "/checkpoint.safetensors"
        if fm.fileExists(atPath: checkpoint) && !resume {
            throw ValidationError("\(checkpoint) exists: pass --resume to continue it, or choose another --out")
        }

        if let initFrom { try adoptTextTokenizer(of: initFrom, into: cache + "/tokenizer.json") }
        let textTokenizer = try trainOrLoadTextTokenizer(path: cache + "/tokenizer.json", vocab: modelConfig.textVocabSize)
        modelConfig.textVocabSize = textTokenizer.bpeVocabSize
        // The chat should give the model the context it was trained on.
        modelConfig.chatIsolatedTurns = trainConfig.mmuIsolatedTurns
        try modelConfig.validate()

        let imageTokenizer = try ImageTokenizer.load(directory: imageTokenizerDirectory)
        guard imageTokenizer.config.codebookSize == modelConfig.imageCodebookSize, imageTokenizer.config.tokenCount == modelConfig.imageTokens else {
            throw ValidationError("image tokenizer has \(imageTokenizer.config.codebookSize) codes × \(imageTokenizer.config.tokenCount) tokens; config wants \(modelConfig.imageCodebookSize) × \(modelConfig.imageTokens)")
        }
        let images = try CorpusBuilder.images(dataDirectory: data)
        let codes = try CorpusBuilder.imageCodes(
            dataDirectory: data, images: images, tokens: modelConfig.imageTokens, cachePath: cache + "/image_codes.bin",
            fingerprint: imageTokenizer.encoderFingerprint, showProgress: !quiet) { image in try imageTokenizer.encode(image) }
        // The sequence-level MoE's CLIP and face experts and the direct face paths read the
        // frozen encoders' embeddings.
        var embeddings: [String: ImageEmbeddings]? = nil
        if modelConfig.readsImageEmbeddings {
            guard ImageEncoders.present(directory: encoderDirectory) else {
                throw ValidationError("the model reads image embeddings (sequence_moe or an mmu_face_* path) but \(encoderDirectory) holds no image encoders: train them with `facestudio encoders train` and pass --encoders, or turn sequence_moe and the mmu_face_* paths off")
            }
            let loaded = try ImageEncoders.load(directory: encoderDirectory)
            try ModelDirectory.check(encoders: loaded, against: modelConfig, path: encoderDirectory)
            embeddings = try CorpusBuilder.imageEmbeddings(dataDirectory: data, images: images, encoders: loaded,
                                                           cachePath: cache + "/image_embeddings.safetensors",
                                                           fingerprint: try ImageEncoders.fingerprint(directory: encoderDirectory), showProgress: !quiet)
        }
        let corpus = try CorpusBuilder.corpus(dataDirectory: data, split: "train", tokenizer: textTokenizer, codes: codes, embeddings: embeddings)
        // Held-out losses come from the test split (when the data set has one).
        let heldOut = try CorpusBuilder.corpus(dataDirectory: data, split: "test", tokenizer: textTokenizer, codes: codes, embeddings: embeddings)

        let model = UnifiedModel(config: modelConfig, seed: trainConfig.seed)
        let targetWeights = try AnswerTokenWeights(trainConfig.mmuTokenWeights, tokenizer: textTokenizer)
        if !quiet && !targetWeights.isEmpty {
            FileHandle.standardError.write(Data("weighted answer tokens: \(targetWeights.summary(tokenizer: textTokenizer))\n".utf8))
        }
        let trainer = try UnifiedTrainer(model: model, config: trainConfig, corpus: corpus, targetWeights: targetWeights)
        let configJSON = String(decoding: try modelConfig.jsonData(), as: UTF8.self)
        let metricsPath = out + "/metrics.jsonl", heldOutPath = out + "/heldout.jsonl"
        if resume && fm.fileExists(atPath: checkpoint) {
            try trainer.restore(path: checkpoint)
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
        if evaluateHeldOut && trainer.step == 0 {
            lastHeldOut = trainer.heldOutLosses(heldOut)
            try heldOutLog.append(lastHeldOut!)
        }

        let interrupt = InterruptFlag()
        let progress = ProgressLine(label: "train", total: trainConfig.steps, unit: "step", startCount: trainer.step, enabled: !quiet)
        var tokens = 0, seconds = 0.0
        var recent: [Float] = []
        while trainer.step < trainConfig.steps && !interrupt.isSet {
            let m = trainer.trainStep()
            tokens += m.tokens; seconds += m.seconds
            recent.append(m.loss); if recent.count > 20 { recent.removeFirst() }
            if m.step % trainConfig.logEvery == 0 { try log.append(m) }
            if evaluateHeldOut && (trainer.step % trainConfig.evalEvery == 0 || trainer.step == trainConfig.steps) {
                lastHeldOut = trainer.heldOutLosses(heldOut)
                try heldOutLog.append(lastHeldOut!)
            }
            if trainer.step % trainConfig.checkpointEvery == 0 { try trainer.save(path: checkpoint, configJSON: configJSON) }
            let mean = recent.reduce(0, +) / Float(recent.count)
            var extra = String(format: "loss %.3f  %.0f tok/s", mean, Double(tokens) / max(seconds, 1e-9))
            if let h = lastHeldOut {
                extra += "  held-out" + (h.heldOutT2IMask.map { String(format: " mask %.3f", $0) } ?? "") + (h.heldOutNTP.map { String(format: " ntp %.3f", $0) } ?? "")
            }
            progress.update(trainer.step, extra: extra)
        }
        try trainer.save(path: checkpoint, configJSON: configJSON)
        progress.finish(trainer.step)
        if interrupt.isSet {
            FileHandle.standardError.write(Data("interrupted at step \(trainer.step); checkpoint saved, continue with --resume\n".utf8))
            throw ExitCode(130)
        }
        let modelDir = out + "/model"
        try ModelDirectory.export(model: model, textTokenizer: textTokenizer, imageTokenizerDirectory: imageTokenizerDirectory,
                                  encoderDirectory: encoderDirectory, to: modelDir)
        return Summary(steps: trainer.step, tokensPerSecond: Double(tokens) / max(seconds, 1e-9), modelDirectory: modelDir)
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
            throw ValidationError("--init \(source): no \(ModelDirectory.tokenizerFile) beside it; the warm start needs the text tokenizer it was trained with")
        }
        let bytes = try AtomicFile.read(path: sourcePath)
        if FileManager.default.fileExists(atPath: path) {
            guard try AtomicFile.read(path: path) == bytes else {
                throw ValidationError("--init \(source): \(path) differs from \(sourcePath); use another --out, or remove it")
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

    static func trainingSection(path: String) throws -> TrainConfig {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path): cannot read") }
        do { return try JSONDecoder().decode(TrainingFile.self, from: data).training } catch let e as DecodingError {
            throw ValidationError("\(path): training: \(describe(e))")
        }
    }
}
