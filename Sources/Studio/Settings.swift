import Foundation
import Support

/// What the studio remembers between runs (`settings.json` in the config folder).
public struct Settings: Codable, Equatable, Sendable {
    public var theme: String?
    /// Prompts sent for generation, oldest first (the prompt pane's history).
    public var history: [String]

    public init(theme: String? = nil, history: [String] = []) {
        self.theme = theme
        self.history = history
    }

    /// Longest history kept on disk.
    public static let historyLimit = 200

    /// `$FACESTUDIO_CONFIG`, else `$XDG_CONFIG_HOME/facestudio`, else `~/.config/facestudio`.
    public static func configDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment["FACESTUDIO_CONFIG"], !dir.isEmpty { return dir }
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/facestudio" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.config/facestudio"
    }

    public static func defaultPath() -> String { configDirectory() + "/settings.json" }

    /// Reads settings; a missing file gives the defaults, a broken one an error naming it.
    public static func load(path: String) throws -> Settings {
        guard FileManager.default.fileExists(atPath: path) else { return Settings() }
        let bytes = try AtomicFile.read(path: path, maxBytes: 1 << 22)
        do {
            return try JSONDecoder().decode(Settings.self, from: Data(bytes))
        } catch {
            throw ThemeError("\(path): not a settings file (\(error.localizedDescription))")
        }
    }

    /// Writes atomically (temp file + rename), creating the folder.
    public func save(path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var trimmed = self
        trimmed.history = Array(history.suffix(Settings.historyLimit))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(trimmed)), to: path)
    }
}
