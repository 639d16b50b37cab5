import Foundation
import Imaging
import Inference

/// The generation controls the unmasking pane shows and changes.
public struct GenerationSettings: Codable, Equatable, Sendable {
    public var seed: UInt64 = 0
    public var steps: Int = 12
    public var cfg: Float = 1.75
    public var temperature: Float = 4.5

    public init() {}

    public static let stepsRange = 1...64
    public static let cfgRange: ClosedRange<Float> = 0...10
    public static let temperatureRange: ClosedRange<Float> = 0...20
}

/// One sequence-level expert's gate at one layer (MoE++ copy/zero/noise, copy/CLIP/face).
public struct SequenceExpertGate: Codable, Equatable, Sendable {
    public var name: String
    public var gate: Double
    public init(name: String, gate: Double) { self.name = name; self.gate = gate }
}

/// Routing of one forward pass as the experts pane shows it.
public struct ExpertRouting: Codable, Equatable, Sendable {
    /// "t2i" or "mmu".
    public var group: String
    /// Per layer: share of the counted tokens choosing each routed expert (each row sums to k).
    public var frequencies: [[Double]]
    /// Per layer: each counted token's top expert (for T2I, one per image slot).
    public var topExpert: [[Int]]
    /// Per layer: the sequence-level experts chosen and their gates (empty until the engine
    /// reports them).
    public var sequence: [[SequenceExpertGate]]

    public init(group: String, frequencies: [[Double]], topExpert: [[Int]] = [], sequence: [[SequenceExpertGate]] = []) {
        self.group = group; self.frequencies = frequencies; self.topExpert = topExpert; self.sequence = sequence
    }
}

/// One MaskGIT step as the studio keeps it.
public struct UnmaskFrame: Codable, Sendable {
    public var step: Int
    public var steps: Int
    public var codes: [Int]
    public var masked: [Bool]
    public var confidence: [Float]
    public var revealed: [Int]
    public var routing: ExpertRouting
    public var elapsed: Double
    /// The decoded image (not stored in session files: decoded again from `codes`).
    public var preview: RGBImage?

    enum CodingKeys: String, CodingKey { case step, steps, codes, masked, confidence, revealed, routing, elapsed }

    public init(step: Int, steps: Int, codes: [Int], masked: [Bool], confidence: [Float], revealed: [Int],
                routing: ExpertRouting, elapsed: Double, preview: RGBImage?) {
        self.step = step; self.steps = steps; self.codes = codes; self.masked = masked; self.confidence = confidence
        self.revealed = revealed; self.routing = routing; self.elapsed = elapsed; self.preview = preview
    }
}

/// One streamed piece of a chat answer.
public struct ChatToken: Sendable {
    public var text: String
    public var routing: ExpertRouting
    public init(text: String, routing: ExpertRouting) { self.text = text; self.routing = routing }
}

/// What the experts pane and the overlays need to know about the model before any event.
public struct BackendInfo: Equatable, Sendable {
    public var description: String
    public var layers: Int
    public var sharedExperts: Int
    public var routedExperts: Int
    /// Image token grid side (16 for 256 slots).
    public var gridSide: Int
    /// Sequence-level expert names per group ("t2i": copy, zero, noise; "mmu": copy, clip, face).
    public var sequenceExperts: [String: [String]]

    public init(description: String, layers: Int, sharedExperts: Int, routedExperts: Int, gridSide: Int,
                sequenceExperts: [String: [String]]) {
        self.description = description; self.layers = layers; self.sharedExperts = sharedExperts
        self.routedExperts = routedExperts; self.gridSide = gridSide; self.sequenceExperts = sequenceExperts
    }
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

/// The engine side of the studio. The studio calls `load`, `generate`, `decode`, `openChat`,
/// `ask` and `clearChat` from its one worker thread only, one at a time; `unknownWords` may be
/// called from the UI thread at any time after `load` returned.
public protocol StudioBackend: AnyObject {
    func load() throws -> BackendInfo
    /// Words the text tokenizer never saw, as character offsets into `prompt`.
    func unknownWords(in prompt: String) -> [Range<Int>]
    func generate(prompt: String, settings: GenerationSettings, cancel: Cancellation,
                  onStep: (UnmaskFrame) -> Void) throws
    func decode(codes: [Int]) throws -> RGBImage
    /// Starts a new conversation about `image`, with `history` (earlier turns, from a restored
    /// session) already in the model's context.
    func openChat(image: RGBImage, history: [ChatTurn]) throws
    /// Answers about the open image, streaming; returns the whole answer.
    func ask(_ question: String, cancel: Cancellation, onToken: (ChatToken) -> Void) throws -> String
    func clearChat()
}

/// The studio's backend on the real inference engine.
public final class EngineBackend: StudioBackend, @unchecked Sendable {
    public let modelDirectory: String
    private let lock = NSLock()
    private var engine: Engine?
    private var chat: ChatSession?

    public init(modelDirectory: String) { self.modelDirectory = modelDirectory }

    public func load() throws -> BackendInfo {
        let engine = try Engine(modelDirectory: modelDirectory)
        lock.lock(); self.engine = engine; lock.unlock()
        let c = engine.directory.config
        let side = Int(Double(c.imageTokens).squareRoot().rounded())
        return BackendInfo(
            description: "\((modelDirectory as NSString).lastPathComponent): \(c.layers) layers, d \(c.dModel), \(c.sharedExperts)+\(c.routedExperts) experts",
            layers: c.layers, sharedExperts: c.sharedExperts, routedExperts: c.routedExperts,
            gridSide: side * side == c.imageTokens ? side : 0,
            sequenceExperts: c.sequenceMoE ? ["t2i": ["copy", "zero", "noise"], "mmu": ["copy", "clip", "face"]] : [:])
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

    public func generate(prompt: String, settings: GenerationSettings, cancel: Cancellation, onStep: (UnmaskFrame) -> Void) throws {
        var options = GenerateOptions()
        options.seed = settings.seed; options.steps = settings.steps; options.cfg = settings.cfg
        options.temperature = settings.temperature; options.previews = true
        _ = try withoutActuallyEscaping(onStep) { onStep in
            try loaded.generate(prompt: prompt, options: options, cancel: cancel) { event in
                onStep(UnmaskFrame(step: event.step, steps: event.steps, codes: event.codes, masked: event.masked,
                                   confidence: event.confidence, revealed: event.revealed,
                                   routing: EngineBackend.routing(event.routing), elapsed: event.elapsed, preview: event.preview))
            }
        }
    }

    public func decode(codes: [Int]) throws -> RGBImage { try loaded.directory.imageTokenizer.decode(codes) }

    public func openChat(image: RGBImage, history: [ChatTurn]) throws {
        let session = try loaded.chat(image: image)
        for turn in history { try session.replay(question: turn.question, answer: turn.answer) }
        chat = session
    }

    public func ask(_ question: String, cancel: Cancellation, onToken: (ChatToken) -> Void) throws -> String {
        guard let chat else { throw InferenceError.invalidOption("no image to talk about: generate one or /open a PNG") }
        return try withoutActuallyEscaping(onToken) { onToken in
            try chat.ask(question, cancel: cancel) { onToken(ChatToken(text: $0.text, routing: EngineBackend.routing($0.routing))) }
        }
    }

    public func clearChat() { chat?.clear() }

    static func routing(_ trace: RoutingTrace) -> ExpertRouting {
        ExpertRouting(group: trace.group, frequencies: trace.layers.map(\.frequencies), topExpert: trace.layers.map(\.topExpert),
                      sequence: trace.sequenceLayers.map { layer in
                          zip(layer.experts, layer.weights).map { SequenceExpertGate(name: $0, gate: Double($1)) }
                      })
    }
}
