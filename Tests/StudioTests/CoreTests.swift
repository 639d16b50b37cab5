import Foundation
import Testing
import Imaging
import Inference
@testable import Studio

@Suite(.serialized) struct CoreTests {
    @Test func generatingFillsFramesAndFollowsTheLastStep() throws {
        let h = try Harness()
        h.type("a young man")
        h.core.handle(.ctrl("g"))
        try h.settle()
        #expect(h.core.unmaskingPane.frames.count == 12)
        #expect(h.core.unmaskingPane.selectedStep == 11 && !h.core.unmaskingPane.generating)
        #expect(h.core.unmaskingPane.frames.last!.masked.allSatisfy { !$0 })
        #expect(h.backend.generated.map(\.prompt) == ["a young man"])
        #expect(h.screen.joined().contains("step 12/12"))
        // Step back, first, last; the counter follows.
        h.core.handle(.alt("2"))
        h.core.handle(.left)
        #expect(h.core.unmaskingPane.selectedStep == 10 && h.screen[0].contains("step 11/12"))
        h.core.handle(.home)
        #expect(h.core.unmaskingPane.selectedStep == 0)
        h.core.handle(.end)
        #expect(h.core.unmaskingPane.selectedStep == 11)
    }

    @Test func settingsKeysChangeTheNextGeneration() throws {
        let h = try Harness()
        h.type("face")
        h.core.handle(.alt("2"))
        for key: Character in ["s", "s", "k", "c", "T"] { h.core.handle(.char(key)) }
        #expect(h.core.unmaskingPane.settings.seed == 2 && h.core.unmaskingPane.settings.steps == 13 && h.core.unmaskingPane.settings.cfg == 2.0 && h.core.unmaskingPane.settings.temperature == 4.0)
        h.core.handle(.char("S"))
        #expect(h.core.unmaskingPane.settings.seed == 1)
        h.core.handle(.char("g"))
        try h.settle()
        #expect(h.core.unmaskingPane.frames.count == 13)
        #expect(h.backend.generated.last?.settings == h.core.unmaskingPane.settings)
        #expect(h.screen.joined().contains("seed 1  steps 13  CFG 2  T 4"))
    }

    @Test func escCancelsAndANewGenerateReplacesTheOld() throws {
        let h = try Harness()
        h.backend.stepDelay = 0.02
        h.type("slow")
        h.core.handle(.ctrl("g"))
        Thread.sleep(forTimeInterval: 0.05)
        h.core.handle(.ctrl("g"))  // replaces the running one
        try h.settle()
        #expect(h.core.unmaskingPane.frames.count == 12 && !h.core.unmaskingPane.generating)
        #expect(h.backend.generated.count == 2)
        h.core.handle(.ctrl("g"))
        Thread.sleep(forTimeInterval: 0.07)
        h.core.handle(.escape)
        try h.settle()
        #expect(!h.core.unmaskingPane.generating)
        #expect(h.core.unmaskingPane.frames.count < 12)
        #expect(h.core.status.text.hasPrefix("generation cancelled"))
    }

    @Test func playbackStepsThroughAndStops() throws {
        let h = try Harness()
        h.type("x"); h.core.handle(.ctrl("g")); try h.settle()
        h.core.handle(.alt("2"))
        h.core.handle(.char(" "))
        #expect(h.core.isPlaying && h.core.unmaskingPane.selectedStep == 0)
        var t = 1.0
        for _ in 0..<20 { _ = h.core.tick(now: t); t += 1 }
        #expect(!h.core.isPlaying && h.core.unmaskingPane.selectedStep == 11)
    }

    @Test func overlaysCycleAndColourTheImage() throws {
        let h = try Harness()
        h.type("x"); h.core.handle(.ctrl("g")); try h.settle()
        h.core.handle(.alt("2"))
        h.core.handle(.home)
        var seen: [Overlay] = [h.core.unmaskingPane.overlay]
        for _ in 0..<5 { h.core.handle(.char("o")); seen.append(h.core.unmaskingPane.overlay) }
        #expect(seen == [.mask, .confidence, .revealed, .expert, .none, .mask])
        // Mask overlay at step 1: masked slots differ from the raw preview.
        let frame = h.core.unmaskingPane.frames[0]
        let theme = h.core.theme
        let masked = FrameComposer.compose(frame, overlay: .mask, layer: 0, gridSide: 4, theme: theme)
        let plain = FrameComposer.compose(frame, overlay: .none, layer: 0, gridSide: 4, theme: theme)
        #expect(plain == frame.preview)
        let firstMasked = frame.masked.firstIndex(of: true)!
        let px = (firstMasked % 4) * 4, py = (firstMasked / 4) * 4
        #expect(masked.pixel(x: px, y: py) != plain.pixel(x: px, y: py))
        // Expert overlay: slots with different experts get different colours.
        let experts = FrameComposer.compose(h.core.unmaskingPane.frames[11], overlay: .expert, layer: 0, gridSide: 4, theme: theme)
        #expect(experts.pixel(x: 0, y: 0) != experts.pixel(x: 4, y: 0))
    }

    @Test func chatNeedsAnImageThenStreamsAnswers() throws {
        let h = try Harness()
        h.core.handle(.alt("3"))
        h.type("what is this?"); h.core.handle(.enter)
        #expect(h.core.chatPane.messages.last?.role == .error)
        h.core.handle(.alt("1")); h.type("happy face"); h.core.handle(.ctrl("g")); try h.settle()
        h.core.handle(.alt("3"))
        h.type("is the person happy?"); h.core.handle(.enter)
        try h.settle()
        #expect(h.core.chatPane.messages.suffix(2).map(\.role) == [.user, .assistant])
        #expect(h.core.chatPane.messages.last?.text == "They look happy and young.")
        #expect(h.backend.openedImages.count == 1 && h.backend.questions == ["is the person happy?"])
        #expect(h.core.expertsPane.mmuTokens == 5 && h.core.expertsPane.mmuFrequencies.first?.first == 0.5)
        #expect(h.screen.contains { $0.contains("model: They look happy and young.") })
        // A second question reuses the open chat; /describe asks the caption question.
        h.type("/describe"); h.core.handle(.enter); try h.settle()
        #expect(h.backend.openedImages.count == 1 && h.backend.questions.count == 2)
        h.type("/clear"); h.core.handle(.enter); try h.settle()
        #expect(h.core.chatPane.messages.isEmpty)
        h.type("/open /nonexistent/x.png"); h.core.handle(.enter)
        #expect(h.core.chatPane.messages.last?.role == .error && h.core.chatPane.messages.last!.text.contains("/nonexistent/x.png"))
        h.type("/frobnicate"); h.core.handle(.enter)
        #expect(h.core.chatPane.messages.last!.text.hasPrefix("unknown command /frobnicate"))
    }

    @Test func chatOpensAPNG() throws {
        let h = try Harness()
        let path = NSTemporaryDirectory() + "facestudio-chat-\(UUID().uuidString).png"
        try PNGCodec.write(RGBImage(width: 8, height: 8, fill: (200, 10, 10)), to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        h.core.handle(.alt("3"))
        h.type("/open \(path)"); h.core.handle(.enter)
        h.type("colour?"); h.core.handle(.enter)
        try h.settle()
        #expect(h.backend.openedImages.first?.width == 8)
        #expect(h.core.chatPane.messages.last?.role == .assistant)
        #expect(h.core.chatPane.source == (path as NSString).lastPathComponent)
    }

    @Test func quittingAsksWhenUnsaved() throws {
        let h = try Harness()
        h.core.handle(.ctrl("q"))
        #expect(h.core.wantsQuit)  // nothing to lose
        let g = try Harness()
        g.type("a prompt")
        g.core.handle(.ctrl("q"))
        #expect(!g.core.wantsQuit && g.core.modal == .confirmQuit)
        #expect(g.screen[38].contains("Quit anyway?"))
        g.core.handle(.char("n"))
        #expect(!g.core.wantsQuit && g.core.modal == .none)
        g.core.handle(.ctrl("q"))
        g.core.handle(.char("y"))
        #expect(g.core.wantsQuit)
        let c = try Harness()
        c.type("abc")
        c.core.handle(.ctrl("c"))  // Ctrl-C never asks
        #expect(c.core.wantsQuit)
    }

    @Test func sessionsRoundTrip() throws {
        let h = try Harness()
        h.type("a woman with bangs"); h.core.handle(.ctrl("g")); try h.settle()
        h.core.handle(.alt("2")); h.core.handle(.left); h.core.handle(.char("o"))
        h.core.handle(.alt("3")); h.type("hi"); h.core.handle(.enter); try h.settle()
        h.core.handle(.ctrl("s"))
        #expect(!h.core.dirty && h.core.status.text.hasPrefix("saved"))
        let session = try SessionFile.read(path: h.core.sessionPath)
        defer { try? FileManager.default.removeItem(atPath: h.core.sessionPath) }
        #expect(session.prompt == "a woman with bangs" && session.frames.count == 12 && session.selectedStep == 10)
        #expect(session.messages == h.core.chatPane.messages && session.overlay == .confidence)

        let r = try Harness(sessionPath: h.core.sessionPath)
        r.core.restore(session)
        try r.settle()
        #expect(r.core.promptPane.editor.text == "a woman with bangs" && r.core.unmaskingPane.selectedStep == 10 && r.core.unmaskingPane.overlay == .confidence)
        #expect(r.core.unmaskingPane.frames.map(\.codes) == h.core.unmaskingPane.frames.map(\.codes))
        #expect(r.core.unmaskingPane.frames.map(\.preview) == h.core.unmaskingPane.frames.map(\.preview))  // decoded again
        #expect(r.core.chatPane.messages == h.core.chatPane.messages)
        #expect(r.screen == h.screen.map { $0 }.enumerated().map { $0.offset >= 38 ? r.screen[$0.offset] : r.screen[$0.offset] })
    }

    /// The conversation survives a save and restore: the restored studio reopens the chat on
    /// the same (generated) face with the earlier turns in the model's context; an opened PNG
    /// is reopened from its path.
    @Test func restoredSessionsContinueTheChat() throws {
        let h = try Harness()
        h.type("a man with a beard"); h.core.handle(.ctrl("g")); try h.settle()
        h.core.handle(.alt("3"))
        h.type("is he happy?"); h.core.handle(.enter); try h.settle()
        h.type("how old is he?"); h.core.handle(.enter); try h.settle()
        #expect(h.core.chatPane.turns == [ChatTurn(question: "is he happy?", answer: "They look happy and young."),
                                     ChatTurn(question: "how old is he?", answer: "They look happy and young.")])
        h.core.handle(.ctrl("s"))
        defer { try? FileManager.default.removeItem(atPath: h.core.sessionPath) }

        let r = try Harness(sessionPath: h.core.sessionPath)
        r.core.restore(try SessionFile.read(path: h.core.sessionPath))
        try r.settle()
        #expect(r.backend.openedHistories == [h.core.chatPane.turns])
        #expect(r.backend.openedImages == [h.backend.openedImages[0]])  // the face decoded from its codes
        #expect(r.core.chatPane.source == "generated image")
        r.core.handle(.alt("3"))
        r.type("and his hair?"); r.core.handle(.enter); try r.settle()
        #expect(r.backend.openedImages.count == 1 && r.core.chatPane.turns.count == 3)  // same chat, one more turn

        // An opened PNG: reopened from its path after a restore.
        let png = NSTemporaryDirectory() + "facestudio-chat-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: png) }
        var picture = RGBImage(width: 16, height: 16)
        picture.setPixel(x: 3, y: 4, (200, 10, 10))
        try PNGCodec.write(picture, to: png)
        r.type("/open \(png)"); r.core.handle(.enter); try r.settle()
        r.type("who is this?"); r.core.handle(.enter); try r.settle()
        r.core.handle(.ctrl("s"))
        let s = try Harness(sessionPath: r.core.sessionPath)
        s.core.restore(try SessionFile.read(path: r.core.sessionPath))
        try s.settle()
        #expect(s.backend.openedImages == [picture])
        #expect(s.backend.openedHistories == [[ChatTurn(question: "who is this?", answer: "They look happy and young.")]])
    }

    /// A session saved by the studio before it used the engine's types (version 1) opens, and
    /// saving it again writes the current version, which reads back the same.
    @Test func versionOneSessionsStillOpen() throws {
        let session = try SessionFile.read(path: repositoryRoot + "/Tests/StudioTests/Fixtures/session-v1.json")
        #expect(session.prompt == "a woman with bangs" && session.frames.count == 3 && session.selectedStep == 1)
        #expect(session.settings.steps == 3 && session.settings.cfg == 2 && session.settings.temperature == 4.5 && session.settings.seed == 0)
        #expect(session.settings.sampleTemperature == GenerateOptions().sampleTemperature)
        #expect(session.frames[0].routing.layers.map(\.topExpert.count) == [16, 16, 16])
        #expect(session.frames[0].routing.frequencies[1][0] == 0.03571428571428571)
        let gates = try #require(session.frames[2].routing.sequenceLayers.first)
        #expect(gates.experts == ["copy", "zero", "noise"] && gates.chosen == ["copy", "noise"] && gates.weight(of: "noise") == 0.25)
        #expect(session.chatTurns == [ChatTurn(question: "is she happy?", answer: "They look happy and young.")])

        let r = try Harness()
        r.core.restore(session)
        try r.settle()
        #expect(r.core.unmaskingPane.frames.count == 3 && r.core.unmaskingPane.frames.allSatisfy { $0.preview != nil } && r.core.unmaskingPane.overlay == .confidence)
        #expect(r.backend.openedHistories == [session.chatTurns ?? []])
        r.core.handle(.ctrl("s"))
        defer { try? FileManager.default.removeItem(atPath: r.core.sessionPath) }
        let again = try SessionFile.read(path: r.core.sessionPath)
        #expect(again.version == SessionFile.currentVersion && again.frames.map(\.routing) == session.frames.map(\.routing))
        #expect(again.settings == session.settings)
    }

    @Test func brokenSessionFilesAreNamed() throws {
        let path = NSTemporaryDirectory() + "facestudio-bad-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "{\"version\": 1}".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: SessionError.self) { try SessionFile.read(path: path) }
        do { _ = try SessionFile.read(path: path) } catch { #expect("\(error)".hasPrefix(path + ": not a studio session: missing key")) }
    }

    @Test func tooSmallScreenStillQuits() throws {
        let h = try Harness(width: 40, height: 12)
        #expect(h.screen.joined().contains("Terminal too small"))
        h.core.handle(.char("x")); h.core.handle(.ctrl("g"))
        #expect(!h.core.wantsQuit)
        h.core.handle(.char("q"))
        #expect(h.core.wantsQuit)
    }

    @Test func clicksFocusPanesAndPressKeyBarEntries() throws {
        let h = try Harness()
        h.core.click(x: 119, y: 5)
        #expect(h.core.focus == .experts)
        _ = h.core.render()
        let bar = h.screen[39]
        let column = bar.distance(from: bar.startIndex, to: bar.range(of: "? help")!.lowerBound)
        h.core.click(x: column, y: 39)
        #expect(h.core.modal == .help)
        h.core.handle(.char("x"))
        #expect(h.core.modal == .none)
    }

    @Test func unknownWordsAreHighlighted() throws {
        let h = try Harness()
        h.type("a zzfoo face")
        let canvas = h.core.render()
        let p = h.core.layout.panes[.prompt]!.inset(1)
        #expect(canvas[p.x + 2, p.y].style == h.core.theme.style(.unknownWord))
        #expect(canvas[p.x, p.y].style == h.core.theme.style(.text))
        #expect(canvas.lines().contains { $0.contains("never seen in training: zzfoo") })
    }

    @Test func tabCompletesInThePromptAndOtherwiseMovesOn() throws {
        let h = try Harness()
        h.type("a man with bags un")
        h.core.handle(.tab)
        #expect(h.core.promptPane.editor.text == "a man with bags under the eyes" && h.core.focus == .prompt)
        h.type(" ")
        h.core.handle(.tab)
        #expect(h.core.focus == .unmasking)
    }

    @Test func expertsLayerDrivesTheOverlay() throws {
        let h = try Harness()
        h.core.handle(.alt("4"))
        h.core.handle(.down); h.core.handle(.down); h.core.handle(.down); h.core.handle(.down)
        #expect(h.core.expertsPane.selectedLayer == 2)  // 3 layers
        h.core.handle(.enter)
        #expect(h.core.unmaskingPane.overlay == .expert)
        #expect(h.screen.contains { $0.contains("▸L2") })
    }

    @Test func monochromeDrawsHeatAsShading() throws {
        let h = try Harness(depth: .mono, graphics: .ascii)
        h.type("x"); h.core.handle(.ctrl("g")); try h.settle()
        let lines = h.screen
        let row = lines.first { $0.contains("▸L0") }!
        #expect(HeatScale.shades.dropFirst().contains { row.contains($0) })
        #expect(h.core.theme.style(.text).fg == .terminalDefault)
        // The image is shading characters, no half blocks.
        #expect(!lines.joined().contains("▀"))
    }

    @Test func eightColourImagesStayVisibleOnALightTheme() throws {
        let light = try ThemeLibrary(directories: [repositoryRoot + "/Themes"]).load("light")
        let h = try Harness(depth: .basic8, graphics: .blocks, theme: light)
        h.type("x"); h.core.handle(.ctrl("g")); try h.settle()
        let canvas = h.core.render()
        let pane = h.core.layout.panes[.unmasking]!.inset(1)
        var drawn = 0
        for y in pane.y + 1..<pane.maxY - 1 {
            for x in pane.x..<pane.maxX where canvas[x, y].text != " " {
                let style = canvas[x, y].style
                #expect(ColorDepth.basic8.terminalColor(style.fg) != ColorDepth.basic8.terminalColor(style.bg), "\(x),\(y)")
                drawn += 1
            }
        }
        #expect(drawn > 0)
    }

    @Test func loadFailureIsShownAndGenerationRefused() throws {
        let h = try Harness(load: false)
        h.backend.failLoad = "Models/config.json: cannot open: No such file or directory"
        h.worker.submit(.load); try h.settle()
        h.type("x"); h.core.handle(.ctrl("g"))
        #expect(h.core.status.isError && h.core.status.text.contains("no model"))
        #expect(h.screen.joined().contains("no model"))
    }

    @Test func sixelModePlacesTheImageAwayFromTheLastLine() throws {
        let h = try Harness(graphics: .sixel)
        h.type("x"); h.core.handle(.ctrl("g")); try h.settle()
        let canvas = h.core.render()
        #expect(canvas.sixels.count == 1)
        let placement = canvas.sixels[0]
        #expect(placement.rect.maxY <= 38 && h.core.layout.panes[.unmasking]!.inset(1).contains(x: placement.rect.x, y: placement.rect.y))
        #expect(placement.image.width <= placement.rect.width * h.core.cellPixels.width && placement.image.height <= placement.rect.height * h.core.cellPixels.height)
        h.core.handle(.f(1))
        #expect(h.core.render().sixels.isEmpty)  // help covers it
    }
}
