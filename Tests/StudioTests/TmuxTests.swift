import Foundation
import TestSupport
import Testing
@testable import Studio

/// Drives the real `facestudio studio` binary inside tmux: keys with `send-keys`, screens with
/// `capture-pane`. Screens are compared with reviewed snapshots in Snapshots/ after the few
/// run-dependent figures (seconds) are blanked. Set FACESTUDIO_RECORD_SNAPSHOTS=1 to rewrite
/// them (then review the diff before committing).
@Suite(.serialized) struct TmuxTests {
    static let tmux: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test func wideLayoutTypingGeneratingSteppingAndQuitting() throws {
        guard let tmux = Self.tmux else { print("skipped: tmux is not installed"); return }
        let s = try TmuxStudio(tmux: tmux, width: 120, height: 40)
        defer { s.kill() }
        try s.waitFor("model ready")
        let start = s.capture()
        #expect(start.contains("┌ 1 Prompt") && start.contains("┌ 2 Unmasking") && start.contains("┌ 3 Chat") && start.contains("┌ 4 Experts"))
        s.keys(literal: "a smiling young woman with bangs, her café smile")
        try s.waitFor("café smile")
        // The hint row may land a moment after the text row within one redraw.
        try s.waitFor("never seen in training")
        try s.expectSnapshot("wide-120x40-prompt")
        s.keys("C-g")
        try s.waitFor("step 12/12 ·")
        try s.waitFor("generated in")
        // Coloured heat cells in the experts pane (background colours on the layer rows).
        let escaped = s.capture(escapes: true).split(separator: "\n").first { $0.contains("▸") && $0.contains("L0") }.map(String.init) ?? ""
        #expect(escaped.components(separatedBy: "\u{1B}[48;5;").count > 8, "expected coloured heat cells: \(escaped.debugDescription)")
        s.keys("M-2"); s.keys("Left"); s.keys("Left")
        try s.waitFor("step 10/12 ·")
        try s.expectSnapshot("wide-120x40-step10")
        s.keys("C-q")
        try s.waitFor("Quit anyway?")
        s.keys("y")
        try s.expectRestored()
    }

    @Test func chatAnswerAppears() throws {
        guard let tmux = Self.tmux else { print("skipped: tmux is not installed"); return }
        let s = try TmuxStudio(tmux: tmux, width: 120, height: 40)
        defer { s.kill() }
        try s.waitFor("model ready")
        s.keys(literal: "a man with a hat")
        s.keys("C-g")
        try s.waitFor("generated in")
        s.keys("M-3")
        s.keys(literal: "what is the emotion?")
        s.keys("Enter")
        try s.waitFor("you: what is the emotion?")
        try s.waitFor("model: ")
        s.keys("C-c")
        try s.expectRestored()
    }

    @Test func themeIsRememberedInTheSettingsFile() throws {
        guard let tmux = Self.tmux else { print("skipped: tmux is not installed"); return }
        let config = NSTemporaryDirectory() + "/facestudio-theme-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: config) }
        let first = try TmuxStudio(tmux: tmux, width: 100, height: 30, theme: "light", configDirectory: config)
        defer { first.kill() }
        try first.waitFor("256 colours · light")
        first.keys("C-q")
        try first.expectRestored()
        let settings = try String(contentsOfFile: config + "/settings.json", encoding: .utf8)
        #expect(settings.contains("\"theme\" : \"light\""))
        let second = try TmuxStudio(tmux: tmux, width: 100, height: 30, theme: nil, configDirectory: config)
        defer { second.kill() }
        try second.waitFor("256 colours · light")
        second.keys("C-q")
        try second.expectRestored()
    }

    @Test func sigtermRestoresTheTerminal() throws {
        guard let tmux = Self.tmux else { print("skipped: tmux is not installed"); return }
        let s = try TmuxStudio(tmux: tmux, width: 100, height: 30)
        defer { s.kill() }
        try s.waitFor("model ready")
        s.keys(literal: "unsaved words")
        try s.waitFor("unsaved words")
        let shell = try run([tmux, "-L", s.socket, "display-message", "-p", "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let children = (try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)) ?? ""
        let studio = try #require(children.split(separator: " ").first.flatMap { pid_t($0) })
        #expect(Foundation.kill(studio, SIGTERM) == 0)
        try s.expectRestored()
    }

    @Test func resizingAdaptsTheLayout() throws {
        guard let tmux = Self.tmux else { print("skipped: tmux is not installed"); return }
        let s = try TmuxStudio(tmux: tmux, width: 80, height: 24)
        defer { s.kill() }
        try s.waitFor("model ready")
        s.keys(literal: "a bald man"); s.keys("C-g")
        try s.waitFor("generated in")
        s.keys("M-2")
        try s.waitFor("┌ 2 Unmasking")
        try s.expectSnapshot("narrow-80x24-unmasking")
        s.resize(width: 40, height: 12)
        try s.waitFor("Terminal too small")
        try s.expectSnapshot("too-small-40x12")
        s.resize(width: 120, height: 40)
        try s.waitFor("┌ 4 Experts")
        try s.waitFor("┌ 1 Prompt")
        s.resize(width: 40, height: 12)
        try s.waitFor("Terminal too small")
        s.keys("q")
        try s.waitFor("Quit without saving?")
        s.keys("y")
        try s.expectRestored()
    }

    @Test func helpScreenAndTooSmallStart() throws {
        guard let tmux = Self.tmux else { print("skipped: tmux is not installed"); return }
        let s = try TmuxStudio(tmux: tmux, width: 40, height: 12)
        defer { s.kill() }
        try s.waitFor("Terminal too small")
        s.keys("q")
        try s.expectRestored()
        let h = try TmuxStudio(tmux: tmux, width: 120, height: 40)
        defer { h.kill() }
        try h.waitFor("model ready")
        h.keys("F1")
        try h.waitFor("Help — any key closes")
        try h.expectSnapshot("help-120x40")
        h.keys("x")
        try h.waitFor("┌ 1 Prompt")
        h.keys("C-q")
        try h.expectRestored()
    }
}

/// One studio process in its own tmux server.
final class TmuxStudio {
    let tmux: String
    let socket = "facestudio-test-\(UInt32.random(in: 0...UInt32.max))"
    let workDirectory: String

    /// `theme` nil leaves `--theme` out (the remembered one applies); `configDirectory` lets
    /// two runs share a settings file.
    init(tmux: String, width: Int, height: Int, theme: String? = "dark", configDirectory: String? = nil) throws {
        self.tmux = tmux
        let fixture = try StudioFixture.shared()
        workDirectory = NSTemporaryDirectory() + "/" + socket
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let config = configDirectory ?? workDirectory + "/config"
        // After the studio exits: its exit status, then the tty modes (restored means canonical
        // mode and echo are back on).
        let script = "cd '\(workDirectory)' && '\(fixture.binary)' studio --model '\(fixture.model)' \(theme.map { "--theme \($0)" } ?? ""); "
            + "echo \"EXIT=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo; echo TTY-CHECKED; exec sleep 60"
        try run([tmux, "-L", socket, "-f", "/dev/null", "-u", "new-session", "-d", "-x", "\(width)", "-y", "\(height)",
                 "-e", "TERM=tmux-256color", "-e", "FACESTUDIO_CONFIG=\(config)", "-e", "LANG=C.UTF-8", "-e", "NO_COLOR=",
                 "-e", "FACESTUDIO_THEMES=\(repositoryRoot)/Themes", "sh", "-c", script])
        _ = try? run([tmux, "-L", socket, "set-option", "-g", "status", "off"])
    }

    /// Stops the studio (SIGHUP, as a closed terminal would), then the tmux server. Not trusting
    /// `kill-server` alone: it can leave the server and its pane running.
    func kill() {
        let ask = { (format: String) in (try? run([self.tmux, "-L", self.socket, "display-message", "-p", format]))
            .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        let server = ask("#{pid}"), shell = ask("#{pane_pid}")
        if let shell {
            let children = (try? String(contentsOfFile: "/proc/\(shell)/task/\(shell)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ pid_t($0) }) { _ = Foundation.kill(child, SIGHUP) }
            _ = Foundation.kill(shell, SIGHUP)
        }
        _ = try? run([tmux, "-L", socket, "kill-server"])
        if let server { _ = Foundation.kill(server, SIGTERM) }
        unlink("/tmp/tmux-\(getuid())/\(socket)")
        try? FileManager.default.removeItem(atPath: workDirectory)
    }

    func keys(_ names: String...) { _ = try? run([tmux, "-L", socket, "send-keys"] + names) }
    func keys(literal text: String) { _ = try? run([tmux, "-L", socket, "send-keys", "-l", text]) }
    func resize(width: Int, height: Int) { _ = try? run([tmux, "-L", socket, "resize-window", "-x", "\(width)", "-y", "\(height)"]) }

    func capture(escapes: Bool = false) -> String {
        (try? run([tmux, "-L", socket, "capture-pane", "-p"] + (escapes ? ["-e"] : []))) ?? ""
    }

    func waitFor(_ text: String, timeout: Double = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if capture().contains(text) { return }
            Thread.sleep(forTimeInterval: 0.03)
        }
        let screen = capture()
        print("timed out waiting for \"\(text)\"; screen:\n\(screen)")
        throw StudioError("timed out waiting for \"\(text)\" (screen printed above)")
    }

    /// The studio is gone, exited 0, and the tty is back in canonical mode with echo.
    func expectRestored() throws {
        try waitFor("TTY-CHECKED")
        let screen = capture()
        #expect(screen.contains("EXIT=0"), "\(screen)")
        #expect(screen.contains("icanon") && !screen.contains("-icanon") && !screen.contains("-echo"), "\(screen)")
        #expect(!screen.contains("┌ 1 Prompt"), "the alternate screen should be gone:\n\(screen)")
    }

    /// Compares the screen with Snapshots/NAME.txt (seconds blanked; trailing spaces trimmed).
    func expectSnapshot(_ name: String) throws {
        Thread.sleep(forTimeInterval: 0.15)  // let the last redraw land
        var actual = TmuxStudio.normalise(capture())
        let path = repositoryRoot + "/Tests/StudioTests/Snapshots/\(name).txt"
        if ProcessInfo.processInfo.environment["FACESTUDIO_RECORD_SNAPSHOTS"] == "1" {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOfFile: path, encoding: .utf8) else {
            Issue.record("missing snapshot \(path); record with FACESTUDIO_RECORD_SNAPSHOTS=1 and review it. Screen:\n\(actual)")
            return
        }
        // A capture can catch a redraw half-written; a slow machine gets a few more looks.
        let deadline = Date().addingTimeInterval(3)
        while expected != actual && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            actual = TmuxStudio.normalise(capture())
        }
        if expected != actual {
            let e = expected.split(separator: "\n", omittingEmptySubsequences: false), a = actual.split(separator: "\n", omittingEmptySubsequences: false)
            let diff = (0..<max(e.count, a.count)).filter { $0 >= e.count || $0 >= a.count || e[$0] != a[$0] }.prefix(6).map { i in
                "line \(i + 1):\n  expected: \(i < e.count ? String(e[i]) : "")\n  actual:   \(i < a.count ? String(a[i]) : "")"
            }
            Issue.record("snapshot \(name) differs:\n\(diff.joined(separator: "\n"))")
        }
    }

    static func normalise(_ screen: String) -> String {
        var lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var s = String(line)
            while s.hasSuffix(" ") { s.removeLast() }
            return s.replacingOccurrences(of: #"\d+\.\d+ s"#, with: "#.## s", options: .regularExpression)
        }
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The built binary and a tiny randomly initialised model, made once per test run with the
/// binary's own commands (a data set of 24 faces, a 1-step image tokenizer, a 2-layer model without the
/// sequence-level MoE, whose image encoders would need training first).
final class StudioFixture: @unchecked Sendable {
    let binary: String
    let model: String
    nonisolated(unsafe) private static var made: Result<StudioFixture, Error>? = nil
    private static let lock = NSLock()

    private init(binary: String, model: String) { self.binary = binary; self.model = model }

    static func shared() throws -> StudioFixture {
        lock.lock(); defer { lock.unlock() }
        if let made { return try made.get() }
        let result = Result { try make() }
        made = result
        return try result.get()
    }

    static func make() throws -> StudioFixture {
        let binary = try Programs.facestudio()
        let dir = NSTemporaryDirectory() + "/facestudio-fixture-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try run([binary, "dataset", "make", "--count", "24", "--out", dir + "/data", "--quiet"])
        try run([binary, "tokenizer", "train", "--data", dir + "/data", "--out", dir + "/tok", "--steps", "1", "--eval-images", "0"])
        try #"{"layers": 2, "d_model": 64, "heads": 2, "expert_hidden": 64, "sequence_moe": false}"#.write(toFile: dir + "/tiny.json", atomically: true, encoding: .utf8)
        try run([binary, "model", "init", "--out", dir + "/model", "--data", dir + "/data", "--image-tokenizer", dir + "/tok/model",
                 "--config", dir + "/tiny.json"])
        return StudioFixture(binary: binary, model: dir + "/model")
    }
}

/// Runs a program (see `Programs.run`).
@discardableResult
func run(_ arguments: [String]) throws -> String { try Programs.run(arguments) }
