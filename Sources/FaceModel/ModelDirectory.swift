import Foundation
import Tensor

/// A model directory (`Models/` ships one): `config.json`, `model.safetensors`, `tokenizer.json`
/// and the image tokenizer's `image_tokenizer*` files. Loading is strict: a missing file, a
/// config that does not validate, or weights missing, unused or mis-shaped fail with one line
/// naming the file and tensor.
public struct ModelDirectory {
    public let path: String
    public let config: ModelConfig
    public let model: UnifiedModel
    public let textTokenizer: TextTokenizer
    public let imageTokenizer: ImageTokenizer

    public static let configFile = "config.json"
    public static let weightsFile = "model.safetensors"
    public static let tokenizerFile = "tokenizer.json"

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
        model = UnifiedModel(config: config)
        try model.allParameters.load(from: SafetensorsFile(path: path + "/" + ModelDirectory.weightsFile))
    }

    /// An in-memory model (benchmarks, tests, a model being trained); nothing is checked.
    public init(config: ModelConfig, model: UnifiedModel, textTokenizer: TextTokenizer, imageTokenizer: ImageTokenizer,
                path: String = "<memory>") {
        self.path = path; self.config = config; self.model = model
        self.textTokenizer = textTokenizer; self.imageTokenizer = imageTokenizer
    }

    /// Writes a model directory: config, weights (F16 to keep `Models/` small), text tokenizer,
    /// and a copy of the image tokenizer's files from `imageTokenizerDirectory`.
    public static func export(model: UnifiedModel, textTokenizer: TextTokenizer, imageTokenizerDirectory: String,
                              to path: String) throws {
        let fm = FileManager.default
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
    }
}

extension ModelDirectory {
    /// The image tokenizer's files in a directory (`image_tokenizer*`), sorted.
    public static func imageTokenizerFiles(directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("image_tokenizer") }.sorted()
    }

    /// A hash of the image tokenizer's files: cached image codes are valid only for the same one.
    public static func imageTokenizerFingerprint(directory: String) throws -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for name in try imageTokenizerFiles(directory: directory) {
            for byte in Array(name.utf8) + (try AtomicFile.read(path: directory + "/" + name)) {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
        }
        return String(hash, radix: 16)
    }
}

public struct ModelDirectoryError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
