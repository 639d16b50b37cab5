import Foundation
import Tensor

// A tokenizer on disk is two files in a model directory (both named `image_tokenizer*`, which is
// how `ModelDirectory` finds and fingerprints them):
//   image_tokenizer_config.json   ImageTokenizerConfig (snake_case, defaults)
//   image_tokenizer.safetensors   the weights under their dotted names, loaded strictly

extension ImageTokenizer {
    public static let configFileName = "image_tokenizer_config.json"
    public static let weightsFileName = "image_tokenizer.safetensors"

    /// Loads a tokenizer strictly: the config must validate and every weight must be present
    /// with its shape, with nothing left over. Errors name the file and the field or tensor.
    public static func load(directory: String) throws -> ImageTokenizer {
        let config = try ImageTokenizerConfig.load(path: directory + "/" + configFileName)
        let tokenizer = try WeightInit.skipped { try ImageTokenizer(config: config) }
        let file = try SafetensorsFile(path: directory + "/" + weightsFileName)
        try tokenizer.allParameters.load(from: file)
        return tokenizer
    }

    /// Writes the config and the weights (F32 unless told otherwise; each file atomically),
    /// creating the directory.
    public func save(directory: String, metadata: [String: String] = [:], dtype: SafetensorsDType = .f32) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try AtomicFile.write(Array(try config.jsonData()) + [UInt8(ascii: "\n")], to: directory + "/" + ImageTokenizer.configFileName)
        var meta = metadata
        meta["format"] = "facestudio-image-tokenizer-v1"
        try allParameters.save(to: directory + "/" + ImageTokenizer.weightsFileName, metadata: meta, dtype: dtype)
    }
}
