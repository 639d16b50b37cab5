import Foundation

/// Running the built `facestudio` binary from tests (CLI and tmux tests).
public enum Programs {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(_ d: String) { description = d }
    }

    /// The repository checkout these tests belong to.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The `facestudio` beside this test bundle (same build folder), else any build folder's.
    public static func facestudio() throws -> String {
        let here = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        var candidates = [here.path + "/facestudio", here.deletingLastPathComponent().path + "/facestudio"]
        if let builds = try? FileManager.default.contentsOfDirectory(atPath: repositoryRoot) {
            for b in builds.sorted() where b.hasPrefix(".build") {
                candidates += ["release", "debug"].map { "\(repositoryRoot)/\(b)/\($0)/facestudio" }
            }
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure("no built facestudio binary (looked in \(candidates.joined(separator: ", "))); run swift build first")
        }
        return found
    }

    /// Runs a program, returns its stdout; throws with stderr on a non-zero exit. Spawned directly
    /// and reaped with `waitpid`, output through files: `tmux new-session` leaves a server behind
    /// that inherits descriptors, which makes pipe- or Foundation.Process-based waits hang.
    @discardableResult
    public static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> String {
        let base = NSTemporaryDirectory() + "/facestudio-run-\(UInt64.random(in: 0...UInt64.max))"
        defer { unlink(base + ".out"); unlink(base + ".err") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, base + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, base + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in extra { env[k] = v }
        var envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, nil, &argv, &envp)
        guard spawned == 0 else { throw Failure("cannot run \(arguments[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exitCode == 0 else {
            let errors = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
            throw Failure("\(arguments.joined(separator: " ")) exited \(exitCode): \(errors)")
        }
        return output
    }
}
