import Foundation
import Support
import Inference

/// A saved studio session (Ctrl-S; `facestudio studio --session FILE` restores it): the prompt,
/// the generation settings and seed, every generated step's tokens, and the chat transcript.
/// JSON, written to a temporary file and renamed.
///
/// Version 2 stores the engine's own types (`GenerateOptions`, `StepEvent`). Version 1 files
/// (the studio's earlier copies of them) are read and migrated: their settings decode as
/// `GenerateOptions` as they are, their steps' routing is converted (`LegacyRoutingV1`).
public struct SessionFile: Codable, Sendable {
    public static let currentVersion = 2
    public var version = SessionFile.currentVersion
    public var prompt: String
    public var settings: GenerateOptions
    public var generatedPrompt: String
    public var generatedSettings: GenerateOptions?
    public var frames: [StepEvent]
    public var selectedStep: Int
    public var overlay: Overlay
    public var selectedLayer: Int
    public var messages: [ChatMessage]
    public var chatSource: String?
    /// The conversation the model is in (nil in sessions saved before it was kept): its image
    /// (`chatImagePath`, or the last generated frame when nil) and its turns, replayed on restore.
    public var chatTurns: [ChatTurn]?
    public var chatImagePath: String?

    public init(prompt: String, settings: GenerateOptions, generatedPrompt: String, generatedSettings: GenerateOptions?,
                frames: [StepEvent], selectedStep: Int, overlay: Overlay, selectedLayer: Int,
                messages: [ChatMessage], chatSource: String?, chatTurns: [ChatTurn]? = nil, chatImagePath: String? = nil) {
        self.prompt = prompt; self.settings = settings; self.generatedPrompt = generatedPrompt
        self.generatedSettings = generatedSettings; self.frames = frames; self.selectedStep = selectedStep
        self.overlay = overlay; self.selectedLayer = selectedLayer; self.messages = messages; self.chatSource = chatSource
        self.chatTurns = chatTurns; self.chatImagePath = chatImagePath
    }

    enum CodingKeys: String, CodingKey {
        case version, prompt, settings, generatedPrompt, generatedSettings, frames, selectedStep, overlay, selectedLayer
        case messages, chatSource, chatTurns, chatImagePath
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        guard (1...SessionFile.currentVersion).contains(version) else {
            throw SessionError("session version \(version) is not supported (expected 1 to \(SessionFile.currentVersion))")
        }
        prompt = try c.decode(String.self, forKey: .prompt)
        settings = try c.decode(GenerateOptions.self, forKey: .settings)
        generatedPrompt = try c.decode(String.self, forKey: .generatedPrompt)
        generatedSettings = try c.decodeIfPresent(GenerateOptions.self, forKey: .generatedSettings)
        frames = version == 1 ? try c.decode([LegacyStepV1].self, forKey: .frames).map(\.migrated) : try c.decode([StepEvent].self, forKey: .frames)
        selectedStep = try c.decode(Int.self, forKey: .selectedStep)
        overlay = try c.decode(Overlay.self, forKey: .overlay)
        selectedLayer = try c.decode(Int.self, forKey: .selectedLayer)
        messages = try c.decode([ChatMessage].self, forKey: .messages)
        chatSource = try c.decodeIfPresent(String.self, forKey: .chatSource)
        chatTurns = try c.decodeIfPresent([ChatTurn].self, forKey: .chatTurns)
        chatImagePath = try c.decodeIfPresent(String.self, forKey: .chatImagePath)
        version = SessionFile.currentVersion  // migrated: saving it again writes the current version
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(self)), to: path)
    }

    /// Reads and checks a session file; errors name the file and what is wrong.
    public static func read(path: String) throws -> SessionFile {
        let bytes = try AtomicFile.read(path: path, maxBytes: 256 << 20)
        let session: SessionFile
        do {
            session = try JSONDecoder().decode(SessionFile.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw SessionError("\(path): not a studio session: \(describe(error))")
        } catch let error as SessionError {
            throw SessionError("\(path): \(error)")
        }
        for (i, frame) in session.frames.enumerated() {
            let n = frame.codes.count
            guard frame.masked.count == n, frame.confidence.count == n, frame.revealed.allSatisfy({ (0..<n).contains($0) }),
                  frame.codes.allSatisfy({ $0 >= 0 }) else {
                throw SessionError("\(path): frame \(i): codes, mask, confidence and revealed slots do not match")
            }
        }
        return session
    }
}

public struct SessionError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}


/// A step as version 1 session files stored it: the routing as per-layer rows of expert shares
/// and top experts, and the sequence-level gates as (name, gate) pairs per layer.
private struct LegacyStepV1: Decodable {
    struct Gate: Decodable { var name: String; var gate: Double }
    struct Routing: Decodable {
        var group: String
        var frequencies: [[Double]]
        var topExpert: [[Int]]?
        var sequence: [[Gate]]?
    }
    var step: Int, steps: Int, codes: [Int], masked: [Bool], confidence: [Float], revealed: [Int], elapsed: Double
    var routing: Routing

    enum CodingKeys: String, CodingKey { case step, steps, codes, masked, confidence, revealed, elapsed, routing }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        step = try c.decode(Int.self, forKey: .step); steps = try c.decode(Int.self, forKey: .steps)
        codes = try c.decode([Int].self, forKey: .codes); masked = try c.decode([Bool].self, forKey: .masked)
        confidence = try c.decode([Float].self, forKey: .confidence); revealed = try c.decode([Int].self, forKey: .revealed)
        elapsed = try c.decode(Double.self, forKey: .elapsed); routing = try c.decode(Routing.self, forKey: .routing)
    }

    var migrated: StepEvent {
        let tops = routing.topExpert ?? []
        let layers = routing.frequencies.indices.map {
            LayerRouting(frequencies: routing.frequencies[$0], topExpert: $0 < tops.count ? tops[$0] : [])
        }
        let sequence = (routing.sequence ?? []).map { gates in
            // Version 1 kept every expert's gate (0 when not chosen); the chosen are the nonzero ones.
            let chosen = gates.filter { $0.gate > 0 }.sorted { $0.gate > $1.gate }
            return SequenceLayerRouting(experts: gates.map(\.name), chosen: chosen.map(\.name), gates: chosen.map { Float($0.gate) },
                                        weights: gates.map { Float($0.gate) })
        }
        return StepEvent(step: step, steps: steps, codes: codes, masked: masked, confidence: confidence, revealed: revealed,
                         routing: RoutingTrace(group: routing.group, layers: layers, sequenceLayers: sequence), elapsed: elapsed)
    }
}
