import Foundation
import Imaging
import Inference

/// The ranges the unmasking pane's keys keep the sampler settings in (narrower than the engine
/// accepts: a key press moves a setting one notch, and these cover what is worth trying).
public enum SamplerRanges {
    public static let steps = 1...64
    public static let cfg: ClosedRange<Float> = 0...10
    public static let temperature: ClosedRange<Float> = 0...20
}

/// One question and its answer in the chat the model is in.
public struct ChatTurn: Codable, Equatable, Sendable {
    public var question: String
    public var answer: String
    public init(question: String, answer: String) { self.question = question; self.answer = answer }
}

/// The image a chat is about, as the worker receives it.
public enum ChatImage: Sendable {
    case image(RGBImage)
    /// Image-token codes, decoded by the backend (a restored session's generated face).
    case codes([Int])
    /// A PNG file (a restored session's opened image).
    case file(String)
}

/// The engine side of the studio, in the engine's own types. The studio calls `load`,
/// `generate`, `decode`, `openChat`, `ask` and `clearChat` from its one worker thread only, one
/// at a time; `unknownWords` may be called from the UI thread at any time after `load` returned.
public protocol StudioBackend: AnyObject {
    func load() throws -> ModelInfo
    /// Words the text tokenizer never saw, as character offsets into `prompt`.
    func unknownWords(in prompt: String) -> [Range<Int>]
    /// Runs `generate`, reporting every step; throws `InferenceError.cancelled` when cancelled.
    func generate(prompt: String, options: GenerateOptions, cancel: Cancellation, onStep: (StepEvent) -> Void) throws
    func decode(codes: [Int]) throws -> RGBImage
    /// Starts a new conversation about `image`, with `history` (earlier turns, from a restored
    /// session) already in the model's context.
    func openChat(image: RGBImage, history: [ChatTurn]) throws
    /// Answers about the open image, streaming; returns the whole answer, or throws
    /// `InferenceError.cancelled` after the last piece when cancelled.
    func ask(_ question: String, cancel: Cancellation, onToken: (TokenEvent) -> Void) throws -> String
    func clearChat()
}

/// The studio's backend on the real inference engine.
public final class EngineBackend: StudioBackend, @unchecked Sendable {
    public let modelDirectory: String
    private let lock = NSLock()
    private var engine: Engine?
    private var chat: ChatSession?

    public init(modelDirectory: String) { self.modelDirectory = modelDirectory }

    public func load() throws -> ModelInfo {
        let engine = try Engine(modelDirectory: modelDirectory)
        lock.lock(); self.engine = engine; lock.unlock()
        return engine.info
    }

    private var loaded: Engine {
        get throws {
            lock.lock(); defer { lock.unlock() }
            guard let engine else { throw InferenceError.invalidOption("the model is not loaded") }
            return engine
        }
    }

    public func unknownWords(in prompt: String) -> [Range<Int>] {
        lock.lock(); let engine = self.engine; lock.unlock()
        return (engine?.unknownWords(in: prompt) ?? []).map {
            prompt.distance(from: prompt.startIndex, to: $0.range.lowerBound)..<prompt.distance(from: prompt.startIndex, to: $0.range.upperBound)
        }
    }

    public func generate(prompt: String, options: GenerateOptions, cancel: Cancellation, onStep: (StepEvent) -> Void) throws {
        var options = options
        options.previews = true
        _ = try withoutActuallyEscaping(onStep) { onStep in
            try loaded.generate(prompt: prompt, options: options, cancel: cancel, onStep: onStep)
        }
    }

    public func decode(codes: [Int]) throws -> RGBImage { try loaded.decode(codes: codes) }

    public func openChat(image: RGBImage, history: [ChatTurn]) throws {
        let session = try loaded.chat(image: image)
        for turn in history { try session.replay(question: turn.question, answer: turn.answer) }
        chat = session
    }

    public func ask(_ question: String, cancel: Cancellation, onToken: (TokenEvent) -> Void) throws -> String {
        guard let chat else { throw InferenceError.invalidOption("no image to talk about: generate one or /open a PNG") }
        return try withoutActuallyEscaping(onToken) { onToken in try chat.ask(question, cancel: cancel, onToken: onToken) }
    }

    public func clearChat() { chat?.clear() }
}
