import Support

// Learning the BPE merges from text.
//
// Greedy BPE as in GPT-2 / Hugging Face's BpeTrainer: count the pre-tokenised pieces ("words"),
// then repeatedly merge the most frequent adjacent pair of tokens. Pair counts are updated
// incrementally: an index from each pair to the words containing it means a merge only revisits
// the words it changes, and a lazy max-heap finds the next pair without a full scan.

extension TextTokenizer {
    /// Learns a tokenizer of `vocabSize` ids in total (256 byte symbols + merges + specials) from
    /// `texts`. Deterministic: the same texts (in any order) give the same tokenizer.
    ///
    /// Training stops early, with a smaller vocabulary, when no pair of tokens occurs at least
    /// `minPairFrequency` times any more (a small text has only so much to merge); compare
    /// `vocabSize` of the result with the request to detect it.
    /// `progress(done, total)` is called after each merge, on the calling thread.
    public static func train(
        texts: [String],
        vocabSize: Int,
        specialTokens: [String] = TextTokenizer.defaultSpecialTokens,
        minPairFrequency: Int = 2,
        progress: ((Int, Int) -> Void)? = nil
    ) throws -> TextTokenizer {
        try validateSpecialTokens(specialTokens)
        let minimum = 256 + specialTokens.count
        guard vocabSize >= minimum else {
            throw TextTokenizerError.invalidArgument(
                "vocabSize \(vocabSize) is below the \(minimum) ids that 256 byte symbols and \(specialTokens.count) special tokens need")
        }
        guard minPairFrequency >= 1 else {
            throw TextTokenizerError.invalidArgument("minPairFrequency must be at least 1 (got \(minPairFrequency))")
        }

        let corpus = CorpusCounts(texts: texts)
        var trainer = BPETrainer(words: corpus.sortedWords)
        trainer.learn(targetTokens: vocabSize - specialTokens.count, minPairFrequency: minPairFrequency, progress: progress)
        return TextTokenizer(tokenBytes: trainer.tokenBytes, merges: trainer.merges,
                             specialTokens: specialTokens, knownWords: corpus.knownWords)
    }

    /// Special tokens must be distinct, non-empty, and unable to arise as one ordinary BPE token:
    /// a string the pre-tokenizer keeps in one piece (like "eos") could also be learned as text.
    static func validateSpecialTokens(_ specialTokens: [String]) throws {
        var seen = Set<String>()
        for name in specialTokens {
            if name.isEmpty { throw TextTokenizerError.invalidArgument("special tokens must not be empty") }
            if !seen.insert(name).inserted {
                throw TextTokenizerError.invalidArgument("special token \(JSONWriter.quoted(name)) is listed twice")
            }
            var pieces = 0
            UTF8Scan.withBytes(of: name) { PreTokenizer.forEachPiece(in: $0) { _ in pieces += 1 } }
            if pieces < 2 {
                throw TextTokenizerError.invalidArgument(
                    "special token \(JSONWriter.quoted(name)) could also be an ordinary token; wrap it in delimiters like <|\(name)|>")
            }
        }
    }
}

/// Piece frequencies and the word list of a training text.
private struct CorpusCounts {
    /// Distinct pieces with their counts, sorted by bytes (a fixed order for the trainer).
    let sortedWords: [(bytes: [UInt8], count: Int)]
    /// Lower-cased words (letter runs) of the text.
    let knownWords: Set<String>

    init(texts: [String]) {
        var pieceCounts = [[UInt8]: Int]()
        var rawWords = Set<[UInt8]>()
        for text in texts {
            UTF8Scan.withBytes(of: text) { bytes in
                PreTokenizer.forEachPiece(in: bytes) { range in
                    pieceCounts[Array(bytes[range]), default: 0] += 1
                }
                PreTokenizer.forEachWord(in: bytes) { range in
                    rawWords.insert(Array(bytes[range]))
                }
            }
        }
        sortedWords = pieceCounts.map { (bytes: $0.key, count: $0.value) }.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        // Sorted first so that, among canonically equivalent spellings (which Swift's String
        // treats as equal), the same one is kept on every run.
        var known = Set<String>()
        for word in rawWords.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            known.insert(String(decoding: word, as: UTF8.self).lowercased())
        }
        knownWords = known
    }
}

/// The merge loop. Token ids: 0...255 are the bytes themselves, learned tokens follow.
private struct BPETrainer {
    private(set) var tokenBytes: [[UInt8]] = (0..<256).map { [UInt8($0)] }
    private(set) var merges: [TextTokenizer.Merge] = []

    private var idForBytes: [[UInt8]: Int32] = {
        var table = [[UInt8]: Int32]()
        for byte in 0..<256 { table[[UInt8(byte)]] = Int32(byte) }
        return table
    }()
    private var words: [[Int32]]
    private let wordCounts: [Int]
    /// Occurrences of each adjacent pair, weighted by word count (zero entries are removed).
    private var pairCounts: [UInt64: Int] = [:]
    /// Words that contain (or once contained) each pair; stale entries are skipped when used.
    private var pairWords: [UInt64: [Int32]] = [:]
    private var queue = MinHeap<Candidate>()

    /// A heap entry: a pair and its count when pushed. Counts only go down for existing pairs,
    /// so an entry is an upper bound; a stale one is re-queued with the current count on pop.
    private struct Candidate: Comparable {
        let count: Int
        let pair: UInt64
        /// "Smaller" pops first: higher count, then the smaller (left, right) ids.
        static func < (a: Candidate, b: Candidate) -> Bool {
            a.count != b.count ? a.count > b.count : a.pair < b.pair
        }
    }

    init(words sortedWords: [(bytes: [UInt8], count: Int)]) {
        words = sortedWords.map { $0.bytes.map(Int32.init) }
        wordCounts = sortedWords.map(\.count)
        for (w, symbols) in words.enumerated() where symbols.count >= 2 {
            for i in 0..<(symbols.count - 1) {
                let pair = pairKey(symbols[i], symbols[i + 1])
                pairCounts[pair, default: 0] += wordCounts[w]
                // Pairs of one word are visited in order, so a repeat is the last entry.
                if pairWords[pair]?.last != Int32(w) { pairWords[pair, default: []].append(Int32(w)) }
            }
        }
        queue = MinHeap(pairCounts.map { Candidate(count: $0.value, pair: $0.key) })
    }

    mutating func learn(targetTokens: Int, minPairFrequency: Int, progress: ((Int, Int) -> Void)?) {
        let total = max(0, targetTokens - tokenBytes.count)
        while tokenBytes.count < targetTokens, let top = queue.pop() {
            let current = pairCounts[top.pair] ?? 0
            if current != top.count {
                if current > 0 { queue.push(Candidate(count: current, pair: top.pair)) }
                continue
            }
            if current < minPairFrequency { break }
            mergePair(top.pair)
            progress?(tokenBytes.count - 256, total)
        }
    }

    private mutating func mergePair(_ pair: UInt64) {
        let left = Int32(truncatingIfNeeded: pair >> 32), right = Int32(truncatingIfNeeded: pair)
        let bytes = tokenBytes[Int(left)] + tokenBytes[Int(right)]
        // Different merges can spell the same string ("a"+"bc", "ab"+"c"): they share one id.
        let result: Int32
        if let existing = idForBytes[bytes] {
            result = existing
        } else {
            result = Int32(tokenBytes.count)
            tokenBytes.append(bytes)
            idForBytes[bytes] = result
        }
        merges.append(TextTokenizer.Merge(left: left, right: right, result: result))

        var grown = Set<UInt64>()
        let candidates = Set(pairWords.removeValue(forKey: pair) ?? []).sorted()
        for w in candidates {
            let old = words[Int(w)]
            var new = [Int32]()
            new.reserveCapacity(old.count)
            var i = 0
            while i < old.count {
                if i + 1 < old.count && old[i] == left && old[i + 1] == right {
                    new.append(result)
                    i += 2
                } else {
                    new.append(old[i])
                    i += 1
                }
            }
            if new.count == old.count { continue }  // stale index entry
            words[Int(w)] = new
            // Replace the word's pairs: old ones out, new ones in (unchanged ones cancel).
            let count = wordCounts[Int(w)]
            for k in 0..<(old.count - 1) { adjust(pairKey(old[k], old[k + 1]), by: -count) }
            var indexed: [UInt64] = []
            for k in 0..<(new.count - 1) {
                let newPair = pairKey(new[k], new[k + 1])
                adjust(newPair, by: count)
                if new[k] == result || new[k + 1] == result {
                    grown.insert(newPair)
                    if !indexed.contains(newPair) {
                        indexed.append(newPair)
                        pairWords[newPair, default: []].append(w)
                    }
                }
            }
        }
        for newPair in grown {
            if let count = pairCounts[newPair] { queue.push(Candidate(count: count, pair: newPair)) }
        }
    }

    private mutating func adjust(_ pair: UInt64, by delta: Int) {
        let updated = (pairCounts[pair] ?? 0) + delta
        pairCounts[pair] = updated > 0 ? updated : nil
    }
}
