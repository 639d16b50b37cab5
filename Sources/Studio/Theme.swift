import Foundation
import Imaging
import Support

/// A colour as a theme names it: the terminal's own default, or an RGB value that is degraded
/// to whatever the terminal can show (`ColorDepth`).
public enum ThemeColor: Hashable, Sendable, CustomStringConvertible {
    case terminalDefault
    case rgb(RGBColor)

    public var description: String {
        switch self {
        case .terminalDefault: return "default"
        case .rgb(let c): return c.description
        }
    }
}

/// Text attributes, independent of curses' bit layout.
public struct TextAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = TextAttributes(rawValue: 1)
    public static let underline = TextAttributes(rawValue: 2)
    public static let reverse = TextAttributes(rawValue: 4)
    public static let dim = TextAttributes(rawValue: 8)

    static let names: [(String, TextAttributes)] = [("bold", .bold), ("underline", .underline), ("reverse", .reverse), ("dim", .dim)]
}

/// How one kind of text looks: foreground, background, attributes.
public struct Style: Hashable, Sendable {
    public var fg: ThemeColor
    public var bg: ThemeColor
    public var attrs: TextAttributes

    public init(fg: ThemeColor = .terminalDefault, bg: ThemeColor = .terminalDefault, attrs: TextAttributes = []) {
        self.fg = fg; self.bg = bg; self.attrs = attrs
    }

    public static let plain = Style()
}

/// The named styles the studio draws with. Each theme file sets every one of them.
public enum ThemeRole: String, CaseIterable, Sendable {
    case text, dim, border, borderFocus = "border_focus", title, titleFocus = "title_focus"
    case keybar, keybarKey = "keybar_key", status, error, unknownWord = "unknown_word"
    case completion, selection, cursor, user, assistant, masked, help
}

/// Colour scales and palettes a theme sets besides the styles.
public enum ThemeScale: String, CaseIterable, Sendable {
    /// Heatmap stops from "no tokens" to "every token" (2 or more colours).
    case heat
    /// One colour per routed expert, for the expert overlay (8 or more colours).
    case experts
}

/// A theme file could not be used. `description` names the file and line.
public struct ThemeError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A studio colour theme, read from a small text file (see `Themes/dark.theme`):
///
///     # comment lines start with '#'
///     name = dark
///     text = #d0d0d0 on #1c1c1c
///     unknown_word = #ff5f5f underline
///     heat = #101830 #2040a0 #20a080 #f0d000 #ff4000
///
/// A style is `FG [on BG] [bold] [underline] [reverse] [dim]`, colours as `#rrggbb` or `default`.
public struct Theme: Equatable, Sendable {
    public var name: String
    public var styles: [ThemeRole: Style]
    public var heat: [RGBColor]
    public var expertColors: [RGBColor]

    public func style(_ role: ThemeRole) -> Style { styles[role] ?? .plain }

    /// Parses a theme file's text; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws -> Theme {
        var name: String? = nil
        var styles: [ThemeRole: Style] = [:]
        var scales: [ThemeScale: [RGBColor]] = [:]
        var seen = Set<String>()
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            let at = "\(source):\(index + 1)"
            if line.isEmpty || line.hasPrefix("#") { continue }  // keys never start with '#'

            guard let equals = line.firstIndex(of: "=") else { throw ThemeError("\(at): expected 'key = value', found '\(line)'") }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard seen.insert(key).inserted else { throw ThemeError("\(at): '\(key)' is set twice") }
            if key == "name" {
                guard !value.isEmpty else { throw ThemeError("\(at): name is empty") }
                name = value
            } else if let role = ThemeRole(rawValue: key) {
                styles[role] = try parseStyle(value, at: at)
            } else if let scale = ThemeScale(rawValue: key) {
                let colors = try value.split(separator: " ", omittingEmptySubsequences: true).map { word -> RGBColor in
                    guard let c = parseHex(String(word)) else { throw ThemeError("\(at): '\(word)' is not a #rrggbb colour") }
                    return c
                }
                let needed = scale == .heat ? 2 : 8
                guard colors.count >= needed else { throw ThemeError("\(at): \(key) needs at least \(needed) colours, found \(colors.count)") }
                scales[scale] = colors
            } else {
                let known = (["name"] + ThemeRole.allCases.map(\.rawValue) + ThemeScale.allCases.map(\.rawValue)).joined(separator: ", ")
                throw ThemeError("\(at): unknown key '\(key)' (known: \(known))")
            }
        }
        guard let name else { throw ThemeError("\(source): missing 'name'") }
        let missing = ThemeRole.allCases.filter { styles[$0] == nil }.map(\.rawValue)
            + ThemeScale.allCases.filter { scales[$0] == nil }.map(\.rawValue)
        guard missing.isEmpty else { throw ThemeError("\(source): missing \(missing.joined(separator: ", "))") }
        return Theme(name: name, styles: styles, heat: scales[.heat]!, expertColors: scales[.experts]!)
    }

    static func parseStyle(_ value: String, at: String) throws -> Style {
        var words = value.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard !words.isEmpty else { throw ThemeError("\(at): empty style") }
        var style = Style()
        style.fg = try parseColor(words.removeFirst(), at: at)
        if words.first == "on" {
            words.removeFirst()
            guard !words.isEmpty else { throw ThemeError("\(at): 'on' needs a background colour") }
            style.bg = try parseColor(words.removeFirst(), at: at)
        }
        for word in words {
            guard let attr = TextAttributes.names.first(where: { $0.0 == word })?.1 else {
                throw ThemeError("\(at): unknown attribute '\(word)' (known: bold, underline, reverse, dim)")
            }
            style.attrs.insert(attr)
        }
        return style
    }

    static func parseColor(_ word: String, at: String) throws -> ThemeColor {
        if word == "default" { return .terminalDefault }
        guard let c = parseHex(word) else { throw ThemeError("\(at): '\(word)' is not a colour (#rrggbb or default)") }
        return .rgb(c)
    }

    static func parseHex(_ word: String) -> RGBColor? {
        guard word.count == 7, word.first == "#", let v = UInt32(word.dropFirst(), radix: 16) else { return nil }
        return RGBColor(UInt8(v >> 16), UInt8((v >> 8) & 255), UInt8(v & 255))
    }
}

/// Finds theme files (`NAME.theme`) in a list of folders, first match wins.
public struct ThemeLibrary: Sendable {
    public var directories: [String]

    public init(directories: [String]) { self.directories = directories }

    /// `$FACESTUDIO_THEMES`, `./Themes`, the installed themes (`<prefix>/share/facestudio/Themes`
    /// for `<prefix>/bin/facestudio`), the checkout's `Themes` for a binary built in it, and the
    /// user's config folder (`ResourceSearch`, as the model is found).
    public static func standard(search: ResourceSearch = ResourceSearch()) -> ThemeLibrary {
        var dirs: [String] = []
        if let env = search.environment["FACESTUDIO_THEMES"], !env.isEmpty { dirs.append(env) }
        dirs.append(search.currentDirectory + "/Themes")
        dirs += search.besideExecutable("Themes")
        dirs.append(Settings.configDirectory(environment: search.environment) + "/themes")
        var seen = Set<String>()
        return ThemeLibrary(directories: dirs.filter { seen.insert($0).inserted })
    }

    /// Theme names found, sorted.
    public func available() throws -> [String] {
        var names = Set<String>()
        for dir in directories {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { continue }
            for f in files where f.hasSuffix(".theme") { names.insert(String(f.dropLast(6))) }
        }
        return names.sorted()
    }

    public func path(of name: String) -> String? {
        directories.map { "\($0)/\(name).theme" }.first { FileManager.default.fileExists(atPath: $0) }
    }

    public func load(_ name: String) throws -> Theme {
        guard !name.contains("/"), let path = path(of: name) else {
            let known = (try? available()) ?? []
            throw ThemeError("theme '\(name)' not found (available: \(known.isEmpty ? "none" : known.joined(separator: ", ")); searched \(directories.joined(separator: ", ")))")
        }
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path: path, maxBytes: 1 << 20) } catch { throw ThemeError("\(error)") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ThemeError("\(path): not UTF-8 text") }
        return try Theme.parse(text, source: path)
    }
}
