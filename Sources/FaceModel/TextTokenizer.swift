import Foundation

/// The byte-level BPE text tokenizer (GPT-2 style), stored as a Hugging Face `tokenizer.json`.
///
/// Ids: the BPE vocabulary first (the 256 byte symbols are always in it, so any UTF-8 text
/// encodes and `decode(encode(s)) == s`), then the special tokens (`<|pad|>`, `<|bos|>`...).
/// Image codes and `<|mask|>` follow in the model's id space, outside this tokenizer.
///
/// Training: `TextTokenizerTraining.swift`; file format: `TextTokenizerFile.swift`.
/// Immutable apart from an internal cache, and safe to share between threads.
public final class TextTokenizer: @unchecked Sendable {
    /// The special tokens of the Show-o sequence layout (docs/DESIGN.md "Vocabulary and sequences").
    public static let defaultSpecialTokens = ["<|pad|>", "<|bos|>", "<|eos|>", "<|soi|>", "<|eoi|>", "<|t2i|>", "<|mmu|>"]

    /// One learned merge: tokens `left`, `right` become `result` (ids).
    struct Merge: Equatable {
        let left: Int32
        let right: Int32
        let result: Int32
    }

    /// The bytes of each BPE token, by id.
    let tokenBytes: [[UInt8]]
    /// Merges in priority order: the earlier a merge was learned, the earlier it applies.
    let merges: [Merge]
    /// The id of the single-byte token for each byte value.
    let byteIDs: [Int32]
    /// (left, right) packed by `pairKey` → (rank, result), for encoding.
    private let mergeTable: [UInt64: (rank: Int32, result: Int32)]
    /// Special-token strings; the id of `specialTokens[k]` is `bpeVocabSize + k`.
    public let specialTokens: [String]
    private let specialIDs: [String: Int]
    /// Lower-cased words of the training text, or nil when the file did not record them.
    let knownWords: Set<String>?

    /// Number of BPE tokens (byte symbols + merges' results).
    public var bpeVocabSize: Int { tokenBytes.count }
    /// Text vocabulary: BPE tokens, then special tokens.
    public var vocabSize: Int { tokenBytes.count + specialTokens.count }
    /// Whether `unknownWords(in:)` can answer (the training words were recorded).
    public var tracksKnownWords: Bool { knownWords != nil }

    private let cache = PieceCache()

    /// Assembles a tokenizer from validated parts (the trainer and the file reader check them).
    init(tokenBytes: [[UInt8]], merges: [Merge], specialTokens: [String], knownWords: Set<String>?) {
        self.tokenBytes = tokenBytes
        self.merges = merges
        self.specialTokens = specialTokens
        self.knownWords = knownWords
        var byteIDs = [Int32](repeating: -1, count: 256)
        for (id, bytes) in tokenBytes.enumerated() where bytes.count == 1 { byteIDs[Int(bytes[0])] = Int32(id) }
        self.byteIDs = byteIDs
        var table = [UInt64: (rank: Int32, result: Int32)](minimumCapacity: merges.count)
        for (rank, merge) in merges.enumerated() {
            table[pairKey(merge.left, merge.right)] = (Int32(rank), merge.result)
        }
        self.mergeTable = table
        var specialIDs = [String: Int]()
        for (k, name) in specialTokens.enumerated() { specialIDs[name] = tokenBytes.count + k }
        self.specialIDs = specialIDs
    }

    // MARK: - Ids

    /// The id of a special token such as `<|bos|>`, or nil if this tokenizer has no such token.
    public func specialTokenID(_ name: String) -> Int? { specialIDs[name] }

    /// The vocabulary string of an id (`Ġblue`, `<|eos|>`), or nil outside the text vocabulary.
    public func token(forID id: Int) -> String? {
        if id >= 0 && id < tokenBytes.count { return ByteLevelAlphabet.string(for: tokenBytes[id]) }
        let special = id - tokenBytes.count
        return special >= 0 && special < specialTokens.count ? specialTokens[special] : nil
    }

    // MARK: - Encoding

    /// The token ids of `text`. Special-token strings in the text are ordinary text unless
    /// `allowSpecial` is set: user prompts must not be able to inject `<|eos|>` or `<|soi|>`.
    public func encode(_ text: String, allowSpecial: Bool = false) -> [Int] {
        var ids = [Int]()
        ids.reserveCapacity(text.utf8.count / 3)
        UTF8Scan.withBytes(of: text) { bytes in
            guard allowSpecial, !specialTokens.isEmpty else {
                encodeOrdinary(bytes, into: &ids)
                return
            }
            var segmentStart = 0
            var i = 0
            while i < bytes.count {
                if let (id, length) = specialToken(in: bytes, at: i) {
                    encodeOrdinary(UnsafeBufferPointer(rebasing: bytes[segmentStart..<i]), into: &ids)
                    ids.append(id)
                    i += length
                    segmentStart = i
                } else {
                    i += 1
                }
            }
            encodeOrdinary(UnsafeBufferPointer(rebasing: bytes[segmentStart..<bytes.count]), into: &ids)
        }
        return ids
    }

    /// The longest special token starting at byte `i`, with its byte length.
    private func specialToken(in bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (id: Int, length: Int)? {
        var best: (id: Int, length: Int)? = nil
        for (k, name) in specialTokens.enumerated() {
            let utf8 = name.utf8
            guard utf8.count <= bytes.count - i, utf8.count > (best?.length ?? 0) else { continue }
            if utf8.elementsEqual(bytes[i..<(i + utf8.count)]) { best = (tokenBytes.count + k, utf8.count) }
        }
        return best
    }

    private func encodeOrdinary(_ bytes: UnsafeBufferPointer<UInt8>, into ids: inout [Int]) {
        PreTokenizer.forEachPiece(in: bytes) { range in
            let piece = UnsafeBufferPointer(rebasing: bytes[range])
            if let cached = cache.lookup(piece) {
                ids.append(contentsOf: cached.lazy.map(Int.init))
                return
            }
            let pieceIDs = applyMerges(piece)
            cache.store(piece, pieceIDs)
            ids.append(contentsOf: pieceIDs.lazy.map(Int.init))
        }
    }

    /// BPE on one piece: start from byte symbols and apply the lowest-ranked applicable merge
    /// (leftmost first among equals) until none applies. A heap of candidate pairs over a linked
    /// list of symbols keeps this O(n log n), so a megabyte without spaces cannot stall encoding.
    func applyMerges(_ piece: UnsafeBufferPointer<UInt8>) -> [Int32] {
        let n = piece.count
        var symbols = piece.map { byteIDs[Int($0)] }
        if n < 2 || merges.isEmpty { return symbols }
        var next = (0..<n).map { Int32($0 + 1) }
        next[n - 1] = -1
        var previous = (0..<n).map { Int32($0 - 1) }
        var alive = [Bool](repeating: true, count: n)
        // Candidates packed as rank << 32 | position, so the heap orders by rank, then position.
        var candidates = MinHeap<UInt64>()
        func consider(_ left: Int32) {
            guard left >= 0 else { return }
            let right = next[Int(left)]
            guard right >= 0, let merge = mergeTable[pairKey(symbols[Int(left)], symbols[Int(right)])] else { return }
            candidates.push(UInt64(merge.rank) << 32 | UInt64(left))
        }
        for i in 0..<(n - 1) { consider(Int32(i)) }
        while let top = candidates.pop() {
            let rank = Int32(truncatingIfNeeded: top >> 32), left = Int(top & 0xFFFF_FFFF)
            // Stale candidates: the symbol was merged away or its neighbour changed since.
            guard alive[left] else { continue }
            let right = Int(next[left])
            guard right >= 0, let merge = mergeTable[pairKey(symbols[left], symbols[right])], merge.rank == rank else { continue }
            symbols[left] = merge.result
            alive[right] = false
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(left) }
            consider(previous[left])
            consider(Int32(left))
        }
        var result = [Int32]()
        var i: Int32 = 0  // the first symbol is never merged away (merges keep the left one)
        while i >= 0 { result.append(symbols[Int(i)]); i = next[Int(i)] }
        return result
    }

    // MARK: - Decoding

    /// The text of `ids`. Ids outside the text vocabulary (image codes, mask) are skipped;
    /// special tokens are written as their strings unless `skipSpecial`. Bytes that do not form
    /// valid UTF-8 (e.g. a cut-off multi-byte character) become U+FFFD.
    public func decode(_ ids: [Int], skipSpecial: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecial: skipSpecial), as: UTF8.self)
    }

    /// The raw bytes of `ids` (see `decode`), for callers that assemble text incrementally.
    public func decodeBytes<IDs: Sequence>(_ ids: IDs, skipSpecial: Bool = false) -> [UInt8] where IDs.Element == Int {
        var bytes = [UInt8]()
        for id in ids {
            if id >= 0 && id < tokenBytes.count {
                bytes.append(contentsOf: tokenBytes[id])
            } else if !skipSpecial, let name = token(forID: id) {
                bytes.append(contentsOf: name.utf8)
            }
        }
        return bytes
    }

    // MARK: - Unknown words

    /// Words of `text` (a letter, then letters and combining marks; compared case-insensitively)
    /// that never occurred in the training text, with their ranges in `text`, in order.
    /// Empty when the tokenizer did not record its training words (`tracksKnownWords`).
    public func unknownWords(in text: String) -> [(word: String, range: Range<String.Index>)] {
        guard let knownWords else { return [] }
        var offsets: [Range<Int>] = []
        UTF8Scan.withBytes(of: text) { bytes in PreTokenizer.forEachWord(in: bytes) { offsets.append($0) } }
        let utf8 = text.utf8
        var result: [(word: String, range: Range<String.Index>)] = []
        for offset in offsets {
            let lower = utf8.index(utf8.startIndex, offsetBy: offset.lowerBound)
            let upper = utf8.index(utf8.startIndex, offsetBy: offset.upperBound)
            let word = String(text.unicodeScalars[lower..<upper])
            if !knownWords.contains(word.lowercased()) { result.append((word, lower..<upper)) }
        }
        return result
    }
}

/// Turns a stream of token ids into text as it arrives (chat streaming), holding back the bytes
/// of a character that is split across tokens until it is complete, so no spurious U+FFFD
/// appears mid-stream. Bytes that can never become valid are emitted as U+FFFD.
public struct TextDecodeStream {
    private let tokenizer: TextTokenizer
    private let skipSpecial: Bool
    private var pending: [UInt8] = []

    public init(tokenizer: TextTokenizer, skipSpecial: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecial = skipSpecial
    }

    /// Adds one token; returns the text that became complete (often "", sometimes several characters).
    public mutating func push(_ id: Int) -> String {
        pending.append(contentsOf: tokenizer.decodeBytes(CollectionOfOne(id), skipSpecial: skipSpecial))
        let complete = Self.completePrefixLength(pending)
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Flushes what is held back (an unfinished character becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of `bytes` without a trailing multi-byte sequence that is still missing bytes.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        // Look back at most 3 bytes for the lead byte of the last sequence.
        var k = bytes.count - 1
        while k >= 0 && k >= bytes.count - 4 {
            let byte = bytes[k]
            if byte & 0xC0 != 0x80 {
                let needed = byte >= 0xF0 && byte <= 0xF4 ? 4 : byte >= 0xE0 && byte < 0xF0 ? 3 : byte >= 0xC2 && byte < 0xE0 ? 2 : 1
                return needed > bytes.count - k ? k : bytes.count
            }
            k -= 1
        }
        return bytes.count
    }
}

/// (left, right) token ids as one dictionary key.
@inline(__always)
func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
}

/// A binary min-heap (the smallest element pops first).
struct MinHeap<Element: Comparable> {
    private(set) var elements: [Element] = []

    init() {}

    /// Builds the heap from `items` in O(n).
    init(_ items: [Element]) {
        elements = items
        var i = elements.count / 2 - 1
        while i >= 0 { siftDown(i); i -= 1 }
    }

    var isEmpty: Bool { elements.isEmpty }

    mutating func push(_ element: Element) {
        elements.append(element)
        var child = elements.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if !(elements[child] < elements[parent]) { break }
            elements.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard let last = elements.popLast() else { return nil }
        guard !elements.isEmpty else { return last }
        let top = elements[0]
        elements[0] = last
        siftDown(0)
        return top
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < elements.count && elements[left] < elements[smallest] { smallest = left }
            if right < elements.count && elements[right] < elements[smallest] { smallest = right }
            if smallest == parent { return }
            elements.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

/// Word → ids cache for encoding (captions repeat the same few thousand words). Bounded: cleared
/// when full; long pieces are not cached.
private final class PieceCache: @unchecked Sendable {
    private var entries: [[UInt8]: [Int32]] = [:]
    private let lock = NSLock()
    private static let capacity = 100_000
    private static let maxPieceBytes = 64

    func lookup(_ piece: UnsafeBufferPointer<UInt8>) -> [Int32]? {
        guard piece.count <= Self.maxPieceBytes else { return nil }
        let key = Array(piece)
        lock.lock(); defer { lock.unlock() }
        return entries[key]
    }

    func store(_ piece: UnsafeBufferPointer<UInt8>, _ ids: [Int32]) {
        guard piece.count <= Self.maxPieceBytes else { return }
        let key = Array(piece)
        lock.lock(); defer { lock.unlock() }
        if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = ids
    }
}
