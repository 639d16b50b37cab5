/// The two colours of one text cell drawn as `▀`: foreground = `top` pixel, background =
/// `bottom` pixel. A cell is one pixel wide and two tall, so pixels come out roughly square.
public struct CellColor: Hashable, Sendable {
    public var top: RGBColor
    public var bottom: RGBColor
    public init(top: RGBColor, bottom: RGBColor) { self.top = top; self.bottom = bottom }
}

/// One cell of the 8-colour fallback: a shading character (brightness) in a basic ANSI colour
/// (hue; 0 black, 1 red, 2 green, 3 yellow, 4 blue, 5 magenta, 6 cyan, 7 white).
public struct ShadedCell: Hashable, Sendable {
    public var character: Character
    public var color: UInt8
    public init(character: Character, color: UInt8) { self.character = character; self.color = color }
}

/// Text-cell renderings of images for terminals without sixel: pure functions from pixels to
/// cells / strings (no curses), so the studio draws them with whatever library it uses and the
/// CLI can print them. Grids are `rows` arrays of `columns` cells, top row first.
public enum CellRenderer {
    /// The glyph `halfBlocks` cells are meant for (U+2580 UPPER HALF BLOCK).
    public static let upperHalfBlock: Character = "\u{2580}"
    /// Shading characters from empty to full ink.
    public static let shadingRamp: [Character] = Array(" .:-=+*#%@")

    public enum ColorMode: Sendable {
        /// 24-bit `38;2;r;g;b` escapes (`COLORTERM=truecolor`, `*-direct` terminfo).
        case truecolor
        /// xterm 256-colour `38;5;n` escapes, colours from the 6x6x6 cube and grey ramp.
        case palette256
    }

    // MARK: Cell grids

    /// `rows` x `columns` cells; the image is area-averaged to `columns` x `2·rows` pixels first.
    /// Empty when `columns` or `rows` is not positive.
    public static func halfBlocks(_ image: RGBImage, columns: Int, rows: Int) -> [[CellColor]] {
        guard columns > 0, rows > 0 else { return [] }
        let small = ImageOps.resize(image, width: columns, height: 2 * rows)
        return (0..<small.height / 2).map { row in
            (0..<small.width).map { x in
                CellColor(top: RGBColor(small.pixel(x: x, y: 2 * row)),
                          bottom: RGBColor(small.pixel(x: x, y: 2 * row + 1)))
            }
        }
    }

    /// 8-colour fallback: one sample per cell (image area-averaged to `columns` x `rows`; pick
    /// `rows ≈ columns·h/(2w)` for the usual 1:2 cells). Brightness picks the character from
    /// `shadingRamp` (`inverted` for dark-on-light themes); the colour carries only the hue.
    public static func shaded(_ image: RGBImage, columns: Int, rows: Int, inverted: Bool = false) -> [[ShadedCell]] {
        guard columns > 0, rows > 0 else { return [] }
        let small = ImageOps.resize(image, width: columns, height: rows)
        return (0..<small.height).map { y in
            (0..<small.width).map { x in
                let c = RGBColor(small.pixel(x: x, y: y))
                return ShadedCell(character: shadingCharacter(c, inverted: inverted), color: hueColorIndex(c))
            }
        }
    }

    /// Plain-text lines (no escapes) from the shading ramp: the last-resort rendering.
    public static func ascii(_ image: RGBImage, columns: Int, rows: Int, inverted: Bool = false) -> [String] {
        shaded(image, columns: columns, rows: rows, inverted: inverted).map { String($0.map(\.character)) }
    }

    /// The largest half-block grid within `columns` x `rows` cells that keeps the image's aspect
    /// ratio (one cell = 1x2 pixels). Both results are at least 1.
    public static func fit(width: Int, height: Int, columns: Int, rows: Int) -> (columns: Int, rows: Int) {
        guard width > 0, height > 0, columns > 0, rows > 0 else { return (1, 1) }
        let scale = min(Double(columns) / Double(width), Double(2 * rows) / Double(height))
        return (min(max(Int((Double(width) * scale).rounded()), 1), columns),
                min(max(Int((Double(height) * scale / 2).rounded()), 1), rows))
    }

    // MARK: Colour mapping

    /// Character from `shadingRamp` by Rec. 601 luma (dark = sparse, unless `inverted`).
    public static func shadingCharacter(_ color: RGBColor, inverted: Bool = false) -> Character {
        let level = min(Int(color.luma * Double(shadingRamp.count) / 256), shadingRamp.count - 1)
        return shadingRamp[inverted ? shadingRamp.count - 1 - level : level]
    }

    /// The six channel levels of the xterm 6x6x6 cube (indices 16...231).
    public static let cubeLevels: [UInt8] = [0, 95, 135, 175, 215, 255]

    /// Nearest xterm 256-colour index among the cube (16...231) and the grey ramp (232...255);
    /// the 16 system colours are skipped because terminals redefine them. Cube colours map exactly.
    public static func xterm256Index(_ color: RGBColor) -> UInt8 {
        func level(_ v: UInt8) -> Int { v < 48 ? 0 : v < 115 ? 1 : (Int(v) - 35) / 40 }
        let (r, g, b) = (level(color.r), level(color.g), level(color.b))
        let cubeIndex = UInt8(16 + 36 * r + 6 * g + b)
        let average = (Int(color.r) + Int(color.g) + Int(color.b)) / 3
        let greyIndex = UInt8(232 + min(max((average - 8 + 5) / 10, 0), 23))
        let cubeDistance = color.distanceSquared(to: xterm256Color(cubeIndex))
        let greyDistance = color.distanceSquared(to: xterm256Color(greyIndex))
        return greyDistance < cubeDistance ? greyIndex : cubeIndex
    }

    /// The colour xterm shows for `index` (its default values for the 16 system colours).
    public static func xterm256Color(_ index: UInt8) -> RGBColor {
        switch index {
        case 0..<16: return RGBColor(systemColors[Int(index)])
        case 16..<232:
            let i = Int(index) - 16
            return RGBColor(cubeLevels[i / 36], cubeLevels[(i / 6) % 6], cubeLevels[i % 6])
        default:
            let v = UInt8(8 + 10 * (Int(index) - 232))
            return RGBColor(v, v, v)
        }
    }

    private static let systemColors: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// Nearest of the 8 basic ANSI colours taken as the corners of the RGB cube: each channel is
    /// on when ≥ 128. Index = red + 2·green + 4·blue (0 black ... 7 white), as in `ESC[3nm`.
    public static func basicColorIndex(_ color: RGBColor) -> UInt8 {
        (color.r >= 128 ? 1 : 0) | (color.g >= 128 ? 2 : 0) | (color.b >= 128 ? 4 : 0)
    }

    /// The basic colour of `color`'s hue: brightened until its largest channel is 255, then
    /// `basicColorIndex`, so dark red stays red instead of turning black. Black gives white
    /// (its character is blank anyway).
    public static func hueColorIndex(_ color: RGBColor) -> UInt8 {
        let peak = Int(max(color.r, color.g, color.b))
        guard peak > 0 else { return 7 }
        func lift(_ v: UInt8) -> UInt8 { UInt8(Int(v) * 255 / peak) }
        return basicColorIndex(RGBColor(lift(color.r), lift(color.g), lift(color.b)))
    }

    // MARK: ANSI text

    /// Half-block rows as ANSI text, one line per row, each ending in a colour reset and "\n".
    /// Escapes are only emitted when a colour changes.
    public static func ansi(_ cells: [[CellColor]], mode: ColorMode) -> String {
        var text = ""
        for row in cells {
            var lastTop: RGBColor? = nil, lastBottom: RGBColor? = nil
            for cell in row {
                if cell.top != lastTop { text += "\u{1B}[" + sgr(cell.top, foreground: true, mode) + "m"; lastTop = cell.top }
                if cell.bottom != lastBottom {
                    text += "\u{1B}[" + sgr(cell.bottom, foreground: false, mode) + "m"; lastBottom = cell.bottom
                }
                text.append(upperHalfBlock)
            }
            text += "\u{1B}[0m\n"
        }
        return text
    }

    /// Shaded rows as ANSI text with basic foreground colours (`ESC[30m`...`ESC[37m`).
    public static func ansi(_ cells: [[ShadedCell]]) -> String {
        var text = ""
        for row in cells {
            var last: UInt8? = nil
            for cell in row {
                if cell.color != last { text += "\u{1B}[3\(cell.color)m"; last = cell.color }
                text.append(cell.character)
            }
            text += "\u{1B}[0m\n"
        }
        return text
    }

    private static func sgr(_ c: RGBColor, foreground: Bool, _ mode: ColorMode) -> String {
        let base = foreground ? "38" : "48"
        switch mode {
        case .truecolor: return "\(base);2;\(c.r);\(c.g);\(c.b)"
        case .palette256: return "\(base);5;\(xterm256Index(c))"
        }
    }
}
