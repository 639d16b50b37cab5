/// The unified id space (Show-o layout): text BPE tokens, then the special tokens, then the
/// image codes (offset + k for code k), then one `<|mask|>` id last.
public struct TokenIDs: Equatable, Sendable {
    public static let specialNames = ["<|pad|>", "<|bos|>", "<|eos|>", "<|soi|>", "<|eoi|>", "<|t2i|>", "<|mmu|>"]

    public let textCount: Int
    public let imageCodes: Int

    public init(textCount: Int, imageCodes: Int) {
        self.textCount = textCount
        self.imageCodes = imageCodes
    }

    public init(_ config: ModelConfig) { self.init(textCount: config.textVocabSize, imageCodes: config.imageCodebookSize) }

    public var pad: Int { textCount }
    public var bos: Int { textCount + 1 }
    public var eos: Int { textCount + 2 }
    public var soi: Int { textCount + 3 }
    public var eoi: Int { textCount + 4 }
    public var t2i: Int { textCount + 5 }
    public var mmu: Int { textCount + 6 }
    /// Id of image code 0; code k is `imageOffset + k`.
    public var imageOffset: Int { textCount + TokenIDs.specialNames.count }
    public var mask: Int { imageOffset + imageCodes }
    /// Size of the embedding table and the output head.
    public var size: Int { mask + 1 }
    /// Ids a text position may predict: text tokens and the specials (not image codes, not mask).
    public var textPredictable: Range<Int> { 0..<imageOffset }

    @inline(__always) public func isImage(_ id: Int) -> Bool { id >= imageOffset && id < mask }
}
