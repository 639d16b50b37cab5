import Foundation

/// Set by SIGINT / SIGTERM so long loops can stop at a safe point (after a step, with a
/// checkpoint) instead of dying mid-write. A second Ctrl-C exits at once.
public final class InterruptFlag: @unchecked Sendable {
    private static var installed = false
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    public init() {
        guard !InterruptFlag.installed else { return }
        InterruptFlag.installed = true
        let handler: @convention(c) (Int32) -> Void = { signal in
            if InterruptFlag.flag != 0 { _exit(128 + signal) }
            InterruptFlag.flag = 1
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }

    public var isSet: Bool { InterruptFlag.flag != 0 }
}
