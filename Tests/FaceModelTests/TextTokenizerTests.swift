import Foundation
import Testing
import Support
@testable import FaceModel

/// SplitMix64: a tiny seeded generator, so random inputs are the same on every run.
private struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Caption- and chat-like sentences in the style of the face data set.
private func sampleCorpus(count: Int, seed: UInt64) -> [String] {
    var rng = SeededRandom(state: seed)
    let subjects = ["This person", "The woman", "The man", "She", "He", "The young person", "This face"]
    let features = ["blue eyes", "blond hair", "wavy brown hair", "a big nose", "arched eyebrows", "rosy cheeks",
                    "a double chin", "heavy makeup", "bushy eyebrows", "a goatee", "gray hair", "bangs",
                    "high cheekbones", "narrow eyes", "pale skin", "a receding hairline", "earrings", "a hat"]
    let emotions = ["happy", "sad", "angry", "fearful", "surprised", "disgusted", "neutral"]
    let actions = ["yawning", "laughing", "talking", "frowning", "blinking", "looking around"]
    var texts: [String] = []
    for _ in 0..<count {
        let subject = subjects.randomElement(using: &rng)!
        let a = features.randomElement(using: &rng)!, b = features.randomElement(using: &rng)!
        let emotion = emotions.randomElement(using: &rng)!, action = actions.randomElement(using: &rng)!
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: texts.append("\(subject) has \(a) and \(b), and looks \(emotion).")
        case 1: texts.append("USER: What is the person doing?\nASSISTANT: They're probably \(action): \(subject.lowercased()) has \(a).")
        default: texts.append("A \(emotion) face with \(a), \(b) and \(Int.random(in: 2...9, using: &rng)) freckles.")
        }
    }
    return texts
}

/// Random text that is valid UTF-8: ASCII, Latin, combining marks, CJK, emoji, controls, spaces.
private func randomText(length: Int, rng: inout SeededRandom) -> String {
    let ranges: [ClosedRange<UInt32>] = [0x00...0x7F, 0x20...0x7E, 0xA0...0x24F, 0x300...0x36F, 0x3000...0x303F,
                                         0x4E00...0x9FFF, 0x1F300...0x1FAFF, 0xE000...0xF8FF, 0x10000...0x10FFFF,
                                         0x2000...0x206F, 0xFFF0...0xFFFF]
    var scalars = String.UnicodeScalarView()
    while scalars.count < length {
        let range = ranges.randomElement(using: &rng)!
        if let scalar = Unicode.Scalar(UInt32.random(in: range, using: &rng)) { scalars.append(scalar) }
    }
    return String(scalars)
}

private let trickyTexts: [String] = [
    "", " ", "  ", "\n", "a", "Hello, world!", "  leading and trailing  ", "tabs\tand\nnew\r\nlines\n\n",
    "café naïve façade", "cafe\u{301} decomposed", "Ünïcödé ÄÖÜ ß", "你好，世界！", "日本語のテキスト",
    "emoji 😀👍🏽 👩‍👩‍👧 🇫🇷 ❤️", "control \u{0}\u{1}\u{7}\u{1B}[0m\u{7F}\u{85}", "zero\u{200B}width\u{FEFF}",
    "numbers 12345 3.14 ٣٤٥ Ⅻ", "it's they're we've I'm you'll he'd 'S 'RE", "a   b \t c", "<|bos|> <|eos|>",
    String(repeating: "x", count: 5000), String(repeating: "ab ", count: 300), "\u{10FFFF}\u{E000}",
]

private func trainedTokenizer() throws -> TextTokenizer {
    try TextTokenizer.train(texts: sampleCorpus(count: 2000, seed: 7), vocabSize: 400)
}

@Suite("TextTokenizer")
struct TextTokenizerTests {
    @Test("pieces follow GPT-2's pre-tokenization pattern")
    func preTokenizerPieces() {
        func pieces(_ text: String) -> [String] {
            var result: [String] = []
            UTF8Scan.withBytes(of: text) { bytes in
                PreTokenizer.forEachPiece(in: bytes) { result.append(String(decoding: bytes[$0], as: UTF8.self)) }
            }
            return result
        }
        #expect(pieces("Hello world's  end!!\n") == ["Hello", " world", "'s", " ", " end", "!!", "\n"])
        #expect(pieces("a 12 +-x") == ["a", " 12", " +-", "x"])
        #expect(pieces("a \tb") == ["a", " ", "\t", "b"])
        #expect(pieces("x   ") == ["x", "   "])
        #expect(pieces("cafe\u{301}") == ["cafe", "\u{301}"])
        #expect(pieces("don't 'RE") == ["don", "'t", " '", "RE"])
        #expect(pieces("") == [])
    }

    @Test("the 256 byte symbols use GPT-2's table")
    func byteAlphabet() {
        #expect(ByteLevelAlphabet.string(for: Array(" \n!AÿĀ".utf8.prefix(4))) == "ĠĊ!A")
        #expect(ByteLevelAlphabet.string(for: [0x00, 0xAD, 0x7F]) == "ĀŃġ")
        #expect(Set(ByteLevelAlphabet.scalars).count == 256)
    }

    @Test("decode(encode(s)) == s for tricky and random UTF-8")
    func roundTrip() throws {
        let trained = try trainedTokenizer()
        let bytesOnly = try TextTokenizer.train(texts: [], vocabSize: 256 + 7)
        var rng = SeededRandom(state: 42)
        let random = (0..<200).map { _ in randomText(length: Int.random(in: 0...300, using: &rng), rng: &rng) }
        for tokenizer in [trained, bytesOnly] {
            for text in trickyTexts + random {
                let ids = tokenizer.encode(text)
                #expect(tokenizer.decode(ids) == text)
                #expect(ids.allSatisfy { $0 >= 0 && $0 < tokenizer.bpeVocabSize })
            }
        }
        #expect(bytesOnly.bpeVocabSize == 256)
        #expect(bytesOnly.encode("héllo").count == "héllo".utf8.count)
    }

    @Test("partial byte sequences decode to U+FFFD, and the stream decoder waits for whole characters")
    func partialDecodes() throws {
        let tokenizer = try TextTokenizer.train(texts: [], vocabSize: 263)
        let ids = tokenizer.encode("é😀")  // bytes-only: one id per byte
        #expect(ids.count == 6)
        #expect(tokenizer.decode(Array(ids.prefix(1))) == "\u{FFFD}")
        #expect(tokenizer.decode(Array(ids.prefix(4))) == "é\u{FFFD}")
        #expect(tokenizer.decode([-1, 99_999] + ids) == "é😀")  // out-of-vocabulary ids are skipped

        let trained = try trainedTokenizer()
        var rng = SeededRandom(state: 9)
        for text in trickyTexts + (0..<50).map({ _ in randomText(length: 80, rng: &rng) }) {
            var stream = TextDecodeStream(tokenizer: trained)
            var output = ""
            for id in trained.encode(text) {
                let piece = stream.push(id)
                #expect(!piece.unicodeScalars.contains("\u{FFFD}") || text.unicodeScalars.contains("\u{FFFD}"))
                output += piece
            }
            output += stream.finish()
            #expect(output == text)
        }
        var stream = TextDecodeStream(tokenizer: tokenizer)
        #expect(stream.push(ids[2]) == "")  // first byte of 😀
        #expect(stream.finish() == "\u{FFFD}")
    }

    @Test("training is deterministic and independent of text order")
    func deterministicTraining() throws {
        let texts = sampleCorpus(count: 1500, seed: 3)
        let a = try TextTokenizer.train(texts: texts, vocabSize: 350)
        let b = try TextTokenizer.train(texts: texts.reversed(), vocabSize: 350)
        var rng = SeededRandom(state: 5)
        let c = try TextTokenizer.train(texts: texts.shuffled(using: &rng), vocabSize: 350)
        #expect(a.serializedJSON() == b.serializedJSON())
        #expect(a.serializedJSON() == c.serializedJSON())
    }

    @Test("greedy merges: most frequent pair first, ties to the smaller ids, stop below minPairFrequency")
    func handCheckedMerges() throws {
        // Pieces: hug, Ġhug ×2, Ġpug, Ġpun, Ġbun. (u,g)=4 first; then (h,ug)=3; then a three-way
        // tie at 2 goes to (Ġ=32, p=112) before (Ġ, hug=257) and (u=117, n=110).
        let tokenizer = try TextTokenizer.train(texts: ["hug hug hug pug pun bun"], vocabSize: 1000)
        let merges = tokenizer.merges.map {
            ByteLevelAlphabet.string(for: tokenizer.tokenBytes[Int($0.left)]) + " " + ByteLevelAlphabet.string(for: tokenizer.tokenBytes[Int($0.right)])
        }
        #expect(merges == ["u g", "h ug", "Ġ p", "Ġ hug", "u n"])
        // The data ran out of pairs seen twice: fewer ids than asked for, and the count says so.
        #expect(tokenizer.bpeVocabSize == 256 + 5)
        #expect(tokenizer.vocabSize == 256 + 5 + 7)
        #expect(tokenizer.encode("hug hug").map { tokenizer.token(forID: $0) } == ["hug", "Ġhug"])
    }

    @Test("vocabulary size is what was asked, and progress counts up to it")
    func vocabularySize() throws {
        var reports: [(Int, Int)] = []
        let tokenizer = try TextTokenizer.train(texts: sampleCorpus(count: 2000, seed: 11), vocabSize: 420) { reports.append(($0, $1)) }
        #expect(tokenizer.vocabSize == 420)
        #expect(tokenizer.bpeVocabSize == 420 - TextTokenizer.defaultSpecialTokens.count)
        #expect(reports.last.map { $0 == (420 - 7 - 256, 420 - 7 - 256) } == true)

        #expect(throws: TextTokenizerError.self) { try TextTokenizer.train(texts: ["x"], vocabSize: 262) }
        #expect(throws: TextTokenizerError.self) { try TextTokenizer.train(texts: ["x"], vocabSize: 300, specialTokens: ["<a>", "<a>"]) }
        #expect(throws: TextTokenizerError.self) { try TextTokenizer.train(texts: ["x"], vocabSize: 300, specialTokens: ["eos"]) }
        #expect(throws: TextTokenizerError.self) { try TextTokenizer.train(texts: ["x"], vocabSize: 300, minPairFrequency: 0) }
    }

    @Test("merges compress the training text")
    func compression() throws {
        // This corpus has about 80 distinct words: 137 merges (vocab 400) cover the frequent
        // ones (≈ 3 bytes per token); once the pairs run out (234 merges) every word is one token.
        let texts = sampleCorpus(count: 2000, seed: 7)
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        func bytesPerToken(_ tokenizer: TextTokenizer) -> Double {
            Double(bytes) / Double(texts.reduce(0) { $0 + tokenizer.encode($1).count })
        }
        let small = try trainedTokenizer(), full = try TextTokenizer.train(texts: texts, vocabSize: 600)
        #expect(full.bpeVocabSize < 600 - 7)  // stopped early: no pair seen twice is left
        #expect(bytesPerToken(small) > 2.8, "\(bytesPerToken(small)) bytes per token")
        #expect(bytesPerToken(full) > 4.2, "\(bytesPerToken(full)) bytes per token")
    }

    @Test("the incremental trainer learns exactly the merges of the textbook recount-everything one")
    func matchesNaiveTrainer() throws {
        var rng = SeededRandom(state: 21)
        let texts = sampleCorpus(count: 300, seed: 13) + trickyTexts + (0..<30).map { _ in randomText(length: 60, rng: &rng) }
            + ["aaaa aaaaa aaa abab ababab", "ab abc abcd bcd cd"]  // overlapping pairs, one string by two routes
        let tokenizer = try TextTokenizer.train(texts: texts, vocabSize: 256 + 7 + 200)
        let learned = tokenizer.merges.map {
            ByteLevelAlphabet.string(for: tokenizer.tokenBytes[Int($0.left)]) + " " + ByteLevelAlphabet.string(for: tokenizer.tokenBytes[Int($0.right)])
        }
        #expect(learned == naiveMerges(texts: texts, limit: learned.count + 5, tokenLimit: tokenizer.bpeVocabSize))
    }

    @Test("special tokens: ids after the BPE vocabulary, never produced from user text unless allowed")
    func specialTokens() throws {
        let tokenizer = try trainedTokenizer()
        for (k, name) in TextTokenizer.defaultSpecialTokens.enumerated() {
            #expect(tokenizer.specialTokenID(name) == tokenizer.bpeVocabSize + k)
            #expect(tokenizer.token(forID: tokenizer.bpeVocabSize + k) == name)
        }
        #expect(tokenizer.specialTokenID("<|mask|>") == nil)
        let text = "hi <|eos|><|soi|> there"
        let plain = tokenizer.encode(text)
        #expect(plain.allSatisfy { $0 < tokenizer.bpeVocabSize })
        #expect(tokenizer.decode(plain) == text)

        let eos = try #require(tokenizer.specialTokenID("<|eos|>")), soi = try #require(tokenizer.specialTokenID("<|soi|>"))
        let allowed = tokenizer.encode(text, allowSpecial: true)
        #expect(allowed == tokenizer.encode("hi ") + [eos, soi] + tokenizer.encode(" there"))
        #expect(tokenizer.decode(allowed) == text)
        #expect(tokenizer.decode(allowed, skipSpecial: true) == "hi  there")
    }

    @Test("unknownWords reports words absent from the training text, case-insensitively, with ranges")
    func unknownWords() throws {
        let tokenizer = try TextTokenizer.train(texts: ["a blue sky", "Café naïve"], vocabSize: 300)
        let text = "BLUE zyxwv sky, cafe\u{301} Qu!"
        let unknown = tokenizer.unknownWords(in: text)
        #expect(unknown.map(\.word) == ["zyxwv", "Qu"])
        #expect(unknown.map { String(text[$0.range]) } == ["zyxwv", "Qu"])
        #expect(tokenizer.unknownWords(in: "").isEmpty)
        #expect(tokenizer.tracksKnownWords)
    }

    @Test("save and load give the same tokenizer, byte for byte, with no temp files left")
    func saveAndLoad() throws {
        let tokenizer = try trainedTokenizer()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/tokenizer.json"
        try tokenizer.save(to: path)
        try tokenizer.save(to: path)  // overwriting works too
        let loaded = try TextTokenizer(contentsOf: path)

        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["tokenizer.json"])
        #expect(loaded.serializedJSON() == tokenizer.serializedJSON())
        #expect(loaded.vocabSize == tokenizer.vocabSize)
        var rng = SeededRandom(state: 77)
        for text in trickyTexts + sampleCorpus(count: 50, seed: 1) + (0..<50).map({ _ in randomText(length: 100, rng: &rng) }) {
            #expect(loaded.encode(text) == tokenizer.encode(text))
            #expect(loaded.encode(text, allowSpecial: true) == tokenizer.encode(text, allowSpecial: true))
        }
        #expect(loaded.unknownWords(in: "blue zyxwv").map(\.word) == ["zyxwv"])
        #expect(throws: TextTokenizerError.self) { try TextTokenizer(contentsOf: directory + "/missing.json") }
    }

    @Test("merges load from both Hugging Face formats, and files without known words load")
    func mergeFormats() throws {
        let tokenizer = try trainedTokenizer()
        let json = tokenizer.serializedJSON()
        // Rewrite the merges section as ["a", "b"] arrays (the layout of tokenizers >= 0.20).
        let start = try #require(json.range(of: "\"merges\": ["))
        let end = try #require(json.range(of: "\n    ],\n    \"facestudio\"", range: start.upperBound..<json.endIndex))
        let arrays = tokenizer.merges.map { merge in
            let left = ByteLevelAlphabet.string(for: tokenizer.tokenBytes[Int(merge.left)])
            let right = ByteLevelAlphabet.string(for: tokenizer.tokenBytes[Int(merge.right)])
            return "[\(JSONWriter.quoted(left)), \(JSONWriter.quoted(right))]"
        }
        let arrayForm = json.replacingCharacters(in: start.lowerBound..<end.upperBound,
                                                 with: "\"merges\": [\(arrays.joined(separator: ", "))],\n    \"facestudio\"")
        #expect(arrayForm != json)
        let loaded = try TextTokenizer(jsonBytes: Array(arrayForm.utf8))
        #expect(loaded.merges == tokenizer.merges)
        #expect(loaded.serializedJSON() == json)

        // known_words null (the list moved under a key the reader ignores), or no "facestudio"
        // section at all (a file written by Hugging Face tools): both load without word tracking.
        let nullWords = json.replacingOccurrences(of: "\"known_words\": [", with: "\"known_words\": null, \"x\": [")
        let facestudio = try #require(json.range(of: ",\n    \"facestudio\": {"))
        let noSection = String(json[..<facestudio.lowerBound]) + "\n  }\n}\n"
        // Files written before the section moved into "model" keep their known words.
        let words = String(json[facestudio.upperBound...].dropLast("\n  }\n}\n".count))
        let legacy = String(json[..<facestudio.lowerBound]) + "\n  },\n  \"facestudio\": {" + words + "\n}\n"
        let legacyTokenizer = try TextTokenizer(jsonBytes: Array(legacy.utf8))
        #expect(legacyTokenizer.tracksKnownWords)
        #expect(legacyTokenizer.unknownWords(in: "blue zyxwv").map(\.word) == ["zyxwv"])
        #expect(legacyTokenizer.serializedJSON() == json)

        for variant in [nullWords, noSection] {
            #expect(variant != json)
            let noWords = try TextTokenizer(jsonBytes: Array(variant.utf8))
            #expect(!noWords.tracksKnownWords)
            #expect(noWords.unknownWords(in: "zyxwv").isEmpty)
            #expect(noWords.merges == tokenizer.merges)
        }
    }

    @Test("malformed files fail with an error naming the field", arguments: [
        ("{\"model\": ", "line 1, column 11"),
        ("{\"a\": 1, \"a\": 2}", "duplicate key \"a\""),
        ("[1, 2]", "(root): expected an object"),
        ("{\"version\": \"1.0\"}", "model: missing"),
        ("{\"model\": {\"type\": \"WordPiece\"}}", "model.type: unsupported model type \"WordPiece\""),
        ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}", "model.vocab: missing byte symbol"),
        ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}}", "model.vocab[\"b\"]: id 0 is also used by \"a\""),
        ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": true}, \"merges\": []}}", "model.vocab[\"a\"]: expected a non-negative integer id"),
        ("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a b\": 0}, \"merges\": []}}", "model.vocab[\"a b\"]: not a byte-level token"),
    ])
    func malformedSyntax(json: String, expected: String) {
        expectError(json, contains: expected)
    }

    @Test("malformed merges, specials and pipeline settings fail with an error naming the field")
    func malformedFields() throws {
        // Merges: "h e" (tie with "t h" goes to the smaller ids), "t he", "Ġ the"; specials from 259.
        let valid = try TextTokenizer.train(texts: ["the the the then"], vocabSize: 300).serializedJSON()
        let cases: [(String, String, String)] = [
            ("\"h e\"", "\"h  e\"", "model.merges[0]: expected \"a b\" pair"),
            ("\"h e\"", "17", "model.merges[0]: expected \"a b\" pair"),
            ("\"h e\"", "[\"h\"]", "model.merges[0]: expected \"a b\" pair"),
            ("\"h e\"", "\"h q\"", "model.merges[0]: merged token \"hq\" not in model.vocab"),
            ("\"h e\"", "\"h ZZ\"", "model.merges[0]: token \"ZZ\" not in model.vocab"),
            ("\"merges\": [", "\"merges\": [\"h e\", ", "model.merges[1]: duplicate of model.merges[0]"),
            ("\"type\": \"BPE\"", "\"type\": 3", "model.type: unsupported model type a number"),
            ("\"dropout\": null", "\"dropout\": 0.1", "model.dropout: not supported"),
            ("\"ignore_merges\": false", "\"ignore_merges\": true", "model.ignore_merges: not supported"),
            ("\"normalizer\": null", "\"normalizer\": {\"type\": \"NFC\"}", "normalizer: not supported"),
            ("\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false", "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true",
             "pre_tokenizer.add_prefix_space: must be false"),
            ("\"pre_tokenizer\": {\"type\": \"ByteLevel\"", "\"pre_tokenizer\": {\"type\": \"Whitespace\"", "pre_tokenizer.type: expected \"ByteLevel\""),
            ("\"decoder\": {", "\"decoder\": null, \"x\": {", "decoder: expected an object, found null"),
            ("\"id\": 259", "\"id\": 300", "added_tokens[0].id: expected 259"),
            ("\"content\": \"<|pad|>\"", "\"content\": \"<|bos|>\"", "added_tokens[1].content: \"<|bos|>\" is listed twice"),
            ("\"content\": \"<|pad|>\"", "\"content\": \"the\"", "added_tokens[0].content: \"the\" is also in model.vocab"),
            ("\"known_words\": [", "\"known_words\": [3, ", "facestudio.known_words[0]: expected a string"),
        ]
        for (original, replacement, expected) in cases {
            #expect(valid.contains(original), "fixture lacks \(original)")
            expectError(valid.replacingOccurrences(of: original, with: replacement), contains: expected)
        }
    }
}

/// The textbook BPE trainer as a reference: before every merge, recount every adjacent pair of
/// every piece; merge the most frequent (ties: the smaller ids, left then right; at least 2
/// occurrences) everywhere, left to right. Stops at `limit` merges or `tokenLimit` tokens.
private func naiveMerges(texts: [String], limit: Int, tokenLimit: Int) -> [String] {
    var pieceCounts: [[UInt8]: Int] = [:]
    for text in texts {
        UTF8Scan.withBytes(of: text) { bytes in PreTokenizer.forEachPiece(in: bytes) { pieceCounts[Array(bytes[$0]), default: 0] += 1 } }
    }
    var words = pieceCounts.map { (symbols: $0.key.map { [$0] }, count: $0.value) }
    var ids: [[UInt8]: Int] = [:]
    for byte in 0..<256 { ids[[UInt8(byte)]] = byte }
    var merges: [String] = []
    while merges.count < limit && ids.count < tokenLimit {
        var pairCounts: [[[UInt8]]: Int] = [:]
        for word in words where word.symbols.count >= 2 {
            for k in 0..<(word.symbols.count - 1) { pairCounts[[word.symbols[k], word.symbols[k + 1]], default: 0] += word.count }
        }
        let best = pairCounts.min { a, b in
            a.value != b.value ? a.value > b.value : (ids[a.key[0]]!, ids[a.key[1]]!) < (ids[b.key[0]]!, ids[b.key[1]]!)
        }
        guard let best, best.value >= 2 else { break }
        let (left, right) = (best.key[0], best.key[1])
        if ids[left + right] == nil { ids[left + right] = ids.count }
        merges.append(ByteLevelAlphabet.string(for: left) + " " + ByteLevelAlphabet.string(for: right))
        for w in words.indices {
            var merged: [[UInt8]] = [], k = 0
            let symbols = words[w].symbols
            while k < symbols.count {
                if k + 1 < symbols.count && symbols[k] == left && symbols[k + 1] == right { merged.append(left + right); k += 2 }
                else { merged.append(symbols[k]); k += 1 }
            }
            words[w].symbols = merged
        }
    }
    return merges
}

/// Parsing `json` must throw a TextTokenizerError whose one-line description contains `expected`.
private func expectError(_ json: String, contains expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try TextTokenizer(jsonBytes: Array(json.utf8), source: "tokenizer.json")
        Issue.record("no error for: \(json.prefix(200))", sourceLocation: sourceLocation)
    } catch let error as TextTokenizerError {
        let message = error.description
        #expect(message.hasPrefix("tokenizer.json: "), "\(message)", sourceLocation: sourceLocation)
        #expect(message.contains(expected), "\(message)", sourceLocation: sourceLocation)
        #expect(!message.contains("\n"), sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error type: \(error)", sourceLocation: sourceLocation)
    }
}
