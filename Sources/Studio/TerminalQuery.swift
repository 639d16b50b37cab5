import Foundation

/// What the terminal said about its graphics.
public struct TerminalGraphicsReport: Equatable, Sendable {
    /// DA1 listed attribute 4 (sixel).
    public var sixel = false
    /// Cell size in pixels from `CSI 16 t` (nil when not answered).
    public var cellPixels: (width: Int, height: Int)? = nil
    /// Colour registers from XTSMGRAPHICS (nil when not answered).
    public var colorRegisters: Int? = nil
    /// The terminal answered DA1 at all (false after a timeout).
    public var answered = false

    public static func == (a: TerminalGraphicsReport, b: TerminalGraphicsReport) -> Bool {
        a.sixel == b.sixel && a.cellPixels?.width == b.cellPixels?.width && a.cellPixels?.height == b.cellPixels?.height
            && a.colorRegisters == b.colorRegisters && a.answered == b.answered
    }
}

/// Asks the terminal about sixel support (DESIGN "Terminal graphics"): `CSI 16 t` (cell size)
/// and XTSMGRAPHICS (colour registers) first, DA1 (`CSI c`) last — every terminal answers DA1,
/// so its reply ends the wait; a terminal that answers nothing costs `timeout` and no more.
public enum TerminalQuery {
    public static let queries = "\u{1B}[16t\u{1B}[?1;1;0S\u{1B}[c"

    /// Sends the queries on the tty and reads the replies with the terminal in raw mode.
    public static func probe(timeout: Double = 0.5, inputFD: Int32 = 0, outputFD: Int32 = 1) -> TerminalGraphicsReport {
        guard isatty(inputFD) != 0 else { return TerminalGraphicsReport() }
        var saved = termios()
        guard tcgetattr(inputFD, &saved) == 0 else { return TerminalGraphicsReport() }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in cc[Int(VMIN)] = 0; cc[Int(VTIME)] = 0 }
        _ = tcsetattr(inputFD, TCSANOW, &raw)
        defer { _ = tcsetattr(inputFD, TCSANOW, &saved) }

        let query = Array(queries.utf8)
        _ = query.withUnsafeBufferPointer { write(outputFD, $0.baseAddress, $0.count) }
        var reply: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 256)
        while Date() < deadline {
            var fd = pollfd(fd: inputFD, events: Int16(POLLIN), revents: 0)
            let ms = Int32(max(deadline.timeIntervalSinceNow * 1000, 1))
            if poll(&fd, 1, ms) <= 0 { continue }
            let n = read(inputFD, &buffer, buffer.count)
            if n <= 0 { continue }
            reply += buffer[0..<n]
            if parse(reply).answered { break }
        }
        var report = parse(reply)
        if report.cellPixels == nil { report.cellPixels = windowCellPixels(fd: outputFD) }
        return report
    }

    /// Cell size from the kernel's window size (xterm fills in the pixel fields even when it
    /// refuses `CSI 16 t`, which it does by default).
    public static func windowCellPixels(fd: Int32 = 1) -> (width: Int, height: Int)? {
        var size = winsize()
        guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0,
              size.ws_xpixel >= size.ws_col, size.ws_ypixel >= size.ws_row else { return nil }
        return (Int(size.ws_xpixel) / Int(size.ws_col), Int(size.ws_ypixel) / Int(size.ws_row))
    }

    /// Parses the concatenated replies (pure, for tests).
    public static func parse(_ bytes: [UInt8]) -> TerminalGraphicsReport {
        var report = TerminalGraphicsReport()
        let text = String(decoding: bytes, as: UTF8.self)
        // Each reply: ESC [ params final.
        for piece in text.components(separatedBy: "\u{1B}[").dropFirst() {
            guard let finalIndex = piece.firstIndex(where: { $0.isLetter }) else { continue }
            let final = piece[finalIndex]
            let params = String(piece[..<finalIndex])
            if final == "c", params.hasPrefix("?") {
                let values = params.dropFirst().split(separator: ";").compactMap { Int($0) }
                report.answered = true
                report.sixel = values.dropFirst().contains(4)
            } else if final == "t" {
                let values = params.split(separator: ";").compactMap { Int($0) }
                if values.count == 3, values[0] == 6, values[1] > 0, values[2] > 0 { report.cellPixels = (values[2], values[1]) }
            } else if final == "S", params.hasPrefix("?") {
                let values = params.dropFirst().split(separator: ";").compactMap { Int($0) }
                if values.count >= 3, values[0] == 1, values[1] == 0 { report.colorRegisters = values[2] }
            }
        }
        return report
    }

    /// The graphics to use for `--graphics auto|sixel|blocks|ascii`. Inside tmux auto means
    /// blocks (tmux may not pass sixel through) without asking the terminal anything.
    public static func choose(_ requested: String, environment: [String: String],
                              probe: () -> TerminalGraphicsReport) -> (GraphicsMode, TerminalGraphicsReport?) {
        switch requested {
        case "sixel": return (.sixel, probe())
        case "blocks": return (.blocks, nil)
        case "ascii": return (.ascii, nil)
        default:
            if environment["TMUX"] != nil || (environment["TERM"] ?? "").hasPrefix("tmux") { return (.blocks, nil) }
            let report = probe()
            return (report.sixel ? .sixel : .blocks, report)
        }
    }
}
