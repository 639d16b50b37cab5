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
