import ArgumentParser
import Foundation
import Support

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


/// The help of every `--model` that reads a model directory.
let modelHelp = ArgumentHelp(
    "Model directory (default: $FACESTUDIO_MODEL, ./Models, else the installed model or the checkout's Models/).",
    valueName: "dir")

/// Prints a value as sorted, pretty JSON on stdout (for `--json`).
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
