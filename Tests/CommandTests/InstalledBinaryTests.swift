import Foundation
import Testing
import TestSupport

/// The binary run from a folder outside the checkout: installed as `make install` lays it out, it
/// finds its model and themes under `<prefix>/share/facestudio`; the studio refuses a terminal
/// it cannot draw on.
@Suite(.serialized) struct InstalledBinaryTests {
    /// Runs `binary arguments…` with `directory` as the working folder.
    func run(_ binary: String, _ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> String {
        try Programs.run(["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory, binary] + arguments,
                         environment: ["FACESTUDIO_MODEL": "", "FACESTUDIO_THEMES": "", "FACESTUDIO_THREADS": "1"].merging(environment) { $1 })
    }

    func scratch(_ name: String) throws -> String {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("facestudio-\(name)-\(getpid())").path
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir + "/elsewhere", withIntermediateDirectories: true)
        return dir
    }

    /// A copy of the built binary (a link would resolve back into the checkout's .build), made by
    /// `cp`: a write descriptor held here would leak into processes other tests spawn meanwhile,
    /// and running the copy would then fail with "text file busy".
    func installBinary(into bin: String) throws {
        try Programs.run(["/bin/cp", URL(fileURLWithPath: try Programs.facestudio()).resolvingSymlinksInPath().path, bin + "/facestudio"])
    }

    @Test func anInstalledBinaryFindsItsModelFromAnyFolder() throws {
        let dir = try scratch("installed")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/prefix/bin", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/prefix/share/facestudio", withIntermediateDirectories: true)
        try installBinary(into: dir + "/prefix/bin")
        for name in ["Models", "Themes"] {
            try fm.createSymbolicLink(atPath: dir + "/prefix/share/facestudio/" + name, withDestinationPath: Programs.repositoryRoot + "/" + name)
        }
        let out = try run(dir + "/prefix/bin/facestudio", ["generate", "--prompt", "a bald man", "--out", "f.png", "--steps", "2", "--json"],
                          in: dir + "/elsewhere")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        #expect(report["out"] as? String == "f.png" && fm.fileExists(atPath: dir + "/elsewhere/f.png"))
    }

    @Test func withoutAModelTheErrorListsWhereItLooked() throws {
        let dir = try scratch("nomodel")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/prefix/bin", withIntermediateDirectories: true)
        try installBinary(into: dir + "/prefix/bin")
        let error = #expect(throws: Programs.Failure.self) {
            try run(dir + "/prefix/bin/facestudio", ["generate", "--prompt", "a bald man"], in: dir + "/elsewhere")
        }
        let message = try #require(error).description
        #expect(message.contains("looked in Models, ") && message.contains("/prefix/share/facestudio/Models"))
        // FACESTUDIO_MODEL names the model instead.
        let info = try run(dir + "/prefix/bin/facestudio", ["model", "info", "--json"], in: dir + "/elsewhere",
                           environment: ["FACESTUDIO_MODEL": Programs.repositoryRoot + "/Models"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any])
        #expect(report["directory"] as? String == Programs.repositoryRoot + "/Models")
    }

    @Test func theStudioRefusesADumbTerminalAtOnce() throws {
        let error = #expect(throws: Programs.Failure.self) {
            try run(try Programs.facestudio(), ["studio"], in: NSTemporaryDirectory(), environment: ["TERM": "dumb"])
        }
        let message = try #require(error).description
        let stderr = message.components(separatedBy: "exited 1: ").last ?? ""
        #expect(message.contains("TERM=dumb") && message.contains("facestudio generate"))
        #expect(stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1)
    }
}
