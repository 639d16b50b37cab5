import ArgumentParser
import FaceData
import Foundation
import Imaging

/// `facestudio dataset ...`: make the procedural face data set, check any LLaVA-format data
/// set, and draw contact sheets to look at.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Make, check and preview fine-grained face data sets (LLaVA format).",
        subcommands: [Make.self, Check.self, Preview.self, AttributeSheet.self])

    struct Make: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make",
            abstract: "Render faces with captions and VQA: images/*.png, captions.jsonl, attributes.jsonl, llava_{train,test}.json, schema.json.")

        @Option(help: "Number of images.") var count: Int
        @Option(help: "Output directory (created if missing).") var out: String
        @Option(help: "Data-set seed: the same seed gives byte-identical files.") var seed: UInt64 = 0
        @Option(help: "Image side in pixels (16...256).") var size: Int = 64
        @Option(name: .customLong("test-fraction"), help: "Fraction of images in the test split (fixed per seed and index).")
        var testFraction: Double = 0.05
        @Flag(help: "Print a JSON summary on stdout.") var json = false
        @Flag(help: "No progress bar.") var quiet = false

        func run() throws {
            let options = DatasetMaker.Options(count: count, directory: out, seed: seed, size: size, testFraction: testFraction)
            do { try options.validate() } catch { throw ValidationError("\(error)") }
            let bar = ProgressLine(label: "dataset", total: count, unit: "img", enabled: !quiet)
            let summary = try DatasetMaker.make(options) { done in bar.update(done) }
            bar.finish(count)
            if json { try printJSON(summary); return }
            print("wrote \(summary.count) images (\(summary.train) train, \(summary.test) test) of \(size)x\(size) to \(out)")
            print(String(format: "%.1f images/s; captions: %.1f words, %.1f schema keys (%.1f present attributes); %.1f QA pairs per image",
                         summary.imagesPerSecond, summary.meanCaptionWords, summary.meanCaptionMentions,
                         summary.meanCaptionPresentAttributes, summary.meanQAPairs))
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

        @Option(help: "Output PNG.") var out: String
        @Option(help: "Seed for the base faces.") var seed: UInt64 = 1
        @Option(help: "Image side in pixels (16...256).") var size = 64
        @Option(help: "Pixel enlargement.") var scale = 2

        func run() throws {
            guard FaceRenderer.sizes.contains(size), (1...16).contains(scale) else {
                throw ValidationError("--size must be in 16...256 and --scale in 1...16")
            }
            let sheet = DatasetPreview.attributeSheet(seed: seed, size: size, scale: scale)
            try PNGCodec.write(sheet, to: out)
            print("wrote \(out) (\(sheet.width)x\(sheet.height))")
        }
    }
}
