import Foundation
import Imaging
import Inference
import FaceModel
import Support

/// Where engine jobs go: the worker thread in the app, the same worker over a fake backend in tests.
public protocol JobSink: AnyObject {
    func submit(_ job: Job)
    func cancelAll()
}

extension Worker: JobSink {}

/// How the unmasking pane colours the image.
public enum Overlay: String, CaseIterable, Codable, Sendable {
    /// Masked slots drawn as mask cells (the default view).
    case mask
    /// Each slot tinted by the model's confidence in its code.
    case confidence
    /// Slots revealed at the selected step highlighted, the rest dimmed.
    case revealed
    /// Each slot coloured by the routed expert its token took at the selected layer.
    case expert
    /// The decoded guess at every slot, masked or not.
    case none

    var next: Overlay { Overlay.allCases[(Overlay.allCases.firstIndex(of: self)! + 1) % Overlay.allCases.count] }
}

/// How images are drawn.
public enum GraphicsMode: String, CaseIterable, Sendable {
    case sixel, blocks, ascii
}

/// One line of the chat transcript.
public struct ChatMessage: Codable, Equatable, Sendable {
    public enum Role: String, Codable, Sendable { case user, assistant, info, error }
    public var role: Role
    public var text: String
    public init(_ role: Role, _ text: String) { self.role = role; self.text = text }
}

/// The studio's state and its reactions to keys, clicks and engine events. No terminal I/O:
/// `render()` draws into a `ScreenGrid`, and engine work goes to a `JobSink`. The app loop feeds it;
/// tests drive it directly.
public final class StudioCore {
    // Configuration
    public var theme: Theme
    public let baseTheme: Theme
    public let depth: ColorDepth
    public var graphics: GraphicsMode
    /// Pixel size of one cell (for sixel sizing). Until the terminal tells, assume small cells:
    /// an image sized for small cells still fits its pane when the real cells are bigger.
    public var cellPixels: (width: Int, height: Int) = (6, 12)
    public var themeNames: [String] = []
    let jobs: JobSink
    let unknownWords: (String) -> [Range<Int>]
    let completer: PhraseCompleter

    // Screen
    public private(set) var width = 80, height = 24
    public private(set) var layout: StudioLayout
    public private(set) var focus: PaneID = .prompt
    public enum Modal: Equatable { case none, help, confirmQuit }
    public private(set) var modal = Modal.none
    public private(set) var status: (text: String, isError: Bool) = ("", false)
    public private(set) var wantsQuit = false
    var keyBarHits: [(range: Range<Int>, command: Command)] = []

    // Model
    public private(set) var info: ModelInfo?
    public private(set) var loadError: String?

    // The panes' own state (Panes/)
    public internal(set) var promptPane: PromptPane
    public internal(set) var unmaskingPane = UnmaskingPane()
    public internal(set) var chatPane = ChatPane()
    public internal(set) var expertsPane = ExpertsPane()

    // Engine jobs: each carries the id of the request that started it, so the events of a
    // replaced request are dropped.
    private var generationID = 0
    private var decodeID = 0
    private var askID = 0
    private var chatID = 0

    // Session
    public var sessionPath: String
    public private(set) var dirty = false
    /// Called when the prompt history or theme changes, to remember them.
    public var onSettingsChanged: ((Settings) -> Void)?
    public var exportDirectory: String

    public init(theme: Theme, depth: ColorDepth, graphics: GraphicsMode, jobs: JobSink,
                unknownWords: @escaping (String) -> [Range<Int>], history: [String] = [],
                completer: PhraseCompleter = .attributes, sessionPath: String = "facestudio-session.json",
                exportDirectory: String = ".") {
        self.baseTheme = theme
        self.theme = theme.adapted(to: depth)
        self.depth = depth
        self.graphics = graphics
        self.jobs = jobs
        self.unknownWords = unknownWords
        self.completer = completer
        self.promptPane = PromptPane(history: history)
        self.sessionPath = sessionPath
        self.exportDirectory = exportDirectory
        layout = StudioLayout.compute(width: 80, height: 24, focus: .prompt)
    }

    // MARK: Inputs

    public func resize(width: Int, height: Int) {
        self.width = max(width, 1); self.height = max(height, 1)
        layout = StudioLayout.compute(width: self.width, height: self.height, focus: focus)
    }

    public func setStatus(_ text: String, error: Bool = false) { status = (text, error) }

    public func handle(_ key: Key) {
        if key == .ctrl("c") { wantsQuit = true; return }
        switch modal {
        case .help:
            modal = .none
            return
        case .confirmQuit:
            switch key {
            case .char("y"), .char("Y"): wantsQuit = true
            case .ctrl("s"): if saveSession() { wantsQuit = true } else { modal = .none }
            default: modal = .none; setStatus("quit cancelled")
            }
            return
        case .none:
            break
        }
        if layout.mode == .tooSmall {
            if key == .char("q") || key == .ctrl("q") { run(.quit) }
            return
        }
        let command = Keymap.command(for: key, in: focus)
        if command != .complete { promptPane.completion = nil }
        if let command {
            run(command)
        } else if focus.takesText, let c = key.typedCharacter {
            editText { $0.insert(String(c)) }
        }
    }

    public func click(x: Int, y: Int) {
        if modal == .help { modal = .none; return }
        guard modal == .none else { return }
        if y == layout.keyBar.y, let hit = keyBarHits.first(where: { $0.range.contains(x) }) {
            run(hit.command)
            return
        }
        if let pane = layout.pane(atX: x, y: y) { setFocus(pane) }
    }

    /// Advances playback; true when something changed and the screen needs a redraw.
    public func tick(now: Double) -> Bool { unmaskingPane.tick(now: now) }

    public var isPlaying: Bool { unmaskingPane.playing }

    // MARK: Commands

    public func run(_ command: Command) {
        switch command {
        case .quit:
            if dirty { modal = .confirmQuit } else { wantsQuit = true }
        case .forceQuit: wantsQuit = true
        case .help: modal = .help
        case .focus(let pane): setFocus(pane)
        case .nextPane: setFocus(focus.next)
        case .previousPane: setFocus(focus.previous)
        case .cancelWork:
            if unmaskingPane.generating || chatPane.answering {
                jobs.cancelAll()
                setStatus("cancelling…")
            } else if unmaskingPane.playing {
                unmaskingPane.playing = false
            } else {
                setStatus("nothing to cancel")
            }
        case .save: _ = saveSession()
        case .redraw: break
        case .generate, .regenerate: startGeneration()
        case .complete:
            guard focus == .prompt else { setFocus(focus.next); return }
            var editor = promptPane.editor
            let previous = promptPane.completion
            promptPane.completion = editor.complete(with: completer, continuing: previous)
            if editor == promptPane.editor && promptPane.completion == nil && previous == nil {
                setFocus(focus.next)  // nothing to complete: Tab moves on
            } else {
                promptPane.editor = editor
                dirty = true
            }
        case .historyPrevious, .moveUp:
            if focus == .prompt {
                if !promptPane.editor.moveUp(), let text = promptPane.history.previous(current: promptPane.editor.text) { promptPane.editor.setText(text) }
            } else if focus == .chat, let text = chatPane.questions.previous(current: chatPane.input.text) {
                chatPane.input.setText(text)
            }
        case .historyNext, .moveDown:
            if focus == .prompt {
                if !promptPane.editor.moveDown(), let text = promptPane.history.next() { promptPane.editor.setText(text) }
            } else if focus == .chat, let text = chatPane.questions.next() {
                chatPane.input.setText(text)
            }
        case .moveLeft, .moveRight, .moveWordLeft, .moveWordRight, .moveLineStart, .moveLineEnd, .deleteBackward, .deleteForward,
             .deleteWordBackward, .deleteWordForward, .killToLineEnd, .killToLineStart, .yank, .undo, .newline:
            runEditing(command)
        case .stepBack, .stepForward, .firstStep, .lastStep, .playPause, .cycleOverlay, .seedUp, .seedDown, .stepsUp, .stepsDown,
             .cfgUp, .cfgDown, .temperatureUp, .temperatureDown, .exportImage, .exportFrames:
            runUnmasking(command)
        case .send: sendChat()
        case .scrollUp: chatPane.scroll += max(chatVisibleRows - 1, 1)
        case .scrollDown: chatPane.scroll = max(chatPane.scroll - max(chatVisibleRows - 1, 1), 0)
        case .layerUp: expertsPane.selectedLayer = max(expertsPane.selectedLayer - 1, 0)
        case .layerDown: expertsPane.selectedLayer = min(expertsPane.selectedLayer + 1, max((info?.layers ?? 1) - 1, 0))
        case .colourByLayer:
            unmaskingPane.overlay = .expert
            setStatus("image coloured by the expert each token took at layer \(expertsPane.selectedLayer)")
        }
    }

    /// A text-editing command, on the focused editor (the prompt or the chat question).
    private func runEditing(_ command: Command) {
        switch command {
        case .moveLeft: editText { $0.moveLeft() }
        case .moveRight: editText { $0.moveRight() }
        case .moveWordLeft: editText { $0.moveWordLeft() }
        case .moveWordRight: editText { $0.moveWordRight() }
        case .moveLineStart: editText { $0.moveLineStart() }
        case .moveLineEnd: editText { $0.moveLineEnd() }
        case .deleteBackward: editText { $0.deleteBackward() }
        case .deleteForward: editText { $0.deleteForward() }
        case .deleteWordBackward: editText { $0.deleteWordBackward() }
        case .deleteWordForward: editText { $0.deleteWordForward() }
        case .killToLineEnd: editText { $0.killToLineEnd() }
        case .killToLineStart: editText { $0.killToLineStart() }
        case .yank: editText { $0.yank() }
        case .undo: editText { $0.undo() }
        case .newline: editText { $0.insertNewline() }
        default: break
        }
    }

    /// A command of the unmasking pane: stepping, playback, overlay, sampler settings, export.
    private func runUnmasking(_ command: Command) {
        switch command {
        case .stepBack: selectStep(unmaskingPane.selectedStep - 1)
        case .stepForward: selectStep(unmaskingPane.selectedStep + 1)
        case .firstStep: selectStep(0)
        case .lastStep: selectStep(unmaskingPane.frames.count - 1)
        case .playPause: unmaskingPane.togglePlay()
        case .cycleOverlay:
            unmaskingPane.overlay = unmaskingPane.overlay.next
            setStatus("overlay: \(overlayDescription)")
        case .seedUp: changeSettings { $0.seed &+= 1 }
        case .seedDown: changeSettings { $0.seed &-= 1 }
        case .stepsUp: changeSettings { $0.steps = min($0.steps + 1, SamplerRanges.steps.upperBound) }
        case .stepsDown: changeSettings { $0.steps = max($0.steps - 1, SamplerRanges.steps.lowerBound) }
        case .cfgUp: changeSettings { $0.cfg = min($0.cfg + 0.25, SamplerRanges.cfg.upperBound) }
        case .cfgDown: changeSettings { $0.cfg = max($0.cfg - 0.25, SamplerRanges.cfg.lowerBound) }
        case .temperatureUp: changeSettings { $0.temperature = min($0.temperature + 0.5, SamplerRanges.temperature.upperBound) }
        case .temperatureDown: changeSettings { $0.temperature = max($0.temperature - 0.5, SamplerRanges.temperature.lowerBound) }
        case .exportImage: exportImages(all: false)
        case .exportFrames: exportImages(all: true)
        default: break
        }
    }

    var overlayDescription: String {
        switch unmaskingPane.overlay {
        case .mask: return "mask (masked tokens drawn as ░)"
        case .confidence: return "confidence"
        case .revealed: return "revealed this step"
        case .expert: return "expert at layer \(expertsPane.selectedLayer)"
        case .none: return "none"
        }
    }

    private func setFocus(_ pane: PaneID) {
        focus = pane
        promptPane.completion = nil
        layout = StudioLayout.compute(width: width, height: height, focus: focus)
    }

    private func editText(_ edit: (inout TextEditor) -> Void) {
        switch focus {
        case .prompt:
            let before = promptPane.editor
            edit(&promptPane.editor)
            if promptPane.editor.text != before.text { dirty = true }
        case .chat: edit(&chatPane.input)
        default: break
        }
    }

    private func selectStep(_ step: Int) { unmaskingPane.select(step: step) }

    private func changeSettings(_ change: (inout GenerateOptions) -> Void) {
        change(&unmaskingPane.settings)
        dirty = true
        setStatus(unmaskingPane.frames.isEmpty ? "settings: \(settingsSummary(unmaskingPane.settings))"
                                 : "settings changed: g regenerates (\(settingsSummary(unmaskingPane.settings)))")
    }

    func settingsSummary(_ s: GenerateOptions) -> String {
        "seed \(s.seed), \(s.steps) steps, CFG \(format(s.cfg)), T \(format(s.temperature))"
    }

    // MARK: Generation

    private func startGeneration() {
        let text = promptPane.editor.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { setStatus("type a prompt first (prompt pane: 1)", error: true); return }
        guard info != nil else {
            setStatus(loadError.map { "no model: \($0)" } ?? "the model is still loading", error: true)
            return
        }
        generationID += 1
        unmaskingPane.start(prompt: text)
        promptPane.history.record(promptPane.editor.text)
        dirty = true
        onSettingsChanged?(Settings(theme: baseTheme.name, history: promptPane.history.entries))
        jobs.submit(.generate(id: generationID, prompt: text, options: unmaskingPane.settings))
        setStatus("generating: \(settingsSummary(unmaskingPane.settings))")
    }

    // MARK: Worker events

    public func handle(_ event: WorkerEvent) {
        switch event {
        case .loaded(let info):
            self.info = info
            expertsPane.selectedLayer = min(expertsPane.selectedLayer, max(info.layers - 1, 0))
            setStatus("model ready: \(info.summary)")
        case .loadFailed(let message):
            loadError = message
            setStatus("no model: \(message)", error: true)
        case let .frame(id, frame):
            guard id == generationID else { return }
            unmaskingPane.receive(frame)
        case let .generationEnded(id, outcome):
            guard id == generationID else { return }
            unmaskingPane.generating = false
            switch outcome {
            case .cancelled: setStatus("generation cancelled at step \(unmaskingPane.frames.count)")
            case .failed(let error): setStatus("generation failed: \(error)", error: true)
            case .finished:
                if let last = unmaskingPane.frames.last {
                    setStatus("generated in \(String(format: "%.2f", last.elapsed)) s (\(settingsSummary(unmaskingPane.generatedSettings ?? unmaskingPane.settings)))")
                }
            }
        case let .chatOpened(id, source, error):
            guard id == chatID else { return }
            if let error {
                chatPane.messages.append(ChatMessage(.error, "cannot open \(source): \(error)"))
                chatPane.source = nil
                chatPane.turns = []
            }
        case let .token(id, token):
            guard id == askID else { return }
            chatPane.receive(token)
            expertsPane.accumulate(token.routing)
        case let .answerEnded(id, outcome):
            guard id == askID else { return }
            chatPane.finishAnswer(outcome)
        case let .decoded(id, images, error):
            guard id == decodeID else { return }
            for (i, image) in images.enumerated() where i < unmaskingPane.frames.count { unmaskingPane.frames[i].preview = image }
            if let error { setStatus("cannot decode the saved frames: \(error)", error: true) }
        }
    }

    // MARK: Chat

    private func sendChat() {
        let text = chatPane.input.text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return }
        chatPane.questions.record(text)
        chatPane.input.setText("")
        chatPane.scroll = 0
        if text.hasPrefix("/") {
            let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
            switch parts[0] {
            case "/open":
                guard parts.count == 2 else { chatPane.messages.append(ChatMessage(.error, "usage: /open PATH.png")); return }
                openImage(path: (parts[1] as NSString).expandingTildeInPath)
            case "/describe": ask(ChatFormat.describeQuestion)
            case "/clear":
                chatPane.messages = []
                expertsPane.resetAnswer()
                chatPane.turns = []
                if chatPane.source != nil { jobs.submit(.clearChat) }
            default:
                chatPane.messages.append(ChatMessage(.error, "unknown command \(parts[0]) (try /open PATH, /describe, /clear)"))
            }
            return
        }
        ask(text)
    }

    private func openImage(path: String) {
        do {
            let image = try PNGCodec.read(path: path)
            chatID += 1
            chatPane.source = (path as NSString).lastPathComponent
            chatPane.generation = nil
            chatPane.imagePath = path
            chatPane.turns = []
            jobs.submit(.openChat(id: chatID, image: .image(image), history: [], source: path))
            chatPane.messages.append(ChatMessage(.info, "now talking about \(path) (\(image.width)×\(image.height))"))
            dirty = true
        } catch {
            chatPane.messages.append(ChatMessage(.error, "\(error)"))
        }
    }

    private func ask(_ question: String) {
        guard info != nil else {
            chatPane.messages.append(ChatMessage(.error, loadError.map { "no model: \($0)" } ?? "the model is still loading"))
            return
        }
        // Talk about the newest generated image unless a file was opened since.
        if chatPane.source == nil || (chatPane.generation != nil && chatPane.generation != generationID) {
            guard !unmaskingPane.generating, let image = unmaskingPane.frames.last?.preview, unmaskingPane.frames.last?.masked.contains(true) == false else {
                chatPane.messages.append(ChatMessage(.error, "no image to talk about: generate one (Ctrl-G) or /open PATH.png"))
                return
            }
            chatID += 1
            chatPane.source = "generated image"
            chatPane.generation = generationID
            chatPane.imagePath = nil
            chatPane.turns = []
            jobs.submit(.openChat(id: chatID, image: .image(image), history: [], source: "the generated image"))
        }
        chatPane.asked = (question, chatPane.messages.count + 1)
        askID += 1
        chatPane.answering = true
        expertsPane.resetAnswer()
        chatPane.messages.append(ChatMessage(.user, question))
        dirty = true
        jobs.submit(.ask(id: askID, question: question))
    }

    /// Rows the chat transcript currently shows (for paging).
    var chatVisibleRows: Int { max((layout.panes[.chat]?.height ?? 4) - 4, 1) }

    // MARK: Unknown words

    func unknownRanges() -> [Range<Int>] {
        let text = promptPane.editor.text
        if let cache = promptPane.unknownCache, cache.text == text { return cache.ranges }
        let ranges = info == nil ? [] : unknownWords(text)
        promptPane.unknownCache = (text, ranges)
        return ranges
    }

    // MARK: Sessions and export

    @discardableResult
    public func saveSession() -> Bool {
        let session = SessionFile(prompt: promptPane.editor.text, settings: unmaskingPane.settings, generatedPrompt: unmaskingPane.generatedPrompt,
                                  generatedSettings: unmaskingPane.generatedSettings, frames: unmaskingPane.frames, selectedStep: unmaskingPane.selectedStep,
                                  overlay: unmaskingPane.overlay, selectedLayer: expertsPane.selectedLayer, messages: chatPane.messages, chatSource: chatPane.source,
                                  chatTurns: chatPane.source == nil ? nil : chatPane.turns, chatImagePath: chatPane.imagePath)
        do {
            try session.write(to: sessionPath)
            dirty = false
            setStatus("saved the session to \(sessionPath)")
            return true
        } catch {
            setStatus("cannot save: \(error)", error: true)
            return false
        }
    }

    /// Restores a saved session; previews are decoded again by the engine.
    public func restore(_ session: SessionFile) {
        promptPane.editor = TextEditor(text: session.prompt)
        unmaskingPane.settings = session.settings
        unmaskingPane.generatedPrompt = session.generatedPrompt
        unmaskingPane.generatedSettings = session.generatedSettings
        unmaskingPane.frames = session.frames
        unmaskingPane.selectedStep = min(max(session.selectedStep, 0), max(unmaskingPane.frames.count - 1, 0))
        unmaskingPane.following = false
        unmaskingPane.overlay = session.overlay
        expertsPane.selectedLayer = max(session.selectedLayer, 0)
        chatPane.messages = session.messages
        chatPane.source = nil
        chatPane.turns = []
        if !unmaskingPane.frames.isEmpty {
            decodeID += 1
            jobs.submit(.decode(id: decodeID, codes: unmaskingPane.frames.map(\.codes)))
        }
        restoreChat(session)
        dirty = false
        setStatus("restored \(sessionPath)")
    }

    /// Reopens the saved conversation: its image (the opened file, or the last generated face
    /// from its codes) and its turns go back into the model's context, so the next question
    /// follows on from them. Sessions saved without turns start a fresh chat.
    private func restoreChat(_ session: SessionFile) {
        guard let turns = session.chatTurns, let source = session.chatSource else { return }
        let image: ChatImage
        if let path = session.chatImagePath {
            image = .file(path)
            chatPane.generation = nil
        } else if let last = unmaskingPane.frames.last, !last.masked.contains(true) {
            image = .codes(last.codes)
            chatPane.generation = generationID
        } else {
            return
        }
        chatID += 1
        chatPane.source = source
        chatPane.imagePath = session.chatImagePath
        chatPane.turns = turns
        jobs.submit(.openChat(id: chatID, image: image, history: turns, source: session.chatImagePath ?? "the generated image"))
    }

    private func exportImages(all: Bool) {
        guard !unmaskingPane.frames.isEmpty else { setStatus("nothing to export yet", error: true); return }
        let seed = unmaskingPane.generatedSettings?.seed ?? unmaskingPane.settings.seed
        do {
            if all {
                let dir = "\(exportDirectory)/facestudio-seed\(seed)-frames"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                var written = 0
                for (i, frame) in unmaskingPane.frames.enumerated() {
                    guard let image = frame.preview else { continue }
                    try writePNG(ImageOps.nearestUpscale(image, factor: 4), to: String(format: "%@/step_%02d.png", dir, i + 1))
                    written += 1
                }
                setStatus("exported \(written) frames to \(dir)")
            } else {
                guard let image = unmaskingPane.frames[unmaskingPane.selectedStep].preview else { setStatus("no image at this step", error: true); return }
                let path = String(format: "%@/facestudio-seed%llu-step%02d.png", exportDirectory, seed, unmaskingPane.selectedStep + 1)
                try writePNG(ImageOps.nearestUpscale(image, factor: 4), to: path)
                setStatus("exported \(path)")
            }
        } catch {
            setStatus("cannot export: \(error)", error: true)
        }
    }

    private func writePNG(_ image: RGBImage, to path: String) throws {
        try AtomicFile.write(try PNGCodec.encode(image), to: path)
    }
}

func format(_ v: Float) -> String {
    v == v.rounded() ? String(format: "%.0f", v) : (v * 10 == (v * 10).rounded() ? String(format: "%.1f", v) : String(format: "%.2f", v))
}
