import Testing
import Imaging
@testable import Studio

@Suite struct TerminalTests {
    @Test func parsesDA1AndCellSize() {
        let xterm = TerminalQuery.parse(Array("\u{1B}[6;20;10t\u{1B}[?1;0;256S\u{1B}[?63;1;2;4;6;9;15;22c".utf8))
        #expect(xterm.sixel && xterm.answered && xterm.colorRegisters == 256)
        #expect(xterm.cellPixels?.width == 10 && xterm.cellPixels?.height == 20)
        let noSixel = TerminalQuery.parse(Array("\u{1B}[?62;1;6;22c".utf8))
        #expect(noSixel.answered && !noSixel.sixel && noSixel.cellPixels == nil)
        // "4" as the first value is the device class, not the sixel attribute.
        #expect(!TerminalQuery.parse(Array("\u{1B}[?4;6c".utf8)).sixel)
        #expect(!TerminalQuery.parse([]).answered)
        #expect(!TerminalQuery.parse(Array("garbage\u{1B}[".utf8)).answered)
    }

    @Test func tmuxDefaultsToBlocksWithoutAsking() {
        var asked = false
        let probe = { () -> TerminalGraphicsReport in asked = true; return TerminalGraphicsReport(sixel: true, answered: true) }
        #expect(TerminalQuery.choose("auto", environment: ["TMUX": "/tmp/x"], probe: probe).0 == .blocks)
        #expect(!asked)
        #expect(TerminalQuery.choose("auto", environment: ["TERM": "xterm"], probe: probe).0 == .sixel)
        #expect(TerminalQuery.choose("ascii", environment: [:], probe: probe).0 == .ascii)
        #expect(TerminalQuery.choose("sixel", environment: ["TMUX": "1"], probe: probe).0 == .sixel)
    }

    @Test func sixelPreviewDecodesBack() throws {
        // A preview as the studio sends it: scaled by a whole factor, one fixed palette.
        var preview = RGBImage(width: 64, height: 64)
        for y in 0..<64 { for x in 0..<64 {
            preview.setPixel(x: x, y: y, SixelPalette.general.color(at: (x / 8 + 8 * (y / 8)) % 256).tuple)
        } }
        let scaled = FrameComposer.scaledForSixel(preview, columns: 30, rows: 14, cellWidth: 10, cellHeight: 20)
        #expect(scaled.width == 256 && scaled.height == 256)
        let exact = SixelEncoder(palette: .general, dithering: .none)
        let decoded = try SixelDecoder.decode(try exact.encode(scaled))
        #expect(decoded == scaled)  // palette colours survive exactly
        // The studio's encoder dithers arbitrary colours; the result stays close.
        var photo = RGBImage(width: 64, height: 64)
        for y in 0..<64 { for x in 0..<64 { photo.setPixel(x: x, y: y, (UInt8(x * 4), UInt8(y * 4), UInt8((x + y) * 2))) } }
        let dithered = try SixelDecoder.decode(try SixelEncoder(palette: .general).encode(photo))
        #expect(dithered.width == 64 && dithered.height == 64)
        #expect(ImageOps.psnr(dithered, photo) > 20)
    }

    @Test func terminalsWithoutCursorAddressingAreRefused() throws {
        let dumb = try #require(StudioApp.terminalProblem(term: "dumb"))
        #expect(dumb.contains("TERM=dumb") && dumb.contains("facestudio generate") && !dumb.contains("\n"))
        #expect(try #require(StudioApp.terminalProblem(term: nil)).contains("TERM"))
        #expect(try #require(StudioApp.terminalProblem(term: "no-such-terminal-zz")).contains("TERM=no-such-terminal-zz"))
        #expect(StudioApp.terminalProblem(term: "xterm-256color") == nil)
        #expect(StudioApp.terminalProblem(term: "tmux-256color") == nil)
    }

    @Test func textWidths() {
        #expect(TextWidth.of("abc") == 3)
        #expect(TextWidth.of("café") == 4)
        #expect(TextWidth.of("e\u{301}") == 1)
        #expect(TextWidth.of("顔") == 2)
        #expect(TextWidth.of("👩🏽‍🦰") == 2)
        var canvas = ScreenGrid(width: 6, height: 1)
        #expect(canvas.put("a顔b顔", x: 0, y: 0, style: .plain) == 6)
        #expect(canvas.lines() == ["a顔b顔"])
        #expect(canvas.put("顔顔顔顔", x: 0, y: 0, style: .plain, limit: 5) == 4)  // no half characters
        #expect(canvas.put("\u{7}x", x: 0, y: 0, style: .plain) == 2 && canvas[0, 0].text == "?")
    }

    @Test func settingsRoundTripAtomically() throws {
        let dir = NSTemporaryDirectoryPath() + "/facestudio-settings-\(UInt64.random(in: 0...UInt64.max))"
        let path = dir + "/settings.json"
        #expect(try Settings.load(path: path) == Settings())
        let s = Settings(theme: "light", history: (0..<300).map { "prompt \($0)" })
        try s.save(path: path)
        let back = try Settings.load(path: path)
        #expect(back.theme == "light" && back.history.count == Settings.historyLimit && back.history.last == "prompt 299")
        #expect(Settings.configDirectory(environment: ["XDG_CONFIG_HOME": "/x"]) == "/x/facestudio")
        #expect(Settings.configDirectory(environment: ["FACESTUDIO_CONFIG": "/y", "XDG_CONFIG_HOME": "/x"]) == "/y")
        #expect(Settings.configDirectory(environment: ["HOME": "/h"]) == "/h/.config/facestudio")
    }
}

import Foundation
func NSTemporaryDirectoryPath() -> String { NSTemporaryDirectory().hasSuffix("/") ? String(NSTemporaryDirectory().dropLast()) : NSTemporaryDirectory() }

@Suite struct BenchTests {
    /// The `bench` figures can be produced (a full redraw into curses on /dev/null, a sixel
    /// encode); prints them, asserts no timing.
    @Test func studioBenchRuns() throws {
        let theme = try ThemeLibrary(directories: [repositoryRoot + "/Themes"]).load("dark")
        let result = try StudioBench.run(frames: 30, theme: theme)
        print(String(format: "studio bench: ui_frame_ms_p99 %.2f (median %.2f), sixel_encode_ms %.2f",
                     result.uiFrameMsP99, result.uiFrameMsMedian, result.sixelEncodeMs))
        #expect(result.uiFrameMsP99.isFinite && result.uiFrameMsP99 > 0 && result.uiFrameMsMedian <= result.uiFrameMsP99)
        #expect(result.sixelEncodeMs.isFinite && result.sixelEncodeMs > 0)
    }
}
