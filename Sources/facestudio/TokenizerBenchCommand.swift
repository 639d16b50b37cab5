import ArgumentParser
import Foundation
import Support
import Tensor
import Imaging
import FaceModel
import Training

/// Batch-1 tokenizer timings for `facestudio bench`: the shipped tokenizer in `directory` when
/// there is one, else a freshly initialised one of the default size (same cost).
func tokenizerBenchFigures(directory: String = "Models") throws -> [(String, Double)] {
    let loaded = try? ImageTokenizer.load(directory: directory)
    return try tokenizerBenchFigures(loaded ?? ImageTokenizer(config: ImageTokenizerConfig()))
}

/// Milliseconds to encode one image and to decode one code grid (batch 1, the preview path).
func tokenizerBenchFigures(_ tokenizer: ImageTokenizer) throws -> [(String, Double)] {
    let side = tokenizer.config.imageSize
    var rng = RNG(seed: 1)
    let image = RGBImage(width: side, height: side, pixels: (0..<(side * side * 3)).map { _ in UInt8(rng.int(256)) })
    let codes = try tokenizer.encode(image)
    let encode = Bench.time { _ = try? tokenizer.encode(image) }
    let decode = Bench.time { _ = try? tokenizer.decode(codes) }
    return [("tokenizer_encode_ms", encode * 1000), ("tokenizer_decode_ms", decode * 1000)]
}

extension TokenizerCommand {
    /// `facestudio tokenizer bench`: the preview path's cost for a trained tokenizer, or for the
    /// shape a config describes (weights random: the cost is the same), to size a decoder
    /// before training it.
    struct BenchTokenizer: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench", abstract: "Time batch-1 encode and decode of a tokenizer (or of a config's shape, untrained).")

        @Option(help: "A tokenizer directory or training checkpoint.")
        var model: String = "Models"

        @Option(help: "A tokenizer config file: time a freshly initialised tokenizer of its shape instead.")
        var config: String?

        @Flag(help: "Print JSON.")
        var json = false

        func run() throws {
            let tokenizer: ImageTokenizer
            if let config {
                tokenizer = try ImageTokenizer(config: try ImageTokenizerConfig.load(path: config))
            } else {
                tokenizer = try loadTokenizer(model)
            }
            let figures = try tokenizerBenchFigures(tokenizer)
            let parameters = tokenizer.allParameters.reduce(0) { $0 + $1.tensor.count }
            if json {
                var object: [String: Double] = ["parameters": Double(parameters)]
                for (k, v) in figures { object[k] = (v * 1000).rounded() / 1000 }
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
            } else {
                print("\(config ?? model): \(parameters) parameters; " + figures.map { String(format: "%@ %.2f", $0.0, $0.1) }.joined(separator: ", "))
            }
        }
    }
}
