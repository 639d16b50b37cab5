import Foundation

/// A progress line on stderr for long jobs (data generation, training, evaluation):
/// `label [#####.....] done/total  rate unit/s  ETA 3m12s  extra`.
///
/// Redrawn in place with `\r` on a terminal (at most ~10 times a second); when stderr is not a
/// terminal (logs, CI) a plain line is printed every `logEvery` seconds instead, so log files
/// stay readable.
public final class ProgressLine: @unchecked Sendable {
    public let label: String
    public let total: Int
    public let unit: String
    private let start: Date
    private var lastDraw: Date = .distantPast
    private let interactive: Bool
    private let logEvery: TimeInterval
    private let lock = NSLock()
    private let enabled: Bool
    private let startCount: Int

    /// `startCount`: work already done before this run (a resumed job), excluded from the rate.
    public init(label: String, total: Int, unit: String = "it", startCount: Int = 0, enabled: Bool = true,
                logEvery: TimeInterval = 10) {
        self.label = label
        self.total = total
        self.unit = unit
        self.start = Date()
        self.interactive = isatty(STDERR_FILENO) != 0
        self.logEvery = logEvery
        self.enabled = enabled
        self.startCount = startCount
    }

    /// Reports `done` units finished; `extra` is appended (e.g. "loss 2.31").
    public func update(_ done: Int, extra: String = "", force: Bool = false) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        let now = Date()
        let interval = interactive ? 0.1 : logEvery
        guard force || now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        let line = render(done, extra: extra, elapsed: now.timeIntervalSince(start))
        FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    /// Draws the final state and ends the line.
    public func finish(_ done: Int? = nil, extra: String = "") {
        guard enabled else { return }
        update(done ?? total, extra: extra, force: true)
        if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func render(_ done: Int, extra: String, elapsed: TimeInterval) -> String {
        let width = 24
        let fraction = total > 0 ? min(max(Double(done) / Double(total), 0), 1) : 0
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let rate = elapsed > 0 ? Double(done - startCount) / elapsed : 0
        var line = "\(label) [\(bar)] \(done)/\(total)  \(ProgressLine.rate(rate)) \(unit)/s"
        if rate > 0 && done < total {
            line += "  ETA \(ProgressLine.duration(Double(total - done) / rate))"
        } else if done >= total {
            line += "  took \(ProgressLine.duration(elapsed))"
        }
        if !extra.isEmpty { line += "  " + extra }
        return line
    }

    static func rate(_ r: Double) -> String {
        r >= 100 ? String(format: "%.0f", r) : r >= 10 ? String(format: "%.1f", r) : String(format: "%.2f", r)
    }

    /// "42s", "3m12s", "2h05m".
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m"
    }
}
