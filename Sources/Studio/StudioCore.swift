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

    // Prompt
    public private(set) var prompt = TextEditor()
    public private(set) var history: PromptHistory
    var completion: CompletionCycle?
    private var unknownCache: (text: String, ranges: [Range<Int>])? = nil

    // Generation
    public private(set) var settings = GenerateOptions()
    public private(set) var generatedSettings: GenerateOptions?
    public private(set) var generatedPrompt = ""
    public private(set) var frames: [StepEvent] = []
    public private(set) var selectedStep = 0
    public private(set) var following = true
    public private(set) var generating = false
    public private(set) var overlay = Overlay.mask
    public private(set) var playing = false
    private var lastPlayTick = 0.0
    private var generationID = 0
    private var decodeID = 0
    public static let playInterval = 0.3

    // Chat
    public private(set) var chatInput = TextEditor()
    public private(set) var messages: [ChatMessage] = []
    private var questions = PromptHistory()
    public private(set) var chatScroll = 0
    public private(set) var chatSource: String?
    /// The generation whose image the chat is about (so a newer image reopens the chat).
    private var chatGeneration: Int?
    /// The opened PNG the chat is about (nil: a generated image).
    private var chatImagePath: String?
    /// The turns in the model's context, saved with the session and replayed on restore.
    public private(set) var chatTurns: [ChatTurn] = []
    /// The question being answered and where its answer starts in `messages`.
    private var asked: (question: String, messageIndex: Int)?
    public private(set) var answering = false
    private var askID = 0
    private var chatID = 0

    // Experts
    public private(set) var selectedLayer = 0
    /// Running sums of the current answer's routing, per layer and expert, and the token count.
    public private(set) var mmuSums: [[Double]] = []
    public private(set) var mmuTokens = 0
    public private(set) var mmuSequence: [SequenceLayerRouting] = []

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
        self.history = PromptHistory(entries: history)
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
        if command != .complete { completion = nil }
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
    public func tick(now: Double) -> Bool {
        guard playing else { return false }
        guard now - lastPlayTick >= StudioCore.playInterval else { return false }
        lastPlayTick = now
        if selectedStep + 1 < frames.count {
            selectedStep += 1
        } else {
            playing = false
        }
        return true
    }

    public var isPlaying: Bool { playing }

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
            if generating || answering {
                jobs.cancelAll()
                setStatus("cancelling…")
            } else if playing {
                playing = false
            } else {
                setStatus("nothing to cancel")
            }
        case .save: _ = saveSession()
        case .redraw: break
        case .generate, .regenerate: startGeneration()
        case .complete:
            guard focus == .prompt else { setFocus(focus.next); return }
            var editor = prompt
            let previous = completion
            completion = editor.complete(with: completer, continuing: previous)
            if editor == prompt && completion == nil && previous == nil {
                setFocus(focus.next)  // nothing to complete: Tab moves on
            } else {
                prompt = editor
                dirty = true
            }
        case .historyPrevious, .moveUp:
            if focus == .prompt {
                if !prompt.moveUp(), let text = history.previous(current: prompt.text) { prompt.setText(text) }
            } else if focus == .chat, let text = questions.previous(current: chatInput.text) {
                chatInput.setText(text)
            }
        case .historyNext, .moveDown:
            if focus == .prompt {
                if !prompt.moveDown(), let text = history.next() { prompt.setText(text) }
            } else if focus == .chat, let text = questions.next() {
                chatInput.setText(text)
            }
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
        case .stepBack: selectStep(selectedStep - 1)
        case .stepForward: selectStep(selectedStep + 1)
        case .firstStep: selectStep(0)
        case .lastStep: selectStep(frames.count - 1)
        case .playPause:
            guard frames.count > 1 else { return }
            playing.toggle()
            if playing {
                following = false
                if selectedStep >= frames.count - 1 { selectedStep = 0 }
                lastPlayTick = 0
            }
        case .cycleOverlay:
            overlay = overlay.next
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
        case .send: sendChat()
        case .scrollUp: chatScroll += max(chatVisibleRows - 1, 1)
        case .scrollDown: chatScroll = max(chatScroll - max(chatVisibleRows - 1, 1), 0)
        case .layerUp: selectedLayer = max(selectedLayer - 1, 0)
        case .layerDown: selectedLayer = min(selectedLayer + 1, max((info?.layers ?? 1) - 1, 0))
        case .colourByLayer:
            overlay = .expert
            setStatus("image coloured by the expert each token took at layer \(selectedLayer)")
        }
    }

    var overlayDescription: String {
        switch overlay {
        case .mask: return "mask (masked tokens drawn as ░)"
        case .confidence: return "confidence"
        case .revealed: return "revealed this step"
        case .expert: return "expert at layer \(selectedLayer)"
        case .none: return "none"
        }
    }

    private func setFocus(_ pane: PaneID) {
        focus = pane
        completion = nil
        layout = StudioLayout.compute(width: width, height: height, focus: focus)
    }

    private func editText(_ edit: (inout TextEditor) -> Void) {
        switch focus {
        case .prompt:
            let before = prompt
            edit(&prompt)
            if prompt.text != before.text { dirty = true }
        case .chat: edit(&chatInput)
        default: break
        }
    }

    private func selectStep(_ step: Int) {
        guard !frames.isEmpty else { return }
        selectedStep = min(max(step, 0), frames.count - 1)
        following = selectedStep == frames.count - 1
        playing = false
    }

    private func changeSettings(_ change: (inout GenerateOptions) -> Void) {
        change(&settings)
        dirty = true
        setStatus(frames.isEmpty ? "settings: \(settingsSummary(settings))"
                                 : "settings changed: g regenerates (\(settingsSummary(settings)))")
    }

    func settingsSummary(_ s: GenerateOptions) -> String {
        "seed \(s.seed), \(s.steps) steps, CFG \(format(s.cfg)), T \(format(s.temperature))"
    }

    // MARK: Generation

    private func startGeneration() {
        let text = prompt.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { setStatus("type a prompt first (prompt pane: 1)", error: true); return }
        guard info != nil else {
            setStatus(loadError.map { "no model: \($0)" } ?? "the model is still loading", error: true)
            return
        }
        generationID += 1
        frames = []
        selectedStep = 0
        following = true
        playing = false
        generating = true
        generatedPrompt = text
        generatedSettings = settings
        history.record(prompt.text)
        dirty = true
        onSettingsChanged?(Settings(theme: baseTheme.name, history: history.entries))
        jobs.submit(.generate(id: generationID, prompt: text, options: settings))
        setStatus("generating: \(settingsSummary(settings))")
    }

    // MARK: Worker events

    public func handle(_ event: WorkerEvent) {
        switch event {
        case .loaded(let info):
            self.info = info
            selectedLayer = min(selectedLayer, max(info.layers - 1, 0))
            setStatus("model ready: \(info.summary)")
        case .loadFailed(let message):
            loadError = message
            setStatus("no model: \(message)", error: true)
        case let .frame(id, frame):
            guard id == generationID else { return }
            if frame.step < frames.count { frames[frame.step] = frame } else { frames.append(frame) }
            if following && !playing { selectedStep = frames.count - 1 }
        case let .generationEnded(id, outcome):
            guard id == generationID else { return }
            generating = false
            switch outcome {
            case .cancelled: setStatus("generation cancelled at step \(frames.count)")
            case .failed(let error): setStatus("generation failed: \(error)", error: true)
            case .finished:
                if let last = frames.last {
                    setStatus("generated in \(String(format: "%.2f", last.elapsed)) s (\(settingsSummary(generatedSettings ?? settings)))")
                }
            }
        case let .chatOpened(id, source, error):
            guard id == chatID else { return }
            if let error {
                messages.append(ChatMessage(.error, "cannot open \(source): \(error)"))
                chatSource = nil
                chatTurns = []
            }
        case let .token(id, token):
            guard id == askID else { return }
            if messages.last?.role != .assistant { messages.append(ChatMessage(.assistant, "")) }
            messages[messages.count - 1].text += token.text
            accumulate(token.routing)
        case let .answerEnded(id, outcome):
            guard id == askID else { return }
            answering = false
            // A cancelled answer stays in the model's context as far as it got, like a finished one.
            if let asked, outcome == .finished || outcome == .cancelled {
                let answer = messages.indices.contains(asked.messageIndex) && messages[asked.messageIndex].role == .assistant
                    ? messages[asked.messageIndex].text : ""
                chatTurns.append(ChatTurn(question: asked.question, answer: answer))
            }
            asked = nil
            switch outcome {
            case .finished: break
            case .cancelled: messages.append(ChatMessage(.info, "(answer cancelled)"))
            case .failed(let error): messages.append(ChatMessage(.error, error))
            }
        case let .decoded(id, images, error):
            guard id == decodeID else { return }
            for (i, image) in images.enumerated() where i < frames.count { frames[i].preview = image }
            if let error { setStatus("cannot decode the saved frames: \(error)", error: true) }
        }
    }

    private func accumulate(_ routing: RoutingTrace) {
        if mmuSums.count != routing.frequencies.count {
            mmuSums = routing.frequencies.map { [Double](repeating: 0, count: $0.count) }
            mmuTokens = 0
        }
        for (l, row) in routing.frequencies.enumerated() where mmuSums[l].count == row.count {
            for (e, v) in row.enumerated() { mmuSums[l][e] += v }
        }
        mmuTokens += 1
        if !routing.sequenceLayers.isEmpty { mmuSequence = routing.sequenceLayers }
    }

    /// The MMU heatmap rows: the current answer's mean routing.
    public var mmuFrequencies: [[Double]] {
        guard mmuTokens > 0 else { return [] }
        return mmuSums.map { $0.map { $0 / Double(mmuTokens) } }
    }

    // MARK: Chat

    private func sendChat() {
        let text = chatInput.text.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return }
        questions.record(text)
        chatInput.setText("")
        chatScroll = 0
        if text.hasPrefix("/") {
            let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
            switch parts[0] {
            case "/open":
                guard parts.count == 2 else { messages.append(ChatMessage(.error, "usage: /open PATH.png")); return }
                openImage(path: (parts[1] as NSString).expandingTildeInPath)
            case "/describe": ask(ChatFormat.describeQuestion)
            case "/clear":
                messages = []
                mmuSums = []; mmuTokens = 0
                chatTurns = []
                if chatSource != nil { jobs.submit(.clearChat) }
            default:
                messages.append(ChatMessage(.error, "unknown command \(parts[0]) (try /open PATH, /describe, /clear)"))
            }
            return
        }
        ask(text)
    }

    private func openImage(path: String) {
        do {
            let image = try PNGCodec.read(path: path)
            chatID += 1
            chatSource = (path as NSString).lastPathComponent
            chatGeneration = nil
            chatImagePath = path
            chatTurns = []
            jobs.submit(.openChat(id: chatID, image: .image(image), history: [], source: path))
            messages.append(ChatMessage(.info, "now talking about \(path) (\(image.width)×\(image.height))"))
            dirty = true
        } catch {
            messages.append(ChatMessage(.error, "\(error)"))
        }
    }

    private func ask(_ question: String) {
        guard info != nil else {
            messages.append(ChatMessage(.error, loadError.map { "no model: \($0)" } ?? "the model is still loading"))
            return
        }
        // Talk about the newest generated image unless a file was opened since.
        if chatSource == nil || (chatGeneration != nil && chatGeneration != generationID) {
            guard !generating, let image = frames.last?.preview, frames.last?.masked.contains(true) == false else {
                messages.append(ChatMessage(.error, "no image to talk about: generate one (Ctrl-G) or /open PATH.png"))
                return
            }
            chatID += 1
            chatSource = "generated image"
            chatGeneration = generationID
            chatImagePath = nil
            chatTurns = []
            jobs.submit(.openChat(id: chatID, image: .image(image), history: [], source: "the generated image"))
        }
        asked = (question, messages.count + 1)
        askID += 1
        answering = true
        mmuSums = []; mmuTokens = 0
        messages.append(ChatMessage(.user, question))
        dirty = true
        jobs.submit(.ask(id: askID, question: question))
    }

    /// Rows the chat transcript currently shows (for paging).
    var chatVisibleRows: Int { max((layout.panes[.chat]?.height ?? 4) - 4, 1) }

    // MARK: Unknown words

    func unknownRanges() -> [Range<Int>] {
        let text = prompt.text
        if let cache = unknownCache, cache.text == text { return cache.ranges }
        let ranges = info == nil ? [] : unknownWords(text)
        unknownCache = (text, ranges)
        return ranges
    }

    // MARK: Sessions and export

    @discardableResult
    public func saveSession() -> Bool {
        let session = SessionFile(prompt: prompt.text, settings: settings, generatedPrompt: generatedPrompt,
                                  generatedSettings: generatedSettings, frames: frames, selectedStep: selectedStep,
                                  overlay: overlay, selectedLayer: selectedLayer, messages: messages, chatSource: chatSource,
                                  chatTurns: chatSource == nil ? nil : chatTurns, chatImagePath: chatImagePath)
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
        prompt = TextEditor(text: session.prompt)
        settings = session.settings
        generatedPrompt = session.generatedPrompt
        generatedSettings = session.generatedSettings
        frames = session.frames
        selectedStep = min(max(session.selectedStep, 0), max(frames.count - 1, 0))
        following = false
        overlay = session.overlay
        selectedLayer = max(session.selectedLayer, 0)
        messages = session.messages
        chatSource = nil
        chatTurns = []
        if !frames.isEmpty {
            decodeID += 1
            jobs.submit(.decode(id: decodeID, codes: frames.map(\.codes)))
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
            chatGeneration = nil
        } else if let last = frames.last, !last.masked.contains(true) {
            image = .codes(last.codes)
            chatGeneration = generationID
        } else {
            return
        }
        chatID += 1
        chatSource = source
        chatImagePath = session.chatImagePath
        chatTurns = turns
        jobs.submit(.openChat(id: chatID, image: image, history: turns, source: session.chatImagePath ?? "the generated image"))
    }

    private func exportImages(all: Bool) {
        guard !frames.isEmpty else { setStatus("nothing to export yet", error: true); return }
        let seed = generatedSettings?.seed ?? settings.seed
        do {
            if all {
                let dir = "\(exportDirectory)/facestudio-seed\(seed)-frames"
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                var written = 0
                for (i, frame) in frames.enumerated() {
                    guard let image = frame.preview else { continue }
                    try writePNG(ImageOps.nearestUpscale(image, factor: 4), to: String(format: "%@/step_%02d.png", dir, i + 1))
                    written += 1
                }
                setStatus("exported \(written) frames to \(dir)")
            } else {
                guard let image = frames[selectedStep].preview else { setStatus("no image at this step", error: true); return }
                let path = String(format: "%@/facestudio-seed%llu-step%02d.png", exportDirectory, seed, selectedStep + 1)
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
