import ArgumentParser
import Foundation
import Support

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

/// A one-line warning on stderr.
func warn(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}
