import Foundation

/// Finds the data the program ships beside its binary (the model in `Models`, the studio's
/// `Themes`) from wherever it is run: a folder named on the command line or in the
/// environment, the working folder, an installed tree (`<prefix>/bin/facestudio` reads
/// `<prefix>/share/facestudio/<name>`) or the checkout a development binary was built in
/// (`<checkout>/.build/…/facestudio` reads `<checkout>/<name>`).
public struct ResourceSearch: Sendable {
    public var environment: [String: String]
    public var currentDirectory: String
    /// The running executable, symbolic links resolved.
    public var executable: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                currentDirectory: String = FileManager.default.currentDirectoryPath,
                executable: String = ResourceSearch.runningExecutable()) {
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.executable = executable
    }

    /// The folder under `<prefix>/share` that `make install` fills.
    public static let installFolder = "facestudio"

    /// The running binary's path: `/proc/self/exe` where there is one (a binary found through
    /// `PATH` has only its bare name in `argv[0]`), else `argv[0]`.
    public static func runningExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        let first = CommandLine.arguments.first ?? ""
        return URL(fileURLWithPath: first).resolvingSymlinksInPath().path
    }

    /// Folders for `name` that belong to the executable: `<prefix>/share/facestudio/<name>` when
    /// it sits in `<prefix>/bin`, and `<checkout>/<name>` when it sits below `<checkout>/.build`.
    public func besideExecutable(_ name: String) -> [String] {
        let binary = URL(fileURLWithPath: executable).standardizedFileURL
        let folder = binary.deletingLastPathComponent()
        var found: [String] = []
        if folder.lastPathComponent == "bin" {
            found.append(folder.deletingLastPathComponent().appendingPathComponent("share/\(Self.installFolder)/\(name)").path)
        }
        var ancestor = folder
        while ancestor.path != "/" && !ancestor.path.isEmpty {
            if ancestor.lastPathComponent == ".build" {
                found.append(ancestor.deletingLastPathComponent().appendingPathComponent(name).path)
                break
            }
            ancestor.deleteLastPathComponent()
        }
        return found
    }

    /// The folders searched for `name` when no folder was named: `./<name>`, then beside the
    /// executable, without repeats.
    public func defaultFolders(_ name: String) -> [String] {
        // The working folder's copy by its relative name: what a command reports as the model
        // directory stays what it was when `Models` was the only place looked at.
        var seen = Set<String>()
        let local = URL(fileURLWithPath: currentDirectory).appendingPathComponent(name).standardizedFileURL.path
        return [name] + besideExecutable(name).filter { $0 != local && seen.insert($0).inserted }
    }

    /// The folder to read `name` from, in this order: `explicit` (a command-line option), the
    /// environment variable `variable`, then `defaultFolders(name)`, the first that holds
    /// `marker`. A folder named on the command line or in the environment is used as given
    /// (its reader reports what is wrong with it); when no default folder holds `marker`, the
    /// error lists every place searched.
    public func locate(_ name: String, explicit: String?, variable: String, marker: String, option: String) throws -> String {
        if let explicit { return explicit }
        if let fromEnvironment = environment[variable], !fromEnvironment.isEmpty { return fromEnvironment }
        let folders = defaultFolders(name)
        if let found = folders.first(where: { exists($0 + "/" + marker) }) { return found }
        throw ResourceSearchError(
            "no \(name) folder found: looked in \(folders.joined(separator: ", ")) (none holds \(marker)); give \(option) DIR or set \(variable)")
    }

    /// Whether `path` exists; a relative path is taken from `currentDirectory`.
    func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path.hasPrefix("/") ? path : currentDirectory + "/" + path)
    }
}

public struct ResourceSearchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
