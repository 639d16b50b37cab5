import Foundation
import Support
import Tensor

/// A model directory (`Models/` ships one): `config.json`, `model.safetensors`, `tokenizer.json`,
/// the image tokenizer's `image_tokenizer*` files and the image encoders' `encoder_*` files
/// (needed by the sequence-level MoE; loaded whenever present, since the face encoder is also
/// the attribute judge). Loading is strict: a missing file, a config that does not validate, or
/// weights missing, unused or mis-shaped fail with one line naming the file and tensor.
public struct ModelDirectory {
    public let path: String
    public let config: ModelConfig
    public let model: UnifiedModel
    public let textTokenizer: TextTokenizer
    public let imageTokenizer: ImageTokenizer
    /// The frozen CLIP and face encoders; nil only when absent and the sequence-level MoE is off.
    public let encoders: ImageEncoders?

    public static let configFile = "config.json"
    public static let weightsFile = "model.safetensors"
    public static let tokenizerFile = "tokenizer.json"

    /// Where to load the model from when `explicit` (`--model`) is nil: `$FACESTUDIO_MODEL`,
    /// `./Models`, the installed model, or the model of the checkout the binary was built in
    /// (`ResourceSearch`). The error lists every folder searched.
    public static func locate(explicit: String?, search: ResourceSearch = ResourceSearch()) throws -> String {
        try search.locate("Models", explicit: explicit, variable: "FACESTUDIO_MODEL", marker: configFile, option: "--model")
    }

    public init(path: String) throws {
        self.path = path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw ModelDirectoryError("\(path): no such model directory")
        }
        config = try ModelConfig.load(path: path + "/" + ModelDirectory.configFile)
        textTokenizer = try TextTokenizer(contentsOf: path + "/" + ModelDirectory.tokenizerFile)
        guard textTokenizer.bpeVocabSize == config.textVocabSize else {
            throw ModelDirectoryError("\(path)/\(ModelDirectory.tokenizerFile): \(textTokenizer.bpeVocabSize) text tokens, config.json says text_vocab_size \(config.textVocabSize)")
        }
        imageTokenizer = try ImageTokenizer.load(directory: path)
        guard imageTokenizer.config.codebookSize == config.imageCodebookSize, imageTokenizer.config.tokenCount == config.imageTokens else {
            throw ModelDirectoryError("\(path): image tokenizer has \(imageTokenizer.config.codebookSize) codes × \(imageTokenizer.config.tokenCount) tokens, config.json wants \(config.imageCodebookSize) × \(config.imageTokens)")
        }
        if config.readsImageEmbeddings || ImageEncoders.present(directory: path) {
            guard ImageEncoders.present(directory: path) else {
                throw ModelDirectoryError("\(path): the model reads image embeddings (sequence_moe or an mmu_face_* path) but the image encoders (\(ImageEncoders.configFile) and the other encoder_* files) are missing; train them with `facestudio encoders train`")
            }
            let encoders = try ImageEncoders.load(directory: path)
            if config.readsImageEmbeddings { try ModelDirectory.check(encoders: encoders, against: config, path: path) }
            self.encoders = encoders
        } else {
            encoders = nil
        }
        let modelConfig = config
        model = WeightInit.skipped { UnifiedModel(config: modelConfig) }
        try model.allParameters.load(from: SafetensorsFile(path: path + "/" + ModelDirectory.weightsFile))
    }

    /// An in-memory model (benchmarks, tests, a model being trained); nothing is checked.
    public init(config: ModelConfig, model: UnifiedModel, textTokenizer: TextTokenizer, imageTokenizer: ImageTokenizer,
                encoders: ImageEncoders? = nil, path: String = "<memory>") {
        self.path = path; self.config = config; self.model = model
        self.textTokenizer = textTokenizer; self.imageTokenizer = imageTokenizer; self.encoders = encoders
    }

    /// The encoders' outputs must have the shapes the model's CLIP and face experts read.
    public static func check(encoders: ImageEncoders, against config: ModelConfig, path: String) throws {
        let e = encoders.config
        guard e.clipTokens == config.clipTokens, e.clipDim == config.clipDim, e.faceTokens == config.faceTokens, e.faceDim == config.faceDim else {
            throw ModelDirectoryError("\(path)/\(ImageEncoders.configFile): encoders give CLIP \(e.clipTokens)×\(e.clipDim) and face \(e.faceTokens)×\(e.faceDim) embeddings, config.json wants clip_tokens×clip_dim \(config.clipTokens)×\(config.clipDim) and face_tokens×face_dim \(config.faceTokens)×\(config.faceDim)")
        }
        if config.mmuFaceReadout, e.faceReadoutDim != config.faceReadoutDim {
            throw ModelDirectoryError("\(path)/\(ImageEncoders.configFile): the face encoder reads out \(e.faceReadoutDim) values, config.json wants face_readout_dim \(config.faceReadoutDim)")
        }
    }

    /// Writes a model directory: config, weights (F16 to keep `Models/` small), text tokenizer,
    /// a copy of the image tokenizer's files from `imageTokenizerDirectory`, and a copy of the
    /// image encoders' files from `encoderDirectory` (default: `imageTokenizerDirectory`,
    /// where `Models/` keeps both); those are required when the sequence-level MoE is on.
    public static func export(model: UnifiedModel, textTokenizer: TextTokenizer, imageTokenizerDirectory: String,
                              encoderDirectory: String? = nil, to path: String) throws {
        let fm = FileManager.default
        let encoderSource = encoderDirectory ?? imageTokenizerDirectory
        if ImageEncoders.present(directory: encoderSource) {
            if model.config.readsImageEmbeddings { try check(encoders: try ImageEncoders.load(directory: encoderSource), against: model.config, path: encoderSource) }
        } else if model.config.readsImageEmbeddings {
            throw ModelDirectoryError("\(encoderSource): no image encoders (\(ImageEncoders.configFile) …) for the image embeddings the model reads; train them with `facestudio encoders train` or turn sequence_moe and the mmu_face_* paths off")
        }
        try fm.createDirectory(atPath: path, withIntermediateDirectories: true)
        try AtomicFile.write(Array(try model.config.jsonData()), to: path + "/" + configFile)
        try model.allParameters.save(to: path + "/" + weightsFile, metadata: ["format": "facestudio-unified"], dtype: .f16)
        try textTokenizer.save(to: path + "/" + tokenizerFile)
        if URL(fileURLWithPath: imageTokenizerDirectory).standardized.path != URL(fileURLWithPath: path).standardized.path {
            for name in try imageTokenizerFiles(directory: imageTokenizerDirectory) {
                let bytes = try AtomicFile.read(path: imageTokenizerDirectory + "/" + name)
                try AtomicFile.write(bytes, to: path + "/" + name)
            }
        }
        if ImageEncoders.present(directory: encoderSource) && !samePath(encoderSource, path) {
            for name in ImageEncoders.files {
                try AtomicFile.write(try AtomicFile.read(path: encoderSource + "/" + name), to: path + "/" + name)
            }
        }
    }

    static func samePath(_ a: String, _ b: String) -> Bool {
        URL(fileURLWithPath: a).standardized.path == URL(fileURLWithPath: b).standardized.path
    }
}

extension ModelDirectory {
    /// The image tokenizer's files in a directory (`image_tokenizer*`), sorted.
    public static func imageTokenizerFiles(directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("image_tokenizer") }.sorted()
    }
}

public struct ModelDirectoryError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
