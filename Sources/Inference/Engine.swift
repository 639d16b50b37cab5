import Foundation
import Tensor
import Imaging
import FaceModel

/// The inference engine the CLI and the studio share: a loaded model directory and the
/// operations on it, each reporting progress as events. Safe to use from a background thread;
/// one operation at a time per engine.
public final class Engine: @unchecked Sendable {
    public let directory: ModelDirectory
    let builder: SequenceBuilder

    /// Loads a model directory strictly (see `ModelDirectory`).
    public init(modelDirectory path: String) throws {
        directory = try ModelDirectory(path: path)
        builder = SequenceBuilder(config: directory.config)
    }

    public init(directory: ModelDirectory) {
        self.directory = directory
        builder = SequenceBuilder(config: directory.config)
    }

    /// What a front end shows about the loaded model.
    public var info: ModelInfo {
        let c = directory.config
        let side = Int(Double(c.imageTokens).squareRoot().rounded())
        let groups: [(String, SequenceLayout.Task)] = [("t2i", .t2i), ("mmu", .mmu)]
        return ModelInfo(name: (directory.path as NSString).lastPathComponent, layers: c.layers, dModel: c.dModel,
                         sharedExperts: c.sharedExperts, routedExperts: c.routedExperts,
                         gridSide: side * side == c.imageTokens ? side : 0,
                         sequenceExperts: c.sequenceMoE ? Dictionary(uniqueKeysWithValues: groups.map { ($0.0, SequenceExpert.group($0.1).map(\.rawValue)) }) : [:])
    }

    /// The image of `codes` (one code per image token), through the image tokenizer's decoder.
    public func decode(codes: [Int]) throws -> RGBImage { try directory.imageTokenizer.decode(codes) }

    /// Words of `prompt` the text tokenizer never saw in training (the studio highlights them).
    public func unknownWords(in prompt: String) -> [(word: String, range: Range<String.Index>)] {
        directory.textTokenizer.unknownWords(in: prompt)
    }

    /// Number of prompt tokens the model reads; longer prompts are cut.
    public var promptCapacity: Int { directory.config.maxPromptTokens - 2 }

    /// Tokens `prompt` takes.
    public func promptTokenCount(_ prompt: String) -> Int { directory.textTokenizer.encode(prompt).count }

    /// A chat about `image`: the image prefix is run once and reused for every question. The
    /// image's CLIP and face embeddings (for the sequence-level MoE) are computed here, once.
    public func chat(image: RGBImage) throws -> ChatSession {
        let side = directory.imageTokenizer.config.imageSize
        let input = (image.width == side && image.height == side) ? image : ImageOps.resize(image, width: side, height: side)
        let embeddings = directory.config.readsImageEmbeddings ? try directory.encoders?.embeddings(image) : nil
        return try ChatSession(engine: self, codes: directory.imageTokenizer.encode(input), embeddings: embeddings)
    }

    /// A caption of `image`: the answer to `ChatFormat.describeQuestion`.
    public func caption(image: RGBImage, options: ChatOptions = ChatOptions(), cancel: Cancellation? = nil,
                        onToken: ((TokenEvent) -> Void)? = nil) throws -> String {
        try chat(image: image).ask(ChatFormat.describeQuestion, options: options, cancel: cancel, onToken: onToken)
    }
}

/// The loaded model as a front end describes it: its size and the experts its panes show.
public struct ModelInfo: Equatable, Sendable {
    /// The model directory's name.
    public var name: String
    public var layers: Int
    public var dModel: Int
    public var sharedExperts: Int
    public var routedExperts: Int
    /// Side of the square image-token grid (16 for 256 tokens; 0 when not square).
    public var gridSide: Int
    /// Sequence-level expert names per group ("t2i": copy, zero, noise; "mmu": copy, clip, face);
    /// empty when the sequence-level MoE is off.
    public var sequenceExperts: [String: [String]]

    public init(name: String, layers: Int, dModel: Int, sharedExperts: Int, routedExperts: Int, gridSide: Int,
                sequenceExperts: [String: [String]]) {
        self.name = name; self.layers = layers; self.dModel = dModel; self.sharedExperts = sharedExperts
        self.routedExperts = routedExperts; self.gridSide = gridSide; self.sequenceExperts = sequenceExperts
    }

    /// "Models: 6 layers, d 192, 1+8 experts".
    public var summary: String { "\(name): \(layers) layers, d \(dModel), \(sharedExperts)+\(routedExperts) experts" }
}
