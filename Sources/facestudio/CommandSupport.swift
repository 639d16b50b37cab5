import ArgumentParser
import Foundation

/// Set by SIGINT / SIGTERM so long loops can stop at a safe point (after a step, with a
/// checkpoint) instead of dying mid-write. A second Ctrl-C exits at once.
final class InterruptFlag: @unchecked Sendable {
    private static var installed = false
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0

    init() {
        guard !InterruptFlag.installed else { return }
        InterruptFlag.installed = true
        let handler: @convention(c) (Int32) -> Void = { signal in
            if InterruptFlag.flag != 0 { _exit(128 + signal) }
            InterruptFlag.flag = 1
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }

    var isSet: Bool { InterruptFlag.flag != 0 }
}

/// A decoding failure as one line: the key path and what was wrong.
func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? "" : p + ": "
    }
    switch error {
    case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c): return path(c) + c.debugDescription
    case let .keyNotFound(key, c): return path(c) + "missing key \(key.stringValue)"
    @unknown default: return "\(error)"
    }
}

/// Prints a value as sorted, pretty JSON on stdout (for `--json`).
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
