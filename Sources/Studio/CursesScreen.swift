import CNcurses
import Foundation
import Imaging

/// Curses attribute bits (macros Swift does not import): NCURSES_BITS(1, n) = 1 << (n + 8).
private let attrUnderline: attr_t = 1 << 17
private let attrReverse: attr_t = 1 << 18
private let attrDim: attr_t = 1 << 20
private let attrBold: attr_t = 1 << 21
/// Button 1 pressed | released | clicked (NCURSES_MOUSE_MASK(1, 7)).
private let mouseButton1: mmask_t = 7

/// What the curses screen reads: a key, a click, or a resize.
public enum InputEvent: Equatable {
    case key(Key)
    case click(x: Int, y: Int)
    case resize(width: Int, height: Int)
}

/// The ncursesw screen: copies a `ScreenGrid` out with `wnoutrefresh` + `doupdate` (curses sends
/// only what changed), then writes sixel images over their cells. Colours are degraded to the
/// terminal's depth here, with colour pairs from `alloc_pair`.
public final class CursesScreen {
    private let screen: OpaquePointer
    private let window: UnsafeMutablePointer<WINDOW>
    private let output: UnsafeMutablePointer<FILE>
    private let input: UnsafeMutablePointer<FILE>
    public let depth: ColorDepth
    private var decoder = KeyDecoder()
    private var sixelEncoder: SixelEncoder?
    /// What was last sent as sixel, so an unchanged image is not sent again.
    private var lastSixels: [SixelPlacement] = []
    private var lastCanvasCells: [Cell] = []
    private var forceRepaint = true
    private var closed = false

    /// Starts curses on the terminal (`output` nil = stdout). `termName` nil = `$TERM`.
    /// `colorsOverride` forces a colour depth (the `--colors` option, tests).
    public init(termName: String? = nil, output: UnsafeMutablePointer<FILE>? = nil, input: UnsafeMutablePointer<FILE>? = nil,
                colorsOverride: ColorDepth? = nil, mouse: Bool = true) throws {
        setlocale(LC_ALL, "")
        guard let out = output ?? stdout, let inp = input ?? stdin else { throw StudioError("no standard input/output") }
        self.output = out
        self.input = inp
        let started = termName.map { name in name.withCString { newterm($0, out, inp) } } ?? newterm(nil, out, inp)
        guard let screen = started else {
            throw StudioError("cannot start the terminal (TERM=\(ProcessInfo.processInfo.environment["TERM"] ?? "unset"))")
        }
        self.screen = screen
        _ = set_term(screen)
        guard let window = stdscr else { throw StudioError("curses has no screen") }
        self.window = window
        raw()
        noecho()
        nonl()
        keypad(window, true)
        nodelay(window, true)
        set_escdelay(25)
        let noColor = ProcessInfo.processInfo.environment["NO_COLOR"].map { !$0.isEmpty } ?? false
        var depth = ColorDepth.mono
        if has_colors() && !noColor {
            start_color()
            use_default_colors()
            depth = ColorDepth.from(colors: Int(COLORS))
        }
        if let colorsOverride, colorsOverride < depth || colorsOverride == .mono { depth = colorsOverride }
        self.depth = depth
        if mouse {
            var old: mmask_t = 0
            _ = mousemask(mouseButton1, &old)
            _ = mouseinterval(0)
        }
        registerKeys()
        TerminalGuard.shared.cursesStarted()
    }

    deinit { close() }

    /// Ends curses and restores the terminal (idempotent).
    public func close() {
        guard !closed else { return }
        closed = true
        _ = curs_set(1)
        endwin()
        delscreen(screen)
        fflush(output)
        TerminalGuard.shared.cursesEnded()
    }

    public var size: (width: Int, height: Int) { (Int(getmaxx(window)), Int(getmaxy(window))) }

    private func registerKeys() {
        let fixed: [(Int32, Key)] = [
            (KEY_UP, .up), (KEY_DOWN, .down), (KEY_LEFT, .left), (KEY_RIGHT, .right),
            (KEY_HOME, .home), (KEY_END, .end), (KEY_PPAGE, .pageUp), (KEY_NPAGE, .pageDown),
            (KEY_BACKSPACE, .backspace), (KEY_DC, .delete), (KEY_IC, Key(.insert)), (KEY_ENTER, .enter),
            (KEY_BTAB, .backTab), (KEY_SLEFT, Key(.left, shift: true)), (KEY_SRIGHT, Key(.right, shift: true)),
        ]
        for (code, key) in fixed { decoder.special[code] = key }
        for n in 1...12 { decoder.special[KEY_F0 + Int32(n)] = .f(n) }
        for (name, key) in KeyDecoder.extendedNames {
            guard let cap = name.withCString({ tigetstr($0) }), Int(bitPattern: cap) != -1 else { continue }
            let code = key_defined(cap)
            if code > 0 { decoder.special[code] = key }
        }
    }

    // MARK: Input

    /// Everything that is waiting, without blocking.
    public func readEvents() -> [InputEvent] {
        var events: [InputEvent] = []
        var alt = false
        while true {
            var value: wint_t = 0
            let result = wget_wch(window, &value)
            if result == ERR {
                if alt { events.append(.key(.escape)) }
                break
            }
            if result == KEY_CODE_YES {
                let code = Int32(value)
                if code == KEY_RESIZE {
                    forceRepaint = true
                    events.append(.resize(width: size.width, height: size.height))
                } else if code == KEY_MOUSE {
                    var event = MEVENT()
                    if getmouse(&event) == OK, event.bstate & mouseButton1 != 0 {
                        events.append(.click(x: Int(event.x), y: Int(event.y)))
                    }
                } else if let key = decoder.keyCode(code, alt: alt) {
                    events.append(.key(key))
                }
                alt = false
                continue
            }
            if value == 27 && !alt { alt = true; continue }  // maybe Alt-<key>
            if let key = decoder.character(UInt32(value), alt: alt) { events.append(.key(key)) }
            alt = false
        }
        return events
    }

    // MARK: Output

    /// Forces the next `draw` to repaint everything (Ctrl-L, after help, after a resize).
    public func invalidate() { forceRepaint = true }

    public func draw(_ canvas: ScreenGrid, sixelWriter: ((SixelPlacement) -> [UInt8]?)? = nil) {
        if forceRepaint { _ = clearok(window, true) }
        for y in 0..<canvas.height {
            var x = 0
            while x < canvas.width {
                let style = canvas[x, y].style
                var run: [wchar_t] = []
                let start = x
                while x < canvas.width && canvas[x, y].style == style {
                    let text = canvas[x, y].text
                    for scalar in text.unicodeScalars { run.append(wchar_t(bitPattern: scalar.value)) }
                    x += 1
                }
                apply(style)
                run.withUnsafeBufferPointer { _ = mvwaddnwstr(window, Int32(y), Int32(start), $0.baseAddress, Int32($0.count)) }
            }
        }
        if let cursor = canvas.cursor {
            _ = curs_set(1)
            wmove(window, Int32(cursor.y), Int32(cursor.x))
        } else {
            _ = curs_set(0)
        }
        wnoutrefresh(window)
        doupdate()
        fflush(output)
        // Sixel after the text, re-sent when it or the cells under it changed, or after a repaint.
        if let sixelWriter {
            for placement in canvas.sixels {
                let unchanged = !forceRepaint && lastSixels.contains(placement) && cellsUnchanged(canvas, in: placement.rect)
                if unchanged { continue }
                if let bytes = sixelWriter(placement) { writeSixel(bytes, at: placement.rect, cursor: canvas.cursor) }
            }
        }
        lastSixels = canvas.sixels
        lastCanvasCells = canvas.cells
        forceRepaint = false
    }

    private func cellsUnchanged(_ canvas: ScreenGrid, in rect: Rect) -> Bool {
        guard lastCanvasCells.count == canvas.cells.count else { return false }
        for y in rect.y..<rect.maxY { for x in rect.x..<rect.maxX where canvas[x, y] != lastCanvasCells[y * canvas.width + x] { return false } }
        return true
    }

    /// Save cursor, move, DCS … ST, restore cursor: the text cursor ends where curses left it.
    private func writeSixel(_ bytes: [UInt8], at rect: Rect, cursor: (x: Int, y: Int)?) {
        var out = Array("\u{1B}7\u{1B}[\(rect.y + 1);\(rect.x + 1)H".utf8)
        out += bytes
        out += Array("\u{1B}8".utf8)
        out.withUnsafeBufferPointer { _ = fwrite($0.baseAddress, 1, $0.count, output) }
        fflush(output)
    }

    private func apply(_ style: Style) {
        var attrs: attr_t = 0
        if style.attrs.contains(.bold) { attrs |= attrBold }
        if style.attrs.contains(.underline) { attrs |= attrUnderline }
        if style.attrs.contains(.reverse) { attrs |= attrReverse }
        if style.attrs.contains(.dim) { attrs |= attrDim }
        var pair: Int32 = 0
        if depth != .mono {
            let fg = colorNumber(depth.terminalColor(style.fg)), bg = colorNumber(depth.terminalColor(style.bg))
            if fg != -1 || bg != -1 { pair = max(alloc_pair(fg, bg), 0) }
        }
        _ = wattr_set(window, attrs, Int16(truncatingIfNeeded: pair), &pair)
    }

    private func colorNumber(_ color: TerminalColor) -> Int32 {
        switch color {
        case .terminalDefault: return -1
        case .index(let i): return Int32(i)
        case .rgb(let c): return Int32(c.r) << 16 | Int32(c.g) << 8 | Int32(c.b)
        }
    }
}

public struct StudioError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
