import Imaging

/// A rectangle of terminal cells (x = column, y = row, from the top left).
public struct Rect: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = max(width, 0); self.height = max(height, 0)
    }

    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public var isEmpty: Bool { width <= 0 || height <= 0 }

    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }

    /// The rectangle shrunk by `n` cells on every side.
    public func inset(_ n: Int) -> Rect { Rect(x: x + n, y: y + n, width: width - 2 * n, height: height - 2 * n) }

    public var description: String { "\(width)x\(height)+\(x)+\(y)" }
}

/// Terminal column width of characters, decided here rather than by the C library's `wcwidth`
/// (which depends on the process locale): combining marks are 0, East Asian wide and emoji 2.
public enum TextWidth {
    public static func of(_ character: Character) -> Int {
        guard let first = character.unicodeScalars.first else { return 0 }
        return of(first)
    }

    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 1 }  // drawn as a replacement
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return v == 0xAD ? 1 : 0
        default: break
        }
        if wideRanges.contains(where: { $0.contains(v) }) { return 2 }
        return 1
    }

    public static func of(_ text: String) -> Int { text.reduce(0) { $0 + of($1) } }

    private static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0...0x23F0, 0x23F3...0x23F3,
        0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F...0x267F, 0x2693...0x2693, 0x26A1...0x26A1,
        0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE...0x26CE, 0x26D4...0x26D4, 0x26EA...0x26EA,
        0x26F2...0x26F3, 0x26F5...0x26F5, 0x26FA...0x26FA, 0x26FD...0x26FD, 0x2705...0x2705, 0x270A...0x270B,
        0x2728...0x2728, 0x274C...0x274C, 0x274E...0x274E, 0x2753...0x2755, 0x2757...0x2757, 0x2795...0x2797,
        0x27B0...0x27B0, 0x27BF...0x27BF, 0x2B1B...0x2B1C, 0x2B50...0x2B50, 0x2B55...0x2B55,
        0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F,
        0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
        0x1F004...0x1F004, 0x1F0CF...0x1F0CF, 0x1F18E...0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F251,
        0x1F300...0x1F64F, 0x1F680...0x1F6FF, 0x1F7E0...0x1F7EB, 0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF,
        0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]
}

/// One cell: a grapheme (or "" for the right half of a wide one) in a style.
public struct Cell: Equatable, Sendable {
    public var text: String
    public var style: Style
    public init(_ text: String = " ", _ style: Style = .plain) { self.text = text; self.style = style }
}

/// An image to draw as sixel over a rectangle of cells after the text is on screen.
public struct SixelPlacement: Equatable, Sendable {
    public var rect: Rect
    public var image: RGBImage
    public init(rect: Rect, image: RGBImage) { self.rect = rect; self.image = image }
}

/// The whole screen as cells. Panes draw into it; the curses screen copies it out, and tests
/// read it back as text.
public struct ScreenGrid: Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// Where the cursor should be shown (nil hides it).
    public var cursor: (x: Int, y: Int)? = nil
    /// Sixel images to write after the text (at most one per pane).
    public var sixels: [SixelPlacement] = []

    public init(width: Int, height: Int, style: Style = .plain) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        cells = Array(repeating: Cell(" ", style), count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { if x >= 0 && x < width && y >= 0 && y < height { cells[y * width + x] = newValue } }
    }

    public mutating func fill(_ rect: Rect, style: Style, text: String = " ") {
        for y in max(rect.y, 0)..<min(rect.maxY, height) where rect.x < width {
            for x in max(rect.x, 0)..<min(rect.maxX, width) { cells[y * width + x] = Cell(text, style) }
        }
    }

    /// Writes `text` from (x, y), clipped at `limit` (exclusive column, default the right edge).
    /// Control characters show as '?'; a wide character that does not fit is left out.
    /// Returns the column after the last cell written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style, limit: Int? = nil) -> Int {
        let end = min(limit ?? width, width)
        guard y >= 0 && y < height else { return x }
        var col = x
        for ch in text {
            let w = TextWidth.of(ch)
            if w == 0 {
                // Combining mark: attach to the previous cell so it still reaches the terminal.
                if col > x, col - 1 < width, col - 1 >= 0 { cells[y * width + col - 1].text.append(ch) }
                continue
            }
            if col + w > end { break }
            if col >= 0 {
                let shown = ch.unicodeScalars.first.map { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) } == true ? "?" : String(ch)
                cells[y * width + col] = Cell(shown, style)
                if w == 2 && col + 1 < width { cells[y * width + col + 1] = Cell("", style) }
            }
            col += w
        }
        return col
    }

    /// A single-line frame around `rect` with a title in the top border.
    public mutating func frame(_ rect: Rect, style: Style, title: String, titleStyle: Style, right: String = "", rightStyle: Style? = nil) {
        guard rect.width >= 2 && rect.height >= 1 else { return }
        if rect.height == 1 {
            fill(rect, style: style, text: "─")
        } else {
            for x in rect.x + 1..<rect.maxX - 1 {
                self[x, rect.y] = Cell("─", style); self[x, rect.maxY - 1] = Cell("─", style)
            }
            for y in rect.y + 1..<rect.maxY - 1 {
                self[rect.x, y] = Cell("│", style); self[rect.maxX - 1, y] = Cell("│", style)
            }
            self[rect.x, rect.y] = Cell("┌", style); self[rect.maxX - 1, rect.y] = Cell("┐", style)
            self[rect.x, rect.maxY - 1] = Cell("└", style); self[rect.maxX - 1, rect.maxY - 1] = Cell("┘", style)
        }
        let titleEnd = put(" " + title + " ", x: rect.x + 1, y: rect.y, style: titleStyle, limit: rect.maxX - 1)
        if !right.isEmpty {
            let w = TextWidth.of(right) + 2
            let start = rect.maxX - 1 - w
            if start >= titleEnd { put(" " + right + " ", x: start, y: rect.y, style: rightStyle ?? style, limit: rect.maxX - 1) }
        }
    }

    /// Rows as plain text (wide characters once, styles dropped), for tests and snapshots.
    public func lines() -> [String] {
        (0..<height).map { y in (0..<width).map { cells[y * width + $0].text }.joined() }
    }
}
