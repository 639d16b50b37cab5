import ArgumentParser
import FaceData
import FaceModel
import Foundation
import Imaging
import Training

// `facestudio dataset text-tokenizer`: the text tokenizer of a data set's text.

extension DatasetCommand {
    struct TextTokenizerCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "text-tokenizer",
            abstract: "Train a text tokenizer (BPE) on a data set's text: captions, training prompts and conversations.",
            discussion: "The vocabulary size defaults to that of --like, so that a model of the same shape can use it. Words the tokenizer never saw stay flagged as unknown.")

        @Argument(help: "Data-set directory.") var data: String
        @Option(help: "Output tokenizer.json.") var out: String
        @Option(help: "BPE tokens (without special tokens); default: as many as --like has.") var vocab: Int?
        @Option(help: "A tokenizer to compare with (and take the vocabulary size from).") var like: String = "Models/tokenizer.json"
        @Flag(help: "Print a JSON summary on stdout.") var json = false

        struct Summary: Encodable {
            let out: String, vocab: Int, texts: Int, seconds: Double
            /// The everyday words (of `Lexicon.everydayWords`) each tokenizer does not know.
            let unknownEverydayWords: [String], unknownEverydayWordsBefore: [String]?
            enum CodingKeys: String, CodingKey {
                case out, vocab, texts, seconds
                case unknownEverydayWords = "unknown_everyday_words", unknownEverydayWordsBefore = "unknown_everyday_words_before"
            }
        }

        func run() throws {
            let start = Date()
            let before = FileManager.default.fileExists(atPath: like) ? try TextTokenizer(contentsOf: like) : nil
            guard let size = vocab ?? before?.bpeVocabSize else { throw ValidationError("--vocab: needed when \(like) does not exist") }
            let texts = try CorpusBuilder.texts(dataDirectory: data)
            let bar = ProgressLine(label: "text tokenizer", total: size, unit: "merge", enabled: !json)
            let tokenizer = try TextTokenizer.train(texts: texts, vocabSize: size + TextTokenizer.defaultSpecialTokens.count) { done, _ in bar.update(done) }
            bar.finish()
            try tokenizer.save(to: out)
            let everyday = Lexicon.everydayWords.joined(separator: " ")
            let summary = Summary(out: out, vocab: tokenizer.bpeVocabSize, texts: texts.count, seconds: Date().timeIntervalSince(start),
                                  unknownEverydayWords: tokenizer.unknownWords(in: everyday).map(\.word),
                                  unknownEverydayWordsBefore: before?.unknownWords(in: everyday).map(\.word))
            if json { try printJSON(summary); return }
            print("wrote \(out): \(summary.vocab) BPE tokens from \(texts.count) texts")
            print("unknown everyday words: \(summary.unknownEverydayWords.isEmpty ? "none" : summary.unknownEverydayWords.joined(separator: ", "))" +
                  (summary.unknownEverydayWordsBefore.map { " (\(like): \($0.isEmpty ? "none" : $0.joined(separator: ", ")))" } ?? ""))
        }
    }
}
