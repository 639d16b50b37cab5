import Foundation
import Imaging
import CNcurses

/// How `facestudio studio` was asked to run.
public struct StudioOptions: Sendable {
    public var modelDirectory = "Models"
    public var theme: String? = nil
    /// auto, sixel, blocks or ascii.
    public var graphics = "auto"
    /// truecolor, 256, 8 or mono: cap the colour depth below what the terminal reports.
    public var colors: String? = nil
    public var session: String? = nil
    public var settingsPath: String? = nil
    public var mouse = true

    public init() {}
}

/// The terminal application: curses screen, engine worker, and the loop between them.
public enum StudioApp {
    public static func validate(_ options: StudioOptions) throws {
        guard ["auto", "sixel", "blocks", "ascii"].contains(options.graphics) else {
            throw StudioError("--graphics: '\(options.graphics)' is not one of auto, sixel, blocks, ascii")
        }
        if let c = options.colors, ColorDepth(rawValue: c) == nil {
            throw StudioError("--colors: '\(c)' is not one of truecolor, 256, 8, mono")
        }
    }

    /// Why the studio cannot drive the terminal `term` names (nil: `$TERM`), or nil when it can.
    /// The studio places every cell itself, so a terminal without cursor addressing (`TERM=dumb`,
    /// an editor's output pane) would show only a blank screen: refuse it at once instead.
    public static func terminalProblem(term: String? = ProcessInfo.processInfo.environment["TERM"]) -> String? {
        let commands = "use the commands instead (facestudio generate, ask, caption; see facestudio --help)"
        guard let term, !term.isEmpty else { return "TERM is not set, so the studio cannot draw; \(commands)" }
        var status: Int32 = 0
        guard term.withCString({ setupterm($0, 1, &status) }) == OK else {
            return "TERM=\(term) is not a terminal the terminfo database knows; \(commands)"
        }
        guard let move = tigetstr("cup"), Int(bitPattern: move) != -1 else {
            return "TERM=\(term) has no cursor addressing, which the studio needs to draw; \(commands)"
        }
        return nil
    }

    /// Runs the studio until the user quits; the terminal is restored on every way out.
    public static func run(_ options: StudioOptions) throws {
        try validate(options)
        if let problem = terminalProblem() { throw StudioError(problem) }
        guard isatty(0) != 0 && isatty(1) != 0 else { throw StudioError("the studio needs a terminal (stdin and stdout must be a tty)") }
        let settingsPath = options.settingsPath ?? Settings.defaultPath()
        var settingsProblem: String? = nil
        var settings: Settings
        do { settings = try Settings.load(path: settingsPath) } catch {
            settings = Settings()
            settingsProblem = "\(error) (using defaults)"
        }
        let library = ThemeLibrary.standard()
        let themeName = options.theme ?? settings.theme ?? "dark"
        let theme = try library.load(themeName)
        if options.theme != nil && settings.theme != theme.name {
            settings.theme = theme.name
            try? settings.save(path: settingsPath)
        }
        let session = try options.session.flatMap { path in
            FileManager.default.fileExists(atPath: path) ? try SessionFile.read(path: path) : nil
        }

        let (graphics, report) = TerminalQuery.choose(options.graphics, environment: ProcessInfo.processInfo.environment) {
            TerminalQuery.probe()
        }
        TerminalGuard.shared.install()
        let screen = try CursesScreen(colorsOverride: options.colors.flatMap(ColorDepth.init(rawValue:)), mouse: options.mouse)
        defer { screen.close() }

        let backend = EngineBackend(modelDirectory: options.modelDirectory)
        let worker = Worker(backend: backend)
        let core = StudioCore(theme: theme, depth: screen.depth, graphics: graphics, jobs: worker,
                              unknownWords: { backend.unknownWords(in: $0) }, history: settings.history,
                              sessionPath: options.session ?? "facestudio-session.json")
        if let cell = report?.cellPixels { core.cellPixels = cell }
        core.onSettingsChanged = { new in
            var merged = settings
            merged.history = new.history
            settings = merged
            try? merged.save(path: settingsPath)
        }
        if let session { core.restore(session) }
        if let settingsProblem { core.setStatus(settingsProblem, error: true) }
        if graphics == .sixel, report?.sixel == false {
            core.setStatus("--graphics sixel: the terminal did not report sixel support; drawing anyway")
        }
        worker.start()
        defer { worker.stop() }
        worker.submit(.load)
        try loop(core: core, screen: screen, mailbox: worker.mailbox, palette: report?.colorRegisters)
    }

    /// The UI loop: draw, wait for input / engine events / signals / the play timer, react.
    static func loop(core: StudioCore, screen: CursesScreen, mailbox: EventMailbox, palette: Int?) throws {
        let encoder = SixelEncoder(palette: (palette ?? 256) >= 256 ? .general : SixelPalette.general, dithering: .ordered)
        var sixelCache: (image: RGBImage, bytes: [UInt8])? = nil
        let writer: (SixelPlacement) -> [UInt8]? = { placement in
            if let cache = sixelCache, cache.image == placement.image { return cache.bytes }
            guard let bytes = try? encoder.encode(placement.image) else { return nil }
            sixelCache = (placement.image, bytes)
            return bytes
        }
        let size = screen.size
        core.resize(width: size.width, height: size.height)
        var needsDraw = true
        var lastModal = core.modal
        let start = Date()
        while !core.wantsQuit && !TerminalGuard.shared.terminationRequested {
            if needsDraw {
                if core.modal != lastModal { screen.invalidate(); lastModal = core.modal }
                screen.draw(core.render(), sixelWriter: core.graphics == .sixel ? writer : nil)
                needsDraw = false
            }
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: mailbox.wakeFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: TerminalGuard.shared.signalFD, events: Int16(POLLIN), revents: 0)]
            let timeout: Int32 = core.isPlaying ? 50 : 250
            _ = poll(&fds, 3, timeout)  // EINTR (SIGWINCH) is fine: curses reports the resize next
            mailbox.drainWakeups()
            for event in screen.readEvents() {
                switch event {
                case .key(let key):
                    if key == .ctrl("l") { screen.invalidate() }
                    core.handle(key)
                case let .click(x, y): core.click(x: x, y: y)
                case let .resize(width, height):
                    if core.graphics == .sixel, let cell = TerminalQuery.windowCellPixels() { core.cellPixels = cell }
                    core.resize(width: width, height: height)
                }
                needsDraw = true
            }
            for event in mailbox.take() {
                core.handle(event)
                needsDraw = true
            }
            if core.tick(now: Date().timeIntervalSince(start)) { needsDraw = true }
        }
    }
}
