import ArgumentParser
import Foundation
import Tensor
import FaceModel
import Training

/// `facestudio model`: inspect a model directory, or write an untrained one (for developing the
/// studio and the engine before a trained model exists).
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Inspect or initialise model directories, and write their model cards.",
        subcommands: [Info.self, Init.self, Export.self, ModelCardCommand.self])

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model directory's configuration and size.")

        @OptionGroup var common: ModelOptions

        struct Report: Encodable {
            var directory: String
            var parameters: Int
            var active_parameters_per_token: Int
            var text_vocab_size: Int
            var image_tokens: Int
            var image_codebook_size: Int
            var config: ModelConfig
        }

        func run() throws {
            let model = try ModelDirectory.locate(explicit: common.model)
            let dir = try ModelDirectory(path: model)
            let c = dir.config
            let total = dir.model.parameterCount
            // Per token: attention + the shared and k routed experts of one group.
            let expert = 2 * c.dModel * c.expertHidden + c.expertHidden + c.dModel
            let active = c.layers * (4 * c.dModel * c.dModel + (c.sharedExperts + c.expertsPerToken) * expert)
            let report = Report(directory: model, parameters: total, active_parameters_per_token: active,
                                text_vocab_size: c.textVocabSize, image_tokens: c.imageTokens,
                                image_codebook_size: c.imageCodebookSize, config: c)
            if common.json { try printJSON(report); return }
            let facePaths = [(c.mmuFaceToken, "token on <|eoi|>"), (c.mmuFaceContext, "context on every text row"),
                             (c.mmuFaceReadout, "readout (\(c.faceReadoutDim) probabilities) on every text row")].filter(\.0).map(\.1)
            print("""
            \(model): \(String(format: "%.2f", Double(total) / 1e6))M parameters, \(String(format: "%.2f", Double(active) / 1e6))M active per token
              \(c.layers) layers × d_model \(c.dModel), \(c.heads) heads; token MoE \(c.tokenMoE ? "on" : "off") (\(c.sharedExperts) shared + \(c.routedExperts) routed, top-\(c.expertsPerToken)), sequence MoE \(c.sequenceMoE ? "on" : "off")
              text: \(c.textVocabSize) BPE tokens, prompts up to \(c.maxPromptTokens) tokens; image: \(c.imageTokens) tokens of \(c.imageCodebookSize) codes
            """)
            if !facePaths.isEmpty { print("  understanding also reads the face encoder directly: " + facePaths.joined(separator: ", ")) }
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an untrained (randomly initialised) model directory.",
            discussion: "The text tokenizer is trained on --data's text; the image tokenizer is copied from --image-tokenizer.")

        @Option(help: "Output model directory.")
        var out: String

        @Option(help: "Data set whose captions and conversations train the text tokenizer.")
        var data: String

        @Option(help: "Model settings JSON (defaults when omitted).")
        var config: String?

        @Option(help: "Directory holding the image tokenizer (default: the model, found as --model is).")
        var imageTokenizer: String?

        @Option(help: "Weight initialisation seed.")
        var seed: UInt64 = 0

        func run() throws {
            var c = try config.map { try ModelConfig.load(path: $0) } ?? ModelConfig()
            let texts = try CorpusBuilder.texts(dataDirectory: data)
            let tokenizer = try TextTokenizer.train(texts: texts, vocabSize: c.textVocabSize + TextTokenizer.defaultSpecialTokens.count)
            c.textVocabSize = tokenizer.bpeVocabSize
            let imageTokenizer = try ModelDirectory.locate(explicit: self.imageTokenizer)
            let image = try ImageTokenizer.load(directory: imageTokenizer)
            c.imageCodebookSize = image.config.codebookSize
            c.imageTokens = image.config.tokenCount
            try c.validate()
            try ModelDirectory.export(model: UnifiedModel(config: c, seed: seed), textTokenizer: tokenizer,
                                      imageTokenizerDirectory: imageTokenizer, to: out)
            print("wrote an untrained model to \(out)")
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn a training checkpoint into a model directory (to try a run that is still going, or was stopped).",
            discussion: "The config comes from the checkpoint, the text tokenizer from tokenizer.json beside it.")

        @Option(help: "A checkpoint written by `facestudio train`.")
        var checkpoint: String

        @Option(help: "Output model directory.")
        var out: String

        @Option(help: "Directory holding the image tokenizer the run used (default: the model, found as --model is).")
        var imageTokenizer: String?

        @Option(help: "Directory holding the image encoders (default: --image-tokenizer).")
        var encoders: String?

        func run() throws {
            let (config, step) = try TrainingCheckpoint.runInfo(path: checkpoint)
            let directory = (checkpoint as NSString).deletingLastPathComponent
            let tokenizer = try TextTokenizer(contentsOf: (directory.isEmpty ? "." : directory) + "/" + ModelDirectory.tokenizerFile)
            let model = UnifiedModel(config: config)
            try TrainingCheckpoint.loadWeights(path: checkpoint, parameters: model.allParameters)
            try ModelDirectory.export(model: model, textTokenizer: tokenizer,
                                      imageTokenizerDirectory: try ModelDirectory.locate(explicit: imageTokenizer),
                                      encoderDirectory: encoders, to: out)
            print("wrote \(out) from \(checkpoint) (step \(step.map(String.init) ?? "?"))")
        }
    }
}
