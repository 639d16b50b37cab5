import CNcurses
import Foundation

/// Puts the terminal back however the studio ends.
///
/// - SIGINT, SIGTERM, SIGHUP: the handler only sets a flag and writes to a pipe; the UI loop
///   wakes, leaves curses normally and exits.
/// - Crashes (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP — Swift traps end in SIGILL or
///   SIGTRAP): the handler restores the saved terminal modes with `tcsetattr` and writes a
///   prepared reset string (leave the alternate screen, show the cursor, plain colours, mouse
///   off) with `write(2)` — both async-signal-safe — then re-raises the signal.
public final class TerminalGuard: @unchecked Sendable {
    public static let shared = TerminalGuard()

    /// Read end the UI polls; a byte arrives when a termination signal was caught.
    public let signalFD: Int32
    nonisolated(unsafe) fileprivate static var writeFD: Int32 = -1
    nonisolated(unsafe) fileprivate static var terminated: sig_atomic_t = 0
    nonisolated(unsafe) fileprivate static var active: sig_atomic_t = 0
    nonisolated(unsafe) fileprivate static var savedModes = termios()
    nonisolated(unsafe) fileprivate static var haveModes = false
    nonisolated(unsafe) fileprivate static var reset: UnsafeMutablePointer<UInt8>? = nil
    nonisolated(unsafe) fileprivate static var resetCount = 0

    private init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        signalFD = fds[0]
        TerminalGuard.writeFD = fds[1]
    }

    /// Whether SIGINT/SIGTERM/SIGHUP arrived.
    public var terminationRequested: Bool { TerminalGuard.terminated != 0 }

    /// Installs the handlers and remembers the terminal's modes; call before curses starts.
    public func install() {
        if isatty(0) != 0, tcgetattr(0, &TerminalGuard.savedModes) == 0 { TerminalGuard.haveModes = true }
        let reset = Array("\u{1B}[?1000l\u{1B}[?1002l\u{1B}[?1006l\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l\r\n".utf8)
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: reset.count)
        buffer.initialize(from: reset, count: reset.count)
        TerminalGuard.reset = buffer
        TerminalGuard.resetCount = reset.count
        for sig in [SIGINT, SIGTERM, SIGHUP] { signal(sig, terminationHandler) }
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP] { signal(sig, crashHandler) }
    }

    func cursesStarted() { TerminalGuard.active = 1 }
    func cursesEnded() { TerminalGuard.active = 0 }

    public func drainSignals() {
        var buffer = [UInt8](repeating: 0, count: 16)
        while read(signalFD, &buffer, buffer.count) > 0 {}
    }
}

private func terminationHandler(_ sig: Int32) {
    TerminalGuard.terminated = 1
    var byte: UInt8 = UInt8(truncatingIfNeeded: sig)
    _ = write(TerminalGuard.writeFD, &byte, 1)
}

private func crashHandler(_ sig: Int32) {
    if TerminalGuard.active != 0 {
        if TerminalGuard.haveModes { _ = tcsetattr(0, TCSANOW, &TerminalGuard.savedModes) }
        if let reset = TerminalGuard.reset { _ = write(1, reset, TerminalGuard.resetCount) }
    }
    signal(sig, SIG_DFL)
    raise(sig)
}
