import ArgumentParser
import Foundation
import Support
import Tensor
import Imaging
import FaceModel
import Training
import FaceData
import Evaluation

// `facestudio tokenizer roundtrip|encode|decode|export`: a tokenizer applied to single files.

extension TokenizerCommand {
    struct Roundtrip: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Encode an image to codes and decode it back.")

        @Option(help: "Input PNG (the tokenizer's size, 64×64 by default).")
        var image: String

        @Option(help: "Output PNG.")
        var out: String

        @Option(help: "Tokenizer directory (or a training checkpoint.safetensors).")
        var model = "Models"

        @Flag(help: "Print JSON: {\"psnr_db\", \"distinct_codes\"}.")
        var json = false

        func run() throws {
            let tokenizer = try loadTokenizer(model)
            let input = try PNGCodec.read(path: image)
            let codes: [Int]
            do { codes = try tokenizer.encode(input) } catch { throw ValidationError("\(image): \(error)") }
            let output = try tokenizer.decode(codes)
            try PNGCodec.write(output, to: out)
            let psnr = ImageOps.psnr(input, output), distinct = Set(codes).count
            if json {
                try printJSON(["psnr_db": psnr.isFinite ? psnr : 100, "distinct_codes": Double(distinct)])
            } else {
                print(String(format: "%@ → %@: PSNR %.2f dB, %d distinct codes", image, out, psnr, distinct))
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a tokenizer directory (config + weights) from a training checkpoint, e.g. into Models/.")

        @Option(help: "A tokenizer training checkpoint.safetensors (or a tokenizer directory).")
        var model: String

        @Option(help: "Directory to write image_tokenizer_config.json and image_tokenizer.safetensors into.")
        var out: String

        @Flag(help: "Write the weights as F16 (half the size; what a committed staging copy of a run in progress uses).")
        var half = false

        func run() throws {
            let tokenizer = try loadTokenizer(model)
            // What the run trained against travels with its weights (TokenizerTrainer.provenance).
            try tokenizer.save(directory: out, metadata: TokenizerSource.provenance(ofCheckpoint: model), dtype: half ? .f16 : .f32)
            print("wrote \(out)/\(ImageTokenizer.configFileName) and \(out)/\(ImageTokenizer.weightsFileName)")
        }
    }

    /// The codes JSON of `encode` / `decode`: row-major grid, code = bits MSB-first.
    struct CodesFile: Codable {
        var bits: Int
        var side: Int
        var codes: [[Int]]
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Encode an image to its code grid as JSON: {\"bits\", \"side\", \"codes\": [[…], …]}.")

        @Option(help: "Input PNG.")
        var image: String

        @Option(help: "Write the JSON here instead of standard output.")
        var out: String?

        @Option(help: "Tokenizer directory (or a training checkpoint.safetensors).")
        var model = "Models"

        func run() throws {
            let tokenizer = try loadTokenizer(model)
            let input = try PNGCodec.read(path: image)
            let codes: [Int]
            do { codes = try tokenizer.encode(input) } catch { throw ValidationError("\(image): \(error)") }
            let side = tokenizer.config.tokensPerSide
            let file = CodesFile(bits: tokenizer.config.bits, side: side,
                                 codes: (0..<side).map { Array(codes[($0 * side)..<(($0 + 1) * side)]) })
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let text = String(decoding: try encoder.encode(file), as: UTF8.self)
            if let out { try AtomicFile.write(text: text + "\n", to: out) } else { print(text) }
        }
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decode a code grid (the JSON `encode` writes, or a flat array of codes) to a PNG.")

        @Option(help: "Codes JSON file.")
        var codes: String

        @Option(help: "Output PNG.")
        var out: String

        @Option(help: "Tokenizer directory (or a training checkpoint.safetensors).")
        var model = "Models"

        func run() throws {
            let tokenizer = try loadTokenizer(model)
            let bytes: [UInt8]
            do { bytes = try AtomicFile.read(path: codes, maxBytes: 1 << 24) } catch { throw ValidationError("\(error)") }
            let grid: [Int]
            if let file = try? JSONDecoder().decode(CodesFile.self, from: Data(bytes)) {
                guard file.bits == tokenizer.config.bits else {
                    throw ValidationError("\(codes): codes have \(file.bits) bits, the tokenizer in \(model) uses \(tokenizer.config.bits)")
                }
                if let row = file.codes.firstIndex(where: { $0.count != file.side }) {
                    throw ValidationError("\(codes): codes row \(row) has \(file.codes[row].count) entries, side is \(file.side)")
                }
                grid = file.codes.flatMap { $0 }
            } else if let flat = try? JSONDecoder().decode([Int].self, from: Data(bytes)) {
                grid = flat
            } else {
                throw ValidationError("\(codes): expected {\"bits\", \"side\", \"codes\": [[…]]} or a flat array of integers")
            }
            let image: RGBImage
            do { image = try tokenizer.decode(grid) } catch { throw ValidationError("\(codes): \(error)") }
            try PNGCodec.write(image, to: out)
        }
    }
}
