import Foundation
import Testing
import Imaging
@testable import Studio

/// The repository's Themes/ folder, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Suite struct ThemeTests {
    static let minimal = """
    name = t
    text = #101010 on #202020
    dim = default dim
    border = default
    border_focus = #ff0000 bold
    title = default
    title_focus = default reverse
    keybar = default reverse
    keybar_key = default bold
    status = default
    error = #ff0000
    unknown_word = #ff0000 underline
    completion = default
    selection = default reverse
    cursor = default reverse
    user = default
    assistant = default
    masked = default
    help = default
    heat = #000000 #ffffff
    experts = #000001 #000002 #000003 #000004 #000005 #000006 #000007 #000008
    """

    @Test func parsesStylesAndScales() throws {
        let theme = try Theme.parse(Self.minimal, source: "t.theme")
        #expect(theme.name == "t")
        #expect(theme.style(.text) == Style(fg: .rgb(RGBColor(16, 16, 16)), bg: .rgb(RGBColor(32, 32, 32))))
        #expect(theme.style(.borderFocus).attrs == .bold)
        #expect(theme.style(.unknownWord).attrs == .underline)
        #expect(theme.heat == [RGBColor(0, 0, 0), RGBColor(255, 255, 255)])
        #expect(theme.expertColors.count == 8)
    }

    @Test func everyShippedThemeLoads() throws {
        let names = try ThemeLibrary(directories: [repositoryRoot + "/Themes"]).available()
        #expect(Set(names).isSuperset(of: ["dark", "light", "high-contrast", "mono"]))
        for name in names {
            let theme = try ThemeLibrary(directories: [repositoryRoot + "/Themes"]).load(name)
            #expect(theme.name == name)
        }
    }

    @Test func errorsNameFileAndLine() {
        func message(_ text: String) -> String {
            do { _ = try Theme.parse(text, source: "x.theme"); return "" } catch { return "\(error)" }
        }
        #expect(message(Self.minimal.replacingOccurrences(of: "dim = default dim", with: "dim = default blink"))
                    == "x.theme:3: unknown attribute 'blink' (known: bold, underline, reverse, dim)")
        #expect(message(Self.minimal.replacingOccurrences(of: "#101010", with: "#10101")).hasPrefix("x.theme:2: '#10101' is not a colour"))
        #expect(message(Self.minimal + "\ntext = default").hasPrefix("x.theme:22: 'text' is set twice"))
        #expect(message(Self.minimal + "\ncolour = default").hasPrefix("x.theme:22: unknown key 'colour'"))
        #expect(message(Self.minimal.replacingOccurrences(of: "heat = #000000 #ffffff", with: "heat = #000000"))
                    == "x.theme:20: heat needs at least 2 colours, found 1")
        #expect(message(Self.minimal.replacingOccurrences(of: "help = default\n", with: "")) == "x.theme: missing help")
        #expect(message("text = default") .hasPrefix("x.theme: missing 'name'"))
        #expect(message("name = a\nnonsense").hasPrefix("x.theme:2: expected 'key = value'"))
    }

    @Test func colourDegradesStepByStep() {
        let orange = ThemeColor.rgb(RGBColor(255, 135, 0))
        #expect(ColorDepth.truecolor.terminalColor(orange) == .rgb(RGBColor(255, 135, 0)))
        #expect(ColorDepth.palette256.terminalColor(orange) == .index(208))
        #expect(ColorDepth.basic8.terminalColor(orange) == .index(3))  // red + green on: yellow
        #expect(ColorDepth.mono.terminalColor(orange) == .terminalDefault)
        #expect(ColorDepth.basic8.terminalColor(.terminalDefault) == .terminalDefault)
        #expect(ColorDepth.from(colors: 1 << 24) == .truecolor)
        #expect(ColorDepth.from(colors: 256) == .palette256)
        #expect(ColorDepth.from(colors: 8) == .basic8)
        #expect(ColorDepth.from(colors: 2) == .mono)
        #expect(ColorDepth.from(colors: 256, noColor: true) == .mono)
        #expect(ColorDepth.basic8 < ColorDepth.palette256 && ColorDepth.mono < ColorDepth.basic8)
    }

    @Test func eightColoursKeepTextReadable() throws {
        // Grey on black both land on black in 8 colours: the text must turn white.
        var theme = try Theme.parse(Self.minimal, source: "t")
        theme.styles[.dim] = Style(fg: .rgb(RGBColor(100, 100, 100)), bg: .rgb(RGBColor(20, 20, 20)))
        let adapted = theme.adapted(to: .basic8)
        #expect(adapted.style(.dim).fg == .rgb(RGBColor(255, 255, 255)))
        #expect(adapted.style(.text) == theme.style(.text).withFG(.rgb(RGBColor(255, 255, 255))))
        #expect(theme.adapted(to: .palette256) == theme)
    }

    @Test func monochromeKeepsRolesApartWithAttributes() throws {
        let theme = try Theme.parse(Self.minimal, source: "t").adapted(to: .mono)
        for role in ThemeRole.allCases {
            #expect(theme.style(role).fg == .terminalDefault && theme.style(role).bg == .terminalDefault)
        }
        #expect(theme.style(.unknownWord).attrs.contains(.underline))
        #expect(theme.style(.selection).attrs.contains(.reverse))
        #expect(theme.style(.borderFocus).attrs.contains(.bold))
        #expect(theme.style(.border).attrs != theme.style(.borderFocus).attrs)
    }
}

extension Style {
    func withFG(_ c: ThemeColor) -> Style { var s = self; s.fg = c; return s }
}
