import Foundation
import Support

/// A saved studio session (Ctrl-S; `facestudio studio --session FILE` restores it): the prompt,
/// the generation settings and seed, every generated step's tokens, and the chat transcript.
/// JSON, written to a temporary file and renamed.
public struct SessionFile: Codable, Sendable {
    public static let currentVersion = 1
    public var version = SessionFile.currentVersion
    public var prompt: String
    public var settings: GenerationSettings
    public var generatedPrompt: String
    public var generatedSettings: GenerationSettings?
    public var frames: [UnmaskFrame]
    public var selectedStep: Int
    public var overlay: Overlay
    public var selectedLayer: Int
    public var messages: [ChatMessage]
    public var chatSource: String?
    /// The conversation the model is in (nil in sessions saved before it was kept): its image
    /// (`chatImagePath`, or the last generated frame when nil) and its turns, replayed on restore.
    public var chatTurns: [ChatTurn]?
    public var chatImagePath: String?

    public init(prompt: String, settings: GenerationSettings, generatedPrompt: String, generatedSettings: GenerationSettings?,
                frames: [UnmaskFrame], selectedStep: Int, overlay: Overlay, selectedLayer: Int,
                messages: [ChatMessage], chatSource: String?, chatTurns: [ChatTurn]? = nil, chatImagePath: String? = nil) {
        self.prompt = prompt; self.settings = settings; self.generatedPrompt = generatedPrompt
        self.generatedSettings = generatedSettings; self.frames = frames; self.selectedStep = selectedStep
        self.overlay = overlay; self.selectedLayer = selectedLayer; self.messages = messages; self.chatSource = chatSource
        self.chatTurns = chatTurns; self.chatImagePath = chatImagePath
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
        }
        guard session.version == currentVersion else {
            throw SessionError("\(path): session version \(session.version) is not supported (expected \(currentVersion))")
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

