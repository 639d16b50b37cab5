import ArgumentParser
import Foundation
import Support
import Tensor
import Imaging
import FaceModel
import Training
import FaceData
import Evaluation

extension TokenizerCommand {
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

        @Option(help: "Also judge the round trips with the face-attribute encoder in this directory (e.g. Models): the caption claims it confirms on the real faces and on their reconstructions, in all, per attribute and per kind, and the round trip's Fréchet distance in its features beside the real faces' own.")
        var judge: String?

        @Flag(help: "Print JSON: {\"psnr_db\", \"codebook_usage\", \"perplexity\", …; with --judge \"claims\"}.")
        var json = false

        /// The evaluation's keys with the judge's verdict beside them as "claims".
        struct JudgedReport: Encodable {
            var evaluation: TokenizerEvaluation
            var claims: TokenizerJudgement
            enum Keys: String, CodingKey { case claims }
            func encode(to encoder: Encoder) throws {
                try evaluation.encode(to: encoder)
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(claims, forKey: .claims)
            }
        }

        func run() throws {
            let tokenizer = try loadTokenizer(model)
            // Loaded first, so a wrong --judge fails before the evaluation's work.
            let claimJudge = try judge.map { ClaimJudge(encoders: try ImageEncoders.load(directory: $0)) }
            let images = try TokenizerImageSet.load(dataDirectory: data, split: split, side: tokenizer.config.imageSize, limit: limit)
            let progress = ProgressLine(label: "eval", total: images.count, unit: "img", enabled: !json)
            let (e, reconstructions) = try TokenizerEvaluation.evaluate(tokenizer: tokenizer, images: images) { progress.update($0) }
            progress.finish()
            let needsRecords = claimJudge != nil || (sheet != nil && sheetExpressive)
            let records = needsRecords ? try Self.records(of: images.ids, in: data) : []
            if let sheet { try writeSheet(sheet, images: images, reconstructions: reconstructions, records: records) }
            let claims = try claimJudge.map {
                try TokenizerJudgement.judge($0, records: records, realFaces: (0..<images.count).map(images.image), reconstructed: reconstructions)
            }
            if json {
                if let claims { try printJSON(JudgedReport(evaluation: e, claims: claims)) } else { try printJSON(e) }
                return
            }
            print(String(format: "%d images: PSNR %.2f dB, codebook usage %.3f (%d codes, %.1f positions per code), perplexity %.1f",
                         e.images, e.psnrDB, e.codebookUsage, Int((e.codebookUsage * Double(e.codebookSize)).rounded()),
                         e.tokensPerCode, e.perplexity))
            if let usage = e.factorUsage, let perplexity = e.factorPerplexity {
                print("factors: usage " + usage.map { String(format: "%.3f", $0) }.joined(separator: ", ")
                      + "; perplexity " + perplexity.map { String(format: "%.1f", $0) }.joined(separator: ", "))
            }
            claims?.summaryLines.forEach { print($0) }
        }

        /// The caption records of `ids`, in that order.
        static func records(of ids: [String], in data: String) throws -> [CaptionRecord] {
            let byID = Dictionary(try FaceDataset.loadCaptions(directory: data).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            return ids.compactMap { byID[$0] }
        }

        /// Originals (odd rows) above their round trips (even rows), 8 per row: the split's first
        /// 32, or 16 faces with an expression or an action.
        private func writeSheet(_ path: String, images: TokenizerImageSet, reconstructions: [RGBImage], records: [CaptionRecord]) throws {
            let shown = sheetExpressive ? TokenizerJudgement.expressiveFaces(records, ids: images.ids, count: 16)
                                        : Array(0..<min(images.count, 32))
            let columns = 8
            var cells: [RGBImage] = []
            for row in stride(from: 0, to: shown.count, by: columns) {
                let picked = shown[row..<min(row + columns, shown.count)]
                cells += picked.map { images.image($0) } + picked.map { reconstructions[$0] }
            }
            try PNGCodec.write(ContactSheet.make(images: cells, columns: columns, cellScale: 2), to: path)
        }
    }
}
