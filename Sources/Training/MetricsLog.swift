import Foundation
import Support

/// The JSONL training log: one `StepMetrics` object per line, appended as training goes.
public final class MetricsLog {
    private let handle: FileHandle
    private let encoder: JSONEncoder

    public init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw TrainingError.data("\(path): cannot open for appending") }
        h.seekToEndOfFile()
        handle = h
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
    }

    deinit { try? handle.close() }

    /// Appends one line: `StepMetrics`, or anything else with a `step` (e.g. `HeldOutMetrics`).
    public func append<T: Encodable>(_ metrics: T) throws {
        var line = try encoder.encode(metrics)
        line.append(UInt8(ascii: "\n"))
        handle.write(line)
    }

    /// Drops lines for steps at or after `step` (a resumed run repeats them), rewriting the file
    /// atomically. Lines that do not parse are dropped too (a kill can tear the last one).
    public static func truncate(path: String, after step: Int) throws {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        struct StepOnly: Decodable { var step: Int }
        var kept = ""
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let s = try? JSONDecoder().decode(StepOnly.self, from: Data(line.utf8)), s.step < step else { continue }
            kept += line + "\n"
        }
        try AtomicFile.write(text: kept, to: path)
    }
}
