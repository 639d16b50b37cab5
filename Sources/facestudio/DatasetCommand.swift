import ArgumentParser
import FaceData
import FaceModel
import Foundation
import Imaging
import Training

/// `facestudio dataset ...`: make the procedural face data set, check any LLaVA-format data
/// set, and draw contact sheets to look at.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Make, check and preview fine-grained face data sets (LLaVA format).",
        subcommands: [Make.self, Check.self, Preview.self, AttributeSheet.self, TextTokenizerCommand.self])

    struct Make: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make",
            abstract: "Render faces with captions, prompts and VQA: images/*.png, captions.jsonl, attributes.jsonl, prompts.jsonl, llava_{train,val,test}.json, schema.json.",
            discussion: """
                Questions, answers and prompts are written in people's words with the facts they state or ask beside them \
                (the "truth" key of each LLaVA record, prompts.jsonl). About a fifth of the sentence frames, and a share of \
                frame/word pairings, are held out: only the test and validation splits use them. Prompts are fitted to the \
                prompt length of --model (its text tokenizer measures them); captions longer than it are counted.
                """)

        @Option(help: "Number of images.") var count: Int
        @Option(help: "Output directory (created if missing).") var out: String
        @Option(help: "Data-set seed: the same seed gives byte-identical files.") var seed: UInt64 = 0
        @Option(help: "Image side in pixels (16...256).") var size: Int = 64
        @Option(name: .customLong("test-fraction"), help: "Fraction of images in the test split (fixed per seed and index).")
        var testFraction: Double = 0.05
        @Option(name: .customLong("validation-fraction"), help: "Fraction of the other images in the validation split.")
        var validationFraction: Double = 0.02
        @Option(help: "Model directory whose text tokenizer and prompt length prompts must fit (a word-count estimate when it has none).")
        var model: String = "Models"
        @Flag(help: "Print a JSON summary on stdout.") var json = false
        @Flag(help: "No progress bar.") var quiet = false

        func run() throws {
            var options = DatasetMaker.Options(count: count, directory: out, seed: seed, size: size, testFraction: testFraction,
                                               validationFraction: validationFraction)
            if let budget = try Make.budget(model: model) { options.budget = budget }
            do { try options.validate() } catch { throw ValidationError("\(error)") }
            let bar = ProgressLine(label: "dataset", total: count, unit: "img", enabled: !quiet)
            let summary = try DatasetMaker.make(options) { done in bar.update(done) }
            bar.finish(count)
            if json { try printJSON(summary); return }
            print("wrote \(summary.count) images (\(summary.train) train, \(summary.validation ?? 0) validation, \(summary.test) test) of \(size)x\(size) to \(out)")
            print(String(format: "%.1f images/s; captions: %.1f words, %.1f schema keys (%.1f present attributes); %.1f QA pairs per image",
                         summary.imagesPerSecond, summary.meanCaptionWords, summary.meanCaptionMentions,
                         summary.meanCaptionPresentAttributes, summary.meanQAPairs))
            print(String(format: "prompts: %.1f items on average (%d to %d); %d held-out questions and %d held-out prompts in the test and validation splits",
                         summary.meanPromptItems ?? 0, summary.minPromptItems ?? 0, summary.maxPromptItems ?? 0,
                         summary.heldOutQuestions ?? 0, summary.heldOutPrompts ?? 0))
            print("prompt length \(summary.maxPromptTokens ?? 0) tokens: \(summary.promptsShortened ?? 0) prompts left out items to fit; " +
                  "\(summary.captionsOverPromptLength ?? 0) captions are longer (the model reads their start)")
        }

        /// The prompt budget of a model directory: its tokenizer and prompt length (less
        /// <|bos|> and <|eos|>); nil when the directory has no model.
        static func budget(model: String) throws -> PromptWriter.Budget? {
            let config = model + "/" + ModelDirectory.configFile, tokenizerPath = model + "/" + ModelDirectory.tokenizerFile
            guard FileManager.default.fileExists(atPath: config), FileManager.default.fileExists(atPath: tokenizerPath) else { return nil }
            let tokenizer = try TextTokenizer(contentsOf: tokenizerPath)
            let length = try ModelConfig.load(path: config).maxPromptTokens - 2
            return PromptWriter.Budget(maxTokens: length) { tokenizer.encode($0).count }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate a LLaVA-format data set: ids, roles, <image> placeholders, readable images.")

        @Argument(help: "A data-set directory or one LLaVA .json file.") var path: String
        @Option(name: .customLong("image-root"), help: "Directory that image paths are relative to (default: the JSON file's directory, then its images/).")
        var imageRoot: String?
        @Flag(name: .customLong("no-images"), help: "Skip opening the images.") var noImages = false
        @Option(name: .customLong("max-errors"), help: "Errors to print (all are counted).") var maxErrors = 50
        @Flag(help: "Print the report as JSON on stdout.") var json = false

        func run() throws {
            let report = DatasetChecker.check(path: path, imageRoot: imageRoot, checkImages: !noImages)
            if json {
                try printJSON(report)
            } else {
                for line in report.errors.prefix(max(0, maxErrors)) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
                if report.errors.count > maxErrors {
                    FileHandle.standardError.write(Data("... and \(report.errors.count - maxErrors) more errors\n".utf8))
                }
                var line = "\(report.files.count) files, \(report.records) records, \(report.turns) turns, \(report.images) images"
                if report.uncheckedImages > 0 { line += " (\(report.uncheckedImages) not PNG: existence checked only)" }
                print(line + (report.ok ? ": ok" : ": \(report.errors.count) errors"))
            }
            if !report.ok { throw ExitCode(1) }
        }
    }

    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "preview",
            abstract: "Draw a contact sheet of a data set's first images, labelled with their ids.")

        @Argument(help: "Data-set directory (captions.jsonl or a LLaVA .json file).") var directory: String
        @Option(help: "Output PNG.") var out: String
        @Option(help: "Number of images.") var count = 32
        @Option(help: "Images per row.") var columns = 8
        @Option(help: "Pixel enlargement.") var scale = 2

        func run() throws {
            guard count > 0, columns > 0, (1...16).contains(scale) else {
                throw ValidationError("--count and --columns must be positive and --scale in 1...16")
            }
            let sheet = try DatasetPreview.sheet(directory: directory, count: count, columns: columns, scale: scale)
            try PNGCodec.write(sheet, to: out)
            print("wrote \(out) (\(sheet.width)x\(sheet.height))")
        }
    }

    struct AttributeSheet: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "attributes",
            abstract: "Draw every attribute off and on (same face, same pose) to check that each one shows.")

        @Option(help: "Output PNG.") var out: String?
        @Option(help: "Seed for the base faces.") var seed: UInt64 = 1
        @Option(help: "Image side in pixels (16...256).") var size = 64
        @Option(help: "Pixel enlargement.") var scale = 2
        @Flag(help: "List every attribute's and detail value's surface forms (the lexicon) instead of drawing.") var words = false
        @Flag(help: "With --words: print JSON.") var json = false

        func validate() throws {
            if !words && out == nil { throw ValidationError("--out is required (or --words to list the surface forms)") }
        }

        func run() throws {
            if words { try listWords(); return }
            guard let out else { return }
            guard FaceRenderer.sizes.contains(size), (1...16).contains(scale) else {
                throw ValidationError("--size must be in 16...256 and --scale in 1...16")
            }
            let sheet = DatasetPreview.attributeSheet(seed: seed, size: size, scale: scale)
            try PNGCodec.write(sheet, to: out)
            print("wrote \(out) (\(sheet.width)x\(sheet.height))")
        }

        struct SlotWords: Encodable { let slot: String; let value: String; let forms: [String] }

        func listWords() throws {
            let rows = Lexicon.slots.flatMap { slot in slot.values.map { SlotWords(slot: slot.name, value: $0.value, forms: $0.forms) } }
                + Lexicon.people.map { SlotWords(slot: "person", value: [$0.male.map { $0 ? "male" : "female" }, $0.young.map { $0 ? "young" : "older" }]
                    .compactMap { $0 }.joined(separator: "+").ifEmpty("any"), forms: [$0.noun]) }
                + [SlotWords(slot: "answer", value: "yes", forms: Lexicon.yesWords), SlotWords(slot: "answer", value: "no", forms: Lexicon.noWords),
                   SlotWords(slot: "degree", value: "any", forms: Lexicon.degreeWords)]
            if json { try printJSON(rows); return }
            for row in rows { print("\(row.slot)=\(row.value): \(row.forms.joined(separator: ", "))") }
        }
    }
}

extension String {
    fileprivate func ifEmpty(_ fallback: String) -> String { isEmpty ? fallback : self }
}
