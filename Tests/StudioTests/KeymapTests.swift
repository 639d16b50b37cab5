import Testing
@testable import Studio

@Suite struct KeymapTests {
    @Test func keyBarOnlyShowsKeysThatWork() {
        for pane in PaneID.allCases {
            for entry in Keymap.keyBar(for: pane) {
                let binding = Keymap.lookupOrder(pane).first { $0.command == entry.command && $0.label == entry.label }!
                // Every key of a bar entry runs that command in this pane (nothing shadows it).
                for key in binding.keys {
                    #expect(Keymap.command(for: key, in: pane) == entry.command, "\(pane) \(key) \(entry.label)")
                }
            }
        }
    }

    @Test func textPanesTypePlainKeys() {
        for key in [Key.char("q"), .char("1"), .char("?"), .char("g"), .char(" "), .char("é")] {
            #expect(Keymap.command(for: key, in: .prompt) == nil, "\(key)")
        }
        #expect(Keymap.command(for: .char("q"), in: .chat) == nil)
        #expect(Keymap.command(for: .char("q"), in: .unmasking) == .quit)
        #expect(Keymap.command(for: .char("3"), in: .experts) == .focus(.chat))
        #expect(Keymap.command(for: .char("?"), in: .unmasking) == .help)
    }

    @Test func globalKeysWorkEverywhere() {
        for pane in PaneID.allCases {
            #expect(Keymap.command(for: .ctrl("q"), in: pane) == .quit)
            #expect(Keymap.command(for: .ctrl("c"), in: pane) == .forceQuit)
            #expect(Keymap.command(for: .escape, in: pane) == .cancelWork)
            #expect(Keymap.command(for: .ctrl("s"), in: pane) == .save)
            #expect(Keymap.command(for: .f(1), in: pane) == .help)
            #expect(Keymap.command(for: .alt("4"), in: pane) == .focus(.experts))
            #expect(Keymap.command(for: .backTab, in: pane) == .previousPane)
        }
        #expect(Keymap.command(for: .ctrl("g"), in: .prompt) == .generate)
        #expect(Keymap.command(for: .enter, in: .prompt) == .newline)
        #expect(Keymap.command(for: .enter, in: .chat) == .send)
        #expect(Keymap.command(for: .tab, in: .prompt) == .complete)
        #expect(Keymap.command(for: .tab, in: .unmasking) == .nextPane)
    }

    @Test func unmaskingKeys() {
        let expected: [(Key, Command)] = [(.left, .stepBack), (.right, .stepForward), (.home, .firstStep), (.end, .lastStep),
                                          (.char(" "), .playPause), (.char("o"), .cycleOverlay), (.char("s"), .seedUp),
                                          (.char("S"), .seedDown), (.char("k"), .stepsUp), (.char("K"), .stepsDown),
                                          (.char("c"), .cfgUp), (.char("C"), .cfgDown), (.char("t"), .temperatureUp),
                                          (.char("T"), .temperatureDown), (.char("g"), .regenerate), (.char("e"), .exportImage)]
        for (key, command) in expected { #expect(Keymap.command(for: key, in: .unmasking) == command, "\(key)") }
        #expect(Keymap.command(for: .up, in: .experts) == .layerUp)
        #expect(Keymap.command(for: .char("j"), in: .experts) == .layerDown)
    }

    @Test func noKeyIsBoundTwiceInOnePane() {
        for pane in PaneID.allCases {
            var seen: [Key: Command] = [:]
            for b in Keymap.bindings(for: pane) {
                for k in b.keys {
                    if let c = seen[k] { #expect(c == b.command, "\(pane): \(k) bound to \(c) and \(b.command)") }
                    seen[k] = b.command
                }
            }
        }
    }

    @Test func decodesTerminalCharacters() {
        let d = KeyDecoder()
        #expect(d.character(7) == .ctrl("g"))
        #expect(d.character(17) == .ctrl("q"))
        #expect(d.character(9) == .tab)
        #expect(d.character(13) == .enter)
        #expect(d.character(127) == .backspace)
        #expect(d.character(31) == .ctrl("_"))
        #expect(d.character(0xE9) == .char("é"))
        #expect(d.character(UInt32(Character("1").unicodeScalars.first!.value), alt: true) == .alt("1"))
        #expect(d.character(0xD800) == nil)  // a lone surrogate is not a character
        var withCodes = KeyDecoder()
        withCodes.special[0o404] = .left
        #expect(withCodes.keyCode(0o404) == .left && withCodes.keyCode(0o404, alt: true) == Key(.left, alt: true))
        #expect(withCodes.keyCode(1) == nil)
    }

    @Test func helpListsEveryPane() {
        let help = Keymap.helpLines().joined(separator: "\n")
        for pane in PaneID.allCases { #expect(help.contains("\(pane.rawValue) \(pane.title)")) }
        #expect(help.contains("Ctrl-G") && help.contains("generate"))
    }
}
