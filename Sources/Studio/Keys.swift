/// A key press, independent of how the terminal encoded it.
public struct Key: Hashable, Sendable, CustomStringConvertible {
    public enum Code: Hashable, Sendable {
        case char(Character)
        case up, down, left, right, home, end, pageUp, pageDown
        case backspace, delete, insert, enter, tab, escape
        case function(Int)
    }

    public var code: Code
    public var ctrl = false
    public var alt = false
    public var shift = false

    public init(_ code: Code, ctrl: Bool = false, alt: Bool = false, shift: Bool = false) {
        self.code = code; self.ctrl = ctrl; self.alt = alt; self.shift = shift
    }

    public static func char(_ c: Character) -> Key { Key(.char(c)) }
    public static func ctrl(_ c: Character) -> Key { Key(.char(c), ctrl: true) }
    public static func alt(_ c: Character) -> Key { Key(.char(c), alt: true) }
    public static let up = Key(.up), down = Key(.down), left = Key(.left), right = Key(.right)
    public static let home = Key(.home), end = Key(.end), pageUp = Key(.pageUp), pageDown = Key(.pageDown)
    public static let backspace = Key(.backspace), delete = Key(.delete), enter = Key(.enter)
    public static let tab = Key(.tab), backTab = Key(.tab, shift: true), escape = Key(.escape)
    public static func f(_ n: Int) -> Key { Key(.function(n)) }

    /// A printable character typed without Ctrl/Alt, if this is one.
    public var typedCharacter: Character? {
        guard case let .char(c) = code, !ctrl, !alt else { return nil }
        return c
    }

    public var description: String {
        var prefix = ""
        if ctrl { prefix += "Ctrl-" }
        if alt { prefix += "Alt-" }
        if shift { prefix += "Shift-" }
        switch code {
        case .char(" "): return prefix + "Space"
        case .char(let c): return prefix + (ctrl ? String(c).uppercased() : String(c))
        case .up: return prefix + "↑"
        case .down: return prefix + "↓"
        case .left: return prefix + "←"
        case .right: return prefix + "→"
        case .home: return prefix + "Home"
        case .end: return prefix + "End"
        case .pageUp: return prefix + "PgUp"
        case .pageDown: return prefix + "PgDn"
        case .backspace: return prefix + "Backspace"
        case .delete: return prefix + "Del"
        case .insert: return prefix + "Ins"
        case .enter: return prefix + "Enter"
        case .tab: return prefix + "Tab"
        case .escape: return prefix + "Esc"
        case .function(let n): return prefix + "F\(n)"
        }
    }
}

/// Turns what curses' `wget_wch` returns into `Key`s.
///
/// Plain characters arrive as code points; control characters as 1–31; an Alt chord as ESC
/// followed at once by the key (the caller passes `alt: true` when it saw that ESC);
/// special keys as curses key codes (`KEY_LEFT`, …) and modified arrows as the codes curses
/// assigns at run time to terminfo names like `kLFT5`, which the caller registers by name.
public struct KeyDecoder: Sendable {
    /// Curses key code → key, for the fixed KEY_* codes and the run-time extended ones.
    public var special: [Int32: Key] = [:]

    public init() {}

    /// Extended key names (terminfo) and the key each stands for: 5 = Ctrl, 3 = Alt, 2 = Shift.
    public static let extendedNames: [(String, Key)] = [
        ("kLFT5", Key(.left, ctrl: true)), ("kRIT5", Key(.right, ctrl: true)),
        ("kUP5", Key(.up, ctrl: true)), ("kDN5", Key(.down, ctrl: true)),
        ("kHOM5", Key(.home, ctrl: true)), ("kEND5", Key(.end, ctrl: true)), ("kDC5", Key(.delete, ctrl: true)),
        ("kLFT3", Key(.left, alt: true)), ("kRIT3", Key(.right, alt: true)),
        ("kUP3", Key(.up, alt: true)), ("kDN3", Key(.down, alt: true)),
        ("kLFT", Key(.left, shift: true)), ("kRIT", Key(.right, shift: true)),
    ]

    /// A character code from `wget_wch` (not a KEY_ code).
    public func character(_ value: UInt32, alt: Bool = false) -> Key? {
        var key: Key
        switch value {
        case 9: key = .tab
        case 10, 13: key = .enter
        case 8, 127: key = .backspace
        case 27: key = .escape
        case 0: key = .ctrl(" ")
        case 31: key = .ctrl("_")
        case 1...26: key = .ctrl(Character(Unicode.Scalar(value + 96)!))
        case 28...30: return nil
        default:
            guard let scalar = Unicode.Scalar(value) else { return nil }
            key = .char(Character(scalar))
        }
        key.alt = alt
        return key
    }

    /// A curses key code (`KEY_CODE_YES` case).
    public func keyCode(_ code: Int32, alt: Bool = false) -> Key? {
        guard var key = special[code] else { return nil }
        if alt { key.alt = true }
        return key
    }
}
