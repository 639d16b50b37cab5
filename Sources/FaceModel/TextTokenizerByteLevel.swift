// Byte-level pieces of the text tokenizer: GPT-2's byte alphabet, Unicode scalar classes, and the
// hand-written pre-tokenizer that splits text into the pieces BPE works inside.

/// GPT-2's reversible map between the 256 byte values and printable characters, so every token of
/// a byte-level vocabulary is a readable string (space is `Ġ`, newline `Ċ`) and `tokenizer.json`
/// means the same thing to Hugging Face tools. Printable Latin-1 bytes stand for themselves; the
/// other 68 bytes take U+0100 upwards, in byte order.
enum ByteLevelAlphabet {
    /// `scalars[b]` is the character standing for byte `b`.
    static let scalars: [Unicode.Scalar] = {
        func printable(_ b: Int) -> Bool { (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b) }
        var next: UInt32 = 0x100
        return (0..<256).map { b in
            if printable(b) { return Unicode.Scalar(UInt8(b)) }
            defer { next += 1 }
            // 0x100...0x143 are all valid scalars (Latin Extended-A).
            return Unicode.Scalar(next) ?? "?"
        }
    }()

    /// The inverse of `scalars`.
    static let byteForScalar: [UInt32: UInt8] = {
        var table = [UInt32: UInt8]()
        for (byte, scalar) in scalars.enumerated() { table[scalar.value] = UInt8(byte) }
        return table
    }()

    /// The vocabulary string of a token made of `bytes`.
    static func string<Bytes: Sequence>(for bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var result = String.UnicodeScalarView()
        for byte in bytes { result.append(scalars[Int(byte)]) }
        return String(result)
    }

    /// The bytes a vocabulary string stands for, or the first character that is not a byte symbol.
    static func bytes(for token: String) -> Result<[UInt8], UnknownSymbol> {
        var bytes = [UInt8]()
        for scalar in token.unicodeScalars {
            guard let byte = byteForScalar[scalar.value] else { return .failure(UnknownSymbol(scalar: scalar)) }
            bytes.append(byte)
        }
        return .success(bytes)
    }

    struct UnknownSymbol: Error { let scalar: Unicode.Scalar }
}

/// The classes the pre-tokenizer and the word finder tell apart. `\s` is Unicode White_Space,
/// letters are `\p{L}`, numbers `\p{N}`, marks `\p{M}` (combining accents); the rest is `other`.
enum ScalarKind: UInt8 {
    case letter, number, mark, whitespace, other

    /// The pre-tokenizer's three run classes plus whitespace: marks count as punctuation there,
    /// exactly as in GPT-2's pattern (`[^\s\p{L}\p{N}]`).
    var pieceClass: ScalarKind { self == .mark ? .other : self }

    static func of(_ value: UInt32) -> ScalarKind {
        if value < 0x80 { return ascii[Int(value)] }
        guard let scalar = Unicode.Scalar(value) else { return .other }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        case .nonspacingMark, .spacingMark, .enclosingMark: return .mark
        default: return .other
        }
    }

    private static let ascii: [ScalarKind] = (0..<128).map { (code: Int) -> ScalarKind in
        switch code {
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0x30...0x39: return .number
        case 0x09...0x0D, 0x20: return .whitespace  // 0x1C-0x1F are not White_Space in Unicode
        default: return .other
        }
    }
}

/// Reading Unicode scalars straight from UTF-8 bytes. Swift strings are valid UTF-8, but the
/// reader stays total on any bytes: a malformed sequence reads as one U+FFFD of length 1.
enum UTF8Scan {
    @inline(__always)
    static func scalar(in bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (value: UInt32, length: Int) {
        let b0 = bytes[i]
        if b0 < 0x80 { return (UInt32(b0), 1) }
        let n = bytes.count
        @inline(__always) func continuation(_ k: Int) -> UInt32? {
            guard k < n, bytes[k] & 0xC0 == 0x80 else { return nil }
            return UInt32(bytes[k] & 0x3F)
        }
        switch b0 {
        case 0xC2...0xDF:
            if let c1 = continuation(i + 1) { return (UInt32(b0 & 0x1F) << 6 | c1, 2) }
        case 0xE0...0xEF:
            if let c1 = continuation(i + 1), let c2 = continuation(i + 2) {
                let value = UInt32(b0 & 0x0F) << 12 | c1 << 6 | c2
                if value >= 0x800 && !(0xD800...0xDFFF).contains(value) { return (value, 3) }
            }
        case 0xF0...0xF4:
            if let c1 = continuation(i + 1), let c2 = continuation(i + 2), let c3 = continuation(i + 3) {
                let value = UInt32(b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3
                if (0x10000...0x10FFFF).contains(value) { return (value, 4) }
            }
        default: break
        }
        return (0xFFFD, 1)
    }

    /// Runs `body` on the contiguous UTF-8 bytes of `text` (no copy for native strings).
    static func withBytes<R>(of text: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        var text = text
        return try text.withUTF8(body)
    }
}

/// Splits text into the pieces BPE merges within, by GPT-2's rule, written out by hand:
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// i.e. an optional single leading space glued to a run of letters, digits or punctuation;
/// English contractions split off; runs of whitespace kept apart, leaving their last character
/// to lead the next word. This is the pattern of Hugging Face's `ByteLevel` pre-tokenizer (with
/// `use_regex: true`), so the two split identically. Linear time, no backtracking.
enum PreTokenizer {
    /// Calls `body` with the byte range of each piece, in order; the pieces tile `bytes`.
    static func forEachPiece(in bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let n = bytes.count
        var i = 0
        while i < n {
            if let length = contractionLength(bytes, at: i) {
                body(i..<(i + length))
                i += length
                continue
            }
            // ` ?X+`: a space may lead a letter, digit or punctuation run.
            var runStart = i
            if bytes[i] == 0x20 && i + 1 < n { runStart = i + 1 }
            var (value, length) = UTF8Scan.scalar(in: bytes, at: runStart)
            var kind = ScalarKind.of(value).pieceClass
            if kind == .whitespace && runStart != i {
                runStart = i
                (value, length) = UTF8Scan.scalar(in: bytes, at: i)
                kind = .whitespace
            }
            if kind != .whitespace {
                var end = runStart + length
                while end < n {
                    let (next, nextLength) = UTF8Scan.scalar(in: bytes, at: end)
                    if ScalarKind.of(next).pieceClass != kind { break }
                    end += nextLength
                }
                body(i..<end)
                i = end
                continue
            }
            // `\s+(?!\S)|\s+`: a whitespace run followed by text gives up its last character
            // (which then leads the next piece) unless that character is the whole run.
            var end = i, lastStart = i, count = 0
            while end < n {
                let (next, nextLength) = UTF8Scan.scalar(in: bytes, at: end)
                if ScalarKind.of(next) != .whitespace { break }
                lastStart = end
                end += nextLength
                count += 1
            }
            let stop = (end == n || count == 1) ? end : lastStart
            body(i..<stop)
            i = stop
        }
    }

    /// Length of `'s 't 're 've 'm 'll 'd` at `i` (case-sensitive, as in GPT-2), or nil.
    private static func contractionLength(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        guard bytes[i] == 0x27, i + 1 < bytes.count else { return nil }
        switch bytes[i + 1] {
        case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return 2
        case UInt8(ascii: "r"), UInt8(ascii: "v"):
            return i + 2 < bytes.count && bytes[i + 2] == UInt8(ascii: "e") ? 3 : nil
        case UInt8(ascii: "l"):
            return i + 2 < bytes.count && bytes[i + 2] == UInt8(ascii: "l") ? 3 : nil
        default: return nil
        }
    }

    /// Calls `body` with the byte range of each word: a letter followed by letters and combining
    /// marks (so "café" in decomposed form stays one word). This is what "unknown word" means.
    static func forEachWord(in bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        var i = 0
        var wordStart: Int? = nil
        while i < bytes.count {
            let (value, length) = UTF8Scan.scalar(in: bytes, at: i)
            switch ScalarKind.of(value) {
            case .letter: if wordStart == nil { wordStart = i }
            case .mark: break  // continues a word, starts none
            default:
                if let start = wordStart { body(start..<i) }
                wordStart = nil
            }
            i += length
        }
        if let start = wordStart { body(start..<bytes.count) }
    }
}
