/// Everything a key (or a click on the key bar) can ask the studio to do.
public enum Command: Hashable, Sendable {
    // Anywhere
    case quit, forceQuit, help, focus(PaneID), nextPane, previousPane, cancelWork, save, redraw
    // Text editing (prompt and chat)
    case moveLeft, moveRight, moveWordLeft, moveWordRight, moveLineStart, moveLineEnd, moveUp, moveDown
    case deleteBackward, deleteForward, deleteWordBackward, deleteWordForward, killToLineEnd, killToLineStart
    case yank, undo, newline, complete, historyPrevious, historyNext
    // Prompt
    case generate
    // Unmasking
    case stepBack, stepForward, firstStep, lastStep, playPause, cycleOverlay
    case seedUp, seedDown, stepsUp, stepsDown, cfgUp, cfgDown, temperatureUp, temperatureDown
    case regenerate, exportImage, exportFrames
    // Chat
    case send, scrollUp, scrollDown
    // Experts
    case layerUp, layerDown, colourByLayer
}

/// One line of the key map: the keys, the command, and how the key bar / help name it.
public struct Binding: Sendable {
    public var keys: [Key]
    public var command: Command
    /// Short key text for the key bar ("^G", "←/→").
    public var label: String
    /// What it does, in a few words.
    public var help: String
    /// Shown in the key bar (the help screen shows every binding).
    public var inBar: Bool

    init(_ keys: [Key], _ command: Command, _ label: String, _ help: String, bar: Bool = true) {
        self.keys = keys; self.command = command; self.label = label; self.help = help; self.inBar = bar
    }
}

/// Which key does what in each pane. The key bar and the help screen are generated from these
/// tables, so they always show what actually works in the focused pane.
///
/// In the text panes (prompt, chat) printable keys type; pane keys there use Alt (Alt-1…4) and
/// F1 opens help. Elsewhere plain `1`–`4`, `?` and `q` work too.
public enum Keymap {
    static let editing: [Binding] = [
        Binding([.left], .moveLeft, "←", "left", bar: false),
        Binding([.right], .moveRight, "→", "right", bar: false),
        Binding([Key(.left, ctrl: true), .alt("b")], .moveWordLeft, "^←/M-b", "word left", bar: false),
        Binding([Key(.right, ctrl: true), .alt("f")], .moveWordRight, "^→/M-f", "word right", bar: false),
        Binding([.home, .ctrl("a")], .moveLineStart, "Home/^A", "line start", bar: false),
        Binding([.end, .ctrl("e")], .moveLineEnd, "End/^E", "line end", bar: false),
        Binding([.backspace], .deleteBackward, "Bksp", "delete back", bar: false),
        Binding([.delete, .ctrl("d")], .deleteForward, "Del/^D", "delete", bar: false),
        Binding([.ctrl("w"), Key(.backspace, alt: true)], .deleteWordBackward, "^W", "delete word", bar: false),
        Binding([.alt("d")], .deleteWordForward, "M-d", "delete word forward", bar: false),
        Binding([.ctrl("k")], .killToLineEnd, "^K", "kill to end", bar: false),
        Binding([.ctrl("u")], .killToLineStart, "^U", "kill to start", bar: false),
        Binding([.ctrl("y")], .yank, "^Y", "yank", bar: false),
        Binding([.ctrl("z"), .ctrl("_")], .undo, "^Z", "undo"),
    ]

    static let anywhere: [Binding] = [
        Binding([.ctrl("q")], .quit, "^Q", "quit"),
        Binding([.ctrl("c")], .forceQuit, "^C", "quit now", bar: false),
        Binding([.escape], .cancelWork, "Esc", "cancel"),
        Binding([.ctrl("s")], .save, "^S", "save"),
        Binding([.f(1)], .help, "F1", "help"),
        Binding([.alt("1")], .focus(.prompt), "M-1", "prompt pane", bar: false),
        Binding([.alt("2")], .focus(.unmasking), "M-2", "unmasking pane", bar: false),
        Binding([.alt("3")], .focus(.chat), "M-3", "chat pane", bar: false),
        Binding([.alt("4")], .focus(.experts), "M-4", "experts pane", bar: false),
        Binding([.backTab], .previousPane, "S-Tab", "previous pane", bar: false),
        Binding([.ctrl("l")], .redraw, "^L", "redraw", bar: false),
    ]

    /// Plain keys that only act outside the text panes.
    static let commandPanes: [Binding] = [
        Binding([.char("q")], .quit, "q", "quit"),
        Binding([.char("?")], .help, "?", "help"),
        Binding([.char("1")], .focus(.prompt), "1-4", "focus pane"),
        Binding([.char("2")], .focus(.unmasking), "2", "unmasking", bar: false),
        Binding([.char("3")], .focus(.chat), "3", "chat", bar: false),
        Binding([.char("4")], .focus(.experts), "4", "experts", bar: false),
        Binding([.tab], .nextPane, "Tab", "next pane", bar: false),
    ]

    public static func bindings(for pane: PaneID) -> [Binding] {
        switch pane {
        case .prompt:
            return [
                Binding([.ctrl("g")], .generate, "^G", "generate"),
                Binding([.enter], .newline, "Enter", "newline"),
                Binding([.tab], .complete, "Tab", "complete (else next pane)"),
                Binding([.up, .ctrl("p")], .historyPrevious, "↑/^P", "history (on first line)", bar: false),
                Binding([.down, .ctrl("n")], .historyNext, "↓/^N", "history (on last line)", bar: false),
            ] + editing + [Binding([.alt("1")], .focus(.prompt), "M-1‥4", "panes")]
        case .unmasking:
            return [
                Binding([.left], .stepBack, "←/→", "step"),
                Binding([.right], .stepForward, "→", "step forward", bar: false),
                Binding([.home], .firstStep, "Home/End", "first/last", bar: false),
                Binding([.end], .lastStep, "End", "last step", bar: false),
                Binding([.char(" ")], .playPause, "Space", "play"),
                Binding([.char("o")], .cycleOverlay, "o", "overlay"),
                Binding([.char("g"), .enter], .regenerate, "g", "generate"),
                Binding([.char("s")], .seedUp, "s/S", "seed±"),
                Binding([.char("S")], .seedDown, "S", "seed −1", bar: false),
                Binding([.char("k")], .stepsUp, "k/K", "steps±"),
                Binding([.char("K")], .stepsDown, "K", "steps −1", bar: false),
                Binding([.char("c")], .cfgUp, "c/C", "CFG±"),
                Binding([.char("C")], .cfgDown, "C", "CFG −0.25", bar: false),
                Binding([.char("t")], .temperatureUp, "t/T", "temp±"),
                Binding([.char("T")], .temperatureDown, "T", "temperature −0.5", bar: false),
                Binding([.char("e")], .exportImage, "e", "export PNG", bar: false),
                Binding([.char("E")], .exportFrames, "E", "export all frames", bar: false),
            ]
        case .chat:
            return [
                Binding([.enter], .send, "Enter", "send"),
                Binding([.pageUp], .scrollUp, "PgUp/PgDn", "scroll"),
                Binding([.pageDown], .scrollDown, "PgDn", "scroll down", bar: false),
                Binding([.up], .historyPrevious, "↑", "earlier question", bar: false),
                Binding([.down], .historyNext, "↓", "later question", bar: false),
                Binding([.tab], .nextPane, "Tab", "next pane", bar: false),
            ] + editing + [Binding([.alt("1")], .focus(.prompt), "M-1‥4", "panes")]
        case .experts:
            return [
                Binding([.up, .char("k")], .layerUp, "↑/↓", "layer"),
                Binding([.down, .char("j")], .layerDown, "↓", "layer down", bar: false),
                Binding([.enter, .char("o")], .colourByLayer, "Enter", "colour image by layer"),
            ]
        }
    }

    /// Bindings in lookup order for a pane: the pane's own, then the anywhere keys, then
    /// (outside text panes) the plain-key shortcuts.
    static func lookupOrder(_ pane: PaneID) -> [Binding] {
        bindings(for: pane) + anywhere + (pane.takesText ? [] : commandPanes)
    }

    /// The command a key runs in a pane; nil means "type it" in a text pane, or nothing.
    public static func command(for key: Key, in pane: PaneID) -> Command? {
        lookupOrder(pane).first { $0.keys.contains(key) }?.command
    }

    /// Key bar entries for a pane: label and help, most useful first.
    public static func keyBar(for pane: PaneID) -> [(label: String, help: String, command: Command)] {
        let own = bindings(for: pane).filter(\.inBar)
        let shared: [Binding] = pane.takesText
            ? anywhere.filter(\.inBar)
            : commandPanes.filter(\.inBar) + anywhere.filter { $0.inBar && $0.command != .quit && $0.command != .help }
        return (own + shared).map { ($0.label, $0.help, $0.command) }
    }

    /// The help screen's lines: every binding, grouped by where it works.
    public static func helpLines() -> [String] {
        func describe(_ b: Binding) -> String {
            let keys = b.keys.map(\.description).joined(separator: " ")
            return "  " + keys.padding(toLength: 22, withPad: " ", startingAt: 0) + b.help
        }
        // The four focus keys of a kind read as one line ("Alt-1…4").
        func compact(_ list: [Binding], _ keys: String) -> [String] {
            list.compactMap { b in
                guard case let .focus(pane) = b.command else { return describe(b) }
                return pane == .prompt ? "  " + keys.padding(toLength: 22, withPad: " ", startingAt: 0) + "focus pane 1…4" : nil
            }
        }
        var lines = ["Anywhere"] + compact(anywhere, "Alt-1…4")
        lines += ["Outside the prompt and chat"] + compact(commandPanes, "1…4")
        lines += ["Editing (prompt and chat)"] + editing.map(describe)
        let editingCommands = Set(editing.map(\.command))
        for pane in PaneID.allCases {
            lines.append("\(pane.rawValue) \(pane.title)")
            lines += bindings(for: pane).filter { !editingCommands.contains($0.command) && $0.command != .focus(.prompt) }.map(describe)
        }
        lines += ["Mouse", "  click a pane          focus it", "  click the key bar     press that key"]
        return lines
    }
}
