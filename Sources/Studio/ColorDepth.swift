import Imaging

/// What the terminal can show, best first. Theme colours degrade step by step.
public enum ColorDepth: String, CaseIterable, Sendable, Comparable {
    case truecolor
    case palette256 = "256"
    case basic8 = "8"
    case mono

    public static func < (a: ColorDepth, b: ColorDepth) -> Bool {
        allCases.firstIndex(of: a)! > allCases.firstIndex(of: b)!
    }

    /// From the number of colours terminfo reports (and `NO_COLOR`).
    public static func from(colors: Int, noColor: Bool = false) -> ColorDepth {
        if noColor || colors < 8 { return .mono }
        if colors >= 1 << 24 { return .truecolor }
        if colors >= 256 { return .palette256 }
        return .basic8
    }
}

/// A colour as the terminal takes it: its default, a palette index (0...255), or direct RGB.
public enum TerminalColor: Hashable, Sendable {
    case terminalDefault
    case index(Int)
    case rgb(RGBColor)
}

extension ColorDepth {
    /// The nearest colour this depth can show.
    public func terminalColor(_ color: ThemeColor) -> TerminalColor {
        guard case let .rgb(c) = color else { return .terminalDefault }
        switch self {
        case .truecolor: return .rgb(c)
        case .palette256: return .index(Int(CellRenderer.xterm256Index(c)))
        case .basic8: return .index(Int(CellRenderer.basicColorIndex(c)))
        case .mono: return .terminalDefault
        }
    }

    /// Whether images and heat cells can be drawn as coloured half blocks (else shading characters).
    public var drawsColorBlocks: Bool { self == .truecolor || self == .palette256 }
}

extension Theme {
    /// This theme as it should be drawn at `depth`: on 8 colours a foreground that lands on its
    /// background's colour is replaced by black or white; in monochrome every style keeps only
    /// attributes, and roles that were told apart by colour get one (reverse, bold, underline).
    public func adapted(to depth: ColorDepth) -> Theme {
        var copy = self
        switch depth {
        case .truecolor, .palette256:
            break
        case .basic8:
            for (role, style) in styles {
                guard case let .rgb(fg) = style.fg, case let .rgb(bg) = style.bg,
                      CellRenderer.basicColorIndex(fg) == CellRenderer.basicColorIndex(bg) else { continue }
                var fixed = style
                let bgBasic = CellRenderer.xterm256Color(CellRenderer.basicColorIndex(bg))
                fixed.fg = .rgb(bgBasic.luma > 110 ? RGBColor(0, 0, 0) : RGBColor(255, 255, 255))
                copy.styles[role] = fixed
            }
        case .mono:
            for (role, style) in styles {
                copy.styles[role] = Style(attrs: style.attrs.union(Theme.monoEmphasis(role)))
            }
        }
        return copy
    }

    /// The attributes a role needs to stay distinguishable without colour.
    static func monoEmphasis(_ role: ThemeRole) -> TextAttributes {
        switch role {
        case .borderFocus, .error, .user: return .bold
        case .titleFocus, .keybarKey: return [.reverse, .bold]
        case .keybar, .selection, .cursor: return .reverse
        case .unknownWord: return .underline
        case .dim, .completion, .masked: return .dim
        case .text, .border, .title, .status, .assistant, .help: return []
        }
    }
}
