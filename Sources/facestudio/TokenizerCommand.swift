import ArgumentParser
import Foundation
import Support
import Tensor
import Imaging
import FaceModel
import Training
import FaceData
import Evaluation

/// `facestudio tokenizer …`: train, evaluate and run the LFQ image tokenizer.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train, evaluate and run the LFQ image tokenizer (64×64 image ↔ 16×16 codes).",
        subcommands: [Train.self, Eval.self, Roundtrip.self, Encode.self, Decode.self, Export.self, BenchTokenizer.self])
}

/// Loads the tokenizer of a model directory, or the weights of a training checkpoint (a
/// `checkpoint.safetensors` path, to look at a run in progress), as a one-line error naming the file.
private func loadTokenizer(_ path: String) throws -> ImageTokenizer {
    do {
        guard path.hasSuffix(".safetensors") else { return try ImageTokenizer.load(directory: path) }
        let file = try SafetensorsFile(path: path)
        guard let json = file.metadata["config"] else { throw ValidationError("\(path): no \"config\" in the metadata (not a tokenizer training checkpoint)") }
        let config = try TokenizerConfigFile.decode(Data(json.utf8), path: path + " (config)").model
        let tokenizer = try ImageTokenizer(config: config)
        // A checkpoint also holds optimiser moments and, in an adversarial run, the discriminator.
        let trainingOnly = file.names.filter { $0.hasPrefix("optimizer.") || $0.hasPrefix(TokenizerTrainer.discriminatorPrefix + ".") }
        try tokenizer.allParameters.load(from: file, allowUnused: Set(trainingOnly))
        return tokenizer
    } catch let e as ValidationError { throw e } catch {
        throw ValidationError("\(error)")
    }
}

extension TokenizerCommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train the image tokenizer on a data set's training split.",
            discussion: """
            Writes into --out: config.json (model settings and a "training" object; a resume reads it \
            back), checkpoint.safetensors (weights, AdamW moments, step, RNG; every checkpoint_every \
            steps and on Ctrl-C), metrics.jsonl, and at the end the tokenizer in --out/model \
            (image_tokenizer_config.json + image_tokenizer.safetensors).
            """)

        @Option(help: "Data set directory (captions.jsonl and images/).")
        var data: String

        @Option(help: "Output directory for checkpoints, logs and the trained tokenizer.")
        var out: String

        @Option(help: "JSON file: tokenizer settings at the top level, optional \"training\" object (default: built-in settings, or --out/config.json on --resume).")
        var config: String?

        @Flag(help: "Continue from --out/checkpoint.safetensors.")
        var resume = false

        @Option(help: "Total optimiser steps (overrides training.steps).")
        var steps: Int?

        @Option(help: "Held-out images for the evaluation at the end (0: skip it).")
        var evalImages = 1000

        @Option(help: ArgumentHelp(
            "Train only the decoder, on the frozen encoder of this tokenizer (a model directory).",
            discussion: "Codes stay exactly as they were, so a unified model trained on them stays valid. The config may give the decoder other widths, depths or norms (decoder_channels, decoder_res_blocks, decoder_norm), not the encoder.",
            valueName: "dir"))
        var encoderFrom: String?

        @Option(name: .customLong("init"), help: ArgumentHelp(
            "Warm start: every weight of this tokenizer (a model directory or a training checkpoint), with a fresh optimiser, schedule and step count.",
            discussion: "Its tensors must have the config's shapes. With --encoder-from, it continues a decoder-only retrain from a shipped decoder: --init Models --encoder-from Models.",
            valueName: "dir"))
        var initFrom: String?

        @Option(help: ArgumentHelp(
            "The network of the perceptual term (training.perceptual_weight): the CLIP image tower of this encoders directory (e.g. Models).",
            discussion: "Not the face-attribute encoder: that one judges round trips in eval and tokenizer eval --judge, and a tokenizer must not train against its judge. Give it again on --resume.",
            valueName: "dir"))
        var perceptualFrom: String?

        @Option(help: "Also write a checkpoint whenever this many minutes have passed since the last one (0: only every checkpoint_every steps).")
        var checkpointMinutes: Double = 10

        @Flag(help: "Print a JSON summary at the end instead of text.")
        var json = false

        func run() throws {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let checkpoint = out + "/checkpoint.safetensors", configCopy = out + "/config.json"
            let hasCheckpoint = FileManager.default.fileExists(atPath: checkpoint)
            if hasCheckpoint && !resume {
                throw ValidationError("\(checkpoint) exists: pass --resume to continue it, or choose another --out")
            }
            var file = try readConfig(path: config ?? (resume && hasCheckpoint ? configCopy : nil))
            if let steps { file.training.steps = steps }
            try file.training.validate()
            let configJSON = try file.jsonString()
            try AtomicFile.write(text: configJSON + "\n", to: configCopy)

            let tokenizer = try ImageTokenizer(config: file.model, seed: file.training.seed)
            let resuming = resume && hasCheckpoint
            let decoderOnly = resuming ? try TokenizerTrainer.isDecoderOnly(checkpoint: checkpoint) : encoderFrom != nil
            if let initFrom, !resuming { try warmStart(tokenizer, from: initFrom) }
            if let encoderFrom, !resuming { try adoptEncoder(of: encoderFrom, into: tokenizer) }
            let images = try TokenizerImageSet.load(dataDirectory: data, split: "train", side: file.model.imageSize)
            let perceptual = try perceptualFrom.map { dir in
                do { return PerceptualDistance.clip(encoders: try ImageEncoders.load(directory: dir)) } catch {
                    throw ValidationError("--perceptual-from \(dir): \(error)")
                }
            }
            let trainer: TokenizerTrainer
            do {
                trainer = try TokenizerTrainer(tokenizer: tokenizer, config: file.training, images: images, decoderOnly: decoderOnly,
                                               perceptual: perceptual)
            } catch let error as TrainingError { throw ValidationError("\(error)") }
            let metricsPath = out + "/metrics.jsonl"
            if resuming {
                try trainer.restore(path: checkpoint)
                try MetricsLog.truncate(path: metricsPath, after: trainer.step)
            } else {
                try? FileManager.default.removeItem(atPath: metricsPath)
            }
            let log = try JSONLines(path: metricsPath)

            let t = file.training
            let interrupt = InterruptFlag()
            let progress = ProgressLine(label: "tokenizer", total: t.steps * t.batchSize, unit: "img",
                                        startCount: trainer.step * t.batchSize, enabled: !json)
            var recentLoss: [Float] = [], recentPSNR: [Float] = []
            var clock = CheckpointClock(every: t.checkpointEvery, minutes: checkpointMinutes)
            while trainer.step < t.steps && !interrupt.isSet {
                let m = trainer.trainStep()
                recentLoss.append(m.loss); recentPSNR.append(m.batchPSNR)
                if recentLoss.count > 20 { recentLoss.removeFirst(); recentPSNR.removeFirst() }
                if m.step % t.logEvery == 0 { try log.append(m) }
                if clock.shouldSave(afterStep: trainer.step) { try trainer.save(path: checkpoint, configJSON: configJSON) }
                let meanLoss = recentLoss.reduce(0, +) / Float(recentLoss.count)
                let meanPSNR = recentPSNR.reduce(0, +) / Float(recentPSNR.count)
                progress.update(trainer.step * t.batchSize, extra: String(
                    format: "step %d/%d  loss %.4f  psnr %.2f dB  lr %.2e", trainer.step, t.steps, meanLoss, meanPSNR, m.learningRate))
            }
            try trainer.save(path: checkpoint, configJSON: configJSON)
            progress.finish(trainer.step * t.batchSize)
            if interrupt.isSet {
                FileHandle.standardError.write(Data("interrupted at step \(trainer.step); checkpoint saved, continue with --resume\n".utf8))
                throw ExitCode(130)
            }
            let modelDirectory = out + "/model"
            try tokenizer.save(directory: modelDirectory, metadata: trainer.provenance)

            var evaluation: TokenizerEvaluation? = nil
            if evalImages > 0 {
                let test = try TokenizerImageSet.load(dataDirectory: data, split: "test", side: file.model.imageSize, limit: evalImages)
                evaluation = try TokenizerEvaluation.evaluate(tokenizer: tokenizer, images: test).0
            }
            if json {
                try printJSON(TrainSummary(steps: trainer.step, model: modelDirectory, evaluation: evaluation))
            } else {
                print("trained \(trainer.step) steps; tokenizer written to \(modelDirectory)")
                if let e = evaluation {
                    print(String(format: "held-out (%d images): PSNR %.2f dB, codebook usage %.3f, perplexity %.1f",
                                 e.images, e.psnrDB, e.codebookUsage, e.perplexity))
                }
            }
        }

        /// Copies a trained tokenizer's encoder weights into `tokenizer`, whose encoder settings
        /// must be the same.
        private func adoptEncoder(of directory: String, into tokenizer: ImageTokenizer) throws {
            do { try tokenizer.adoptEncoder(of: try loadTokenizer(directory)) } catch let e as ModelConfigError {
                throw ValidationError("--encoder-from \(directory): \(e.message)")
            }
        }

        private func warmStart(_ tokenizer: ImageTokenizer, from source: String) throws {
            do { try tokenizer.adoptWeights(of: try loadTokenizer(source)) } catch let e as ModelConfigError {
                throw ValidationError("--init \(source): \(e.message)")
            }
        }

        private struct TrainSummary: Encodable {
            var steps: Int
            var model: String
            var evaluation: TokenizerEvaluation?
        }

        private func readConfig(path: String?) throws -> TokenizerConfigFile {
            guard let path else { return TokenizerConfigFile() }
            let bytes: [UInt8]
            do { bytes = try AtomicFile.read(path: path, maxBytes: 1 << 20) } catch { throw ValidationError("\(error)") }
            do { return try TokenizerConfigFile.decode(Data(bytes), path: path) } catch let e as DecodingError {
                throw ValidationError("\(path): \(describe(e))")
            }
        }
    }

    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "PSNR, codebook usage and perplexity of a tokenizer on a data set split.")

        @Option(help: "Data set directory (captions.jsonl and images/).")
        var data: String

        @Option(help: "Directory holding image_tokenizer_config.json and image_tokenizer.safetensors, or a training checkpoint.safetensors.")
        var model = "Models"

        @Option(help: "Split to evaluate.")
        var split = "test"

        @Option(help: "Evaluate only the first N images of the split.")
        var limit: Int?

        @Option(help: "Also write a PNG of originals (odd rows) above their reconstructions (even rows).")
        var sheet: String?

        @Flag(help: "The sheet shows 16 faces with an expression or an action (both first) instead of the split's first 32: the details a tokenizer is most likely to lose.")
        var sheetExpressive = false

        @Option(help: "Also judge the round trips with the face-attribute encoder in this directory (e.g. Models): the caption claims it confirms on the real faces and on their reconstructions, in all and per attribute.")
        var judge: String?

        @Flag(help: "Print JSON: {\"psnr_db\", \"codebook_usage\", \"perplexity\", …; with --judge \"claims\"}.")
        var json = false

        /// The judge's verdicts: the claims of the split's captions confirmed on the real faces and
        /// on their reconstructions (the ceiling of a model that generates through this tokenizer).
        struct Claims: Encodable {
            struct Key: Encodable { var checked: Int, real: Double, reconstructed: Double }
            var checked: Int
            var real: Double
            var reconstructed: Double
            var by_claim: [String: Key]
            /// The same per kind of claim: appearance, details, action, emotion.
            var by_kind: [String: Key]
            /// Fréchet distances in the judge's features to the second half of the real faces:
            /// from the first half (the baseline) and from its round trips.
            var fd_real_baseline: Double?
            var fd_reconstructed: Double?
            var fd_images: Int
        }

        struct JudgedReport: Encodable {
            var evaluation: TokenizerEvaluation
            var claims: Claims
            enum Keys: String, CodingKey { case claims }
            // The evaluation's own keys, then "claims" beside them.
            func encode(to encoder: Encoder) throws {
                try evaluation.encode(to: encoder)
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(claims, forKey: .claims)
            }
        }

        /// Judges the round trips the evaluation already made, against the captions of their images.
        static func judgeClaims(_ judge: ClaimJudge, data: String, images: TokenizerImageSet, reconstructed: [RGBImage]) throws -> Claims {
            let byID = Dictionary(try FaceDataset.loadCaptions(directory: data).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            let records = images.ids.compactMap { byID[$0] }
            let verdict = try judge.roundTrip(records, realFaces: (0..<images.count).map(images.image), reconstructed: reconstructed)
            let real = verdict.real, roundTrip = verdict.reconstructed
            var byClaim: [String: Claims.Key] = [:]
            for (key, k) in real.byKey {
                byClaim[key] = .init(checked: k.checked, real: real.share(key), reconstructed: roundTrip.share(key))
            }
            let realKinds = real.byKind, roundTripKinds = roundTrip.byKind
            var byKind: [String: Claims.Key] = [:]
            for (kind, k) in realKinds where k.checked > 0 {
                let trip = roundTripKinds[kind] ?? (0, 0)
                byKind[kind] = .init(checked: k.checked, real: Double(k.confirmed) / Double(k.checked),
                                     reconstructed: Double(trip.confirmed) / Double(max(trip.checked, 1)))
            }
            return Claims(checked: real.checked, real: real.share, reconstructed: roundTrip.share, by_claim: byClaim, by_kind: byKind,
                          fd_real_baseline: verdict.fdRealBaseline, fd_reconstructed: verdict.fdReconstructed, fd_images: verdict.fdImages)
        }

        /// Indices (into `ids`) of up to `count` faces that show an action or an emotion other
        /// than neutral, faces with both first, each group in split order.
        static func expressiveFaces(data: String, ids: [String], count: Int) throws -> [Int] {
            let records = Dictionary(try FaceDataset.loadCaptions(directory: data).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let groups = Dictionary(uniqueKeysWithValues: FaceAttribute.all.map { ($0.name, $0.group) })
            func strength(_ id: String) -> Int {
                let present = records[id]?.attributes ?? []
                let action = present.contains { groups[$0] == .action }
                let emotion = present.contains { groups[$0] == .emotion && $0 != Emotion.neutral.rawValue }
                return (action ? 1 : 0) + (emotion ? 1 : 0)
            }
            let ranked = ids.indices.map { ($0, strength(ids[$0])) }.filter { $0.1 > 0 }
            return Array(ranked.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.prefix(count).map(\.0))
        }

        func run() throws {
            let tokenizer = try loadTokenizer(model)
            // Loaded first, so a wrong --judge fails before the evaluation's work.
            let claimJudge = try judge.map { ClaimJudge(encoders: try ImageEncoders.load(directory: $0)) }
            let images = try TokenizerImageSet.load(dataDirectory: data, split: split, side: tokenizer.config.imageSize, limit: limit)
            let progress = ProgressLine(label: "eval", total: images.count, unit: "img", enabled: !json)
            let (e, reconstructions) = try TokenizerEvaluation.evaluate(tokenizer: tokenizer, images: images) { progress.update($0) }
            progress.finish()
            if let sheet {
                let shown = sheetExpressive ? try Self.expressiveFaces(data: data, ids: images.ids, count: 16) : Array(0..<min(images.count, 32))
                let columns = 8
                var cells: [RGBImage] = []
                for row in stride(from: 0, to: shown.count, by: columns) {
                    let picked = shown[row..<min(row + columns, shown.count)]
                    cells += picked.map { images.image($0) } + picked.map { reconstructions[$0] }
                }
                try PNGCodec.write(ContactSheet.make(images: cells, columns: columns, cellScale: 2), to: sheet)
            }
            let claims = try claimJudge.map { try Self.judgeClaims($0, data: data, images: images, reconstructed: reconstructions) }
            if json {
                if let claims { try printJSON(JudgedReport(evaluation: e, claims: claims)) } else { try printJSON(e) }
            } else {
                print(String(format: "%d images: PSNR %.2f dB, codebook usage %.3f (%d codes, %.1f positions per code), perplexity %.1f",
                             e.images, e.psnrDB, e.codebookUsage, Int((e.codebookUsage * Double(e.codebookSize)).rounded()),
                             e.tokensPerCode, e.perplexity))
                if let usage = e.factorUsage, let perplexity = e.factorPerplexity {
                    print("factors: usage " + usage.map { String(format: "%.3f", $0) }.joined(separator: ", ")
                          + "; perplexity " + perplexity.map { String(format: "%.1f", $0) }.joined(separator: ", "))
                }
                if let claims {
                    print(String(format: "%d caption claims confirmed by the face encoder: %.3f on the real faces, %.3f after the round trip",
                                 claims.checked, claims.real, claims.reconstructed))
                    if let base = claims.fd_real_baseline, let trip = claims.fd_reconstructed {
                        print(String(format: "Fréchet distance to the other half of the real faces (%d each): %.1f real, %.1f round trip (%.2f× the real one)",
                                     claims.fd_images, base, trip, base > 0 ? trip / base : 0))
                    }
                    for kind in ClaimJudge.claimKinds {
                        guard let k = claims.by_kind[kind] else { continue }
                        // The share of what the judge sees on real faces that survives the round trip.
                        let label = kind.padding(toLength: 10, withPad: " ", startingAt: 0)
                        print(label + String(format: " %6d claims: %.3f real, %.3f round trip (kept %.3f)", k.checked, k.real,
                                             k.reconstructed, k.real > 0 ? k.reconstructed / k.real : 0))
                    }
                }
            }
        }
    }

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
            var metadata: [String: String] = [:]
            if model.hasSuffix(".safetensors"), let checkpoint = try? SafetensorsFile(path: model) {
                metadata["steps"] = checkpoint.metadata["step"]
                // What the run trained against travels with its weights (see TokenizerTrainer.provenance).
                for (key, value) in checkpoint.metadata where key.hasPrefix("extra.provenance.") {
                    metadata[String(key.dropFirst("extra.provenance.".count))] = value
                }
            }
            try tokenizer.save(directory: out, metadata: metadata, dtype: half ? .f16 : .f32)
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

/// Appends one JSON object per line (the tokenizer's `metrics.jsonl`).
private final class JSONLines {
    private let handle: FileHandle
    private let encoder = JSONEncoder()

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw ValidationError("\(path): cannot open for appending") }
        h.seekToEndOfFile()
        handle = h
        encoder.outputFormatting = [.sortedKeys]
    }

    deinit { try? handle.close() }

    func append<T: Encodable>(_ value: T) throws {
        var line = try encoder.encode(value)
        line.append(UInt8(ascii: "\n"))
        handle.write(line)
    }
}

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
