/// A built-in 5x7 bitmap font for printable ASCII (32...126), used to label contact sheets and
/// previews without any font files. Glyphs sit on a 6-pixel advance (one blank column between
/// letters) and a 9-pixel line pitch; anything outside printable ASCII draws as a hollow box.
public enum BitmapFont {
    public static let glyphWidth = 5
    public static let glyphHeight = 7
    /// Horizontal distance between the left edges of neighbouring glyphs, at scale 1.
    public static let advance = 6
    /// Vertical distance between the tops of consecutive lines, at scale 1.
    public static let lineHeight = 9

    /// Draws `text` with its top-left corner at (`x`, `y`). Each font pixel becomes a
    /// `scale`x`scale` block; `\n` starts a new line. Pixels outside `image` are clipped.
    public static func draw(_ text: String, into image: inout RGBImage, x: Int, y: Int,
                            color: (UInt8, UInt8, UInt8), scale: Int = 1) {
        let s = max(scale, 1)
        for (lineIndex, line) in lines(text).enumerated() {
            let top = y + lineIndex * lineHeight * s
            for (column, character) in line.enumerated() {
                let rows = glyph(for: character)
                let left = x + column * advance * s
                for (row, bits) in rows.enumerated() where bits != 0 {
                    for bit in 0..<glyphWidth where bits & (0x10 >> UInt8(bit)) != 0 {
                        fillBlock(&image, x: left + bit * s, y: top + row * s, size: s, color: color)
                    }
                }
            }
        }
    }

    /// Width in pixels of the widest line of `text` (no trailing gap); 0 for "".
    public static func textWidth(_ text: String, scale: Int = 1) -> Int {
        let widest = lines(text).map(\.count).max() ?? 0
        return widest == 0 ? 0 : (widest * advance - 1) * max(scale, 1)
    }

    /// Height in pixels of `text` (lines × pitch, without the gap under the last line).
    public static func textHeight(_ text: String, scale: Int = 1) -> Int {
        (lines(text).count * lineHeight - (lineHeight - glyphHeight)) * max(scale, 1)
    }

    /// The 7 row bitmasks of `character` (bit 4 = leftmost column).
    static func glyph(for character: Character) -> [UInt8] {
        if let ascii = character.asciiValue, ascii >= 32, ascii <= 126 {
            return glyphs[Int(ascii) - 32]
        }
        return unknownGlyph
    }

    private static func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    private static func fillBlock(_ image: inout RGBImage, x: Int, y: Int, size: Int,
                                  color: (UInt8, UInt8, UInt8)) {
        let x0 = max(x, 0), x1 = min(x + size, image.width)
        let y0 = max(y, 0), y1 = min(y + size, image.height)
        guard x0 < x1, y0 < y1 else { return }
        for py in y0..<y1 {
            for px in x0..<x1 { image.setPixel(x: px, y: py, color) }
        }
    }

    /// Parses the drawings below into row bitmasks once.
    static let glyphs: [[UInt8]] = glyphDrawings.map(parse)
    private static let unknownGlyph = parse("##### #...# #...# #...# #...# #...# #####")

    static func parse(_ drawing: String) -> [UInt8] {
        drawing.split(separator: " ").map { row in
            row.reduce(UInt8(0)) { bits, c in (bits << 1) | (c == "#" ? 1 : 0) }
        }
    }

    /// One entry per code 32...126: seven rows, top to bottom, of five columns ('#' = ink).
    static let glyphDrawings: [String] = [
        "..... ..... ..... ..... ..... ..... .....",  // space
        "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#..",  // !
        ".#.#. .#.#. ..... ..... ..... ..... .....",  // "
        ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.",  // #
        "..#.. .#### #.#.. .###. ..#.# ####. ..#..",  // $
        "##... ##..# ...#. ..#.. .#... #..## ...##",  // %
        ".##.. #..#. #.#.. .#... #.#.# #..#. .##.#",  // &
        "..#.. ..#.. ..... ..... ..... ..... .....",  // '
        "...#. ..#.. .#... .#... .#... ..#.. ...#.",  // (
        ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",  // )
        "..... ..#.. #.#.# .###. #.#.# ..#.. .....",  // *
        "..... ..#.. ..#.. ##### ..#.. ..#.. .....",  // +
        "..... ..... ..... ..... .##.. ..#.. .#...",  // ,
        "..... ..... ..... ##### ..... ..... .....",  // -
        "..... ..... ..... ..... ..... .##.. .##..",  // .
        "..... ....# ...#. ..#.. .#... #.... .....",  // /
        ".###. #...# #..## #.#.# ##..# #...# .###.",  // 0
        "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",  // 1
        ".###. #...# ....# ...#. ..#.. .#... #####",  // 2
        "##### ...#. ..#.. ...#. ....# #...# .###.",  // 3
        "...#. ..##. .#.#. #..#. ##### ...#. ...#.",  // 4
        "##### #.... ####. ....# ....# #...# .###.",  // 5
        "..##. .#... #.... ####. #...# #...# .###.",  // 6
        "##### ....# ...#. ..#.. .#... .#... .#...",  // 7
        ".###. #...# #...# .###. #...# #...# .###.",  // 8
        ".###. #...# #...# .#### ....# ...#. .##..",  // 9
        "..... .##.. .##.. ..... .##.. .##.. .....",  // :
        "..... .##.. .##.. ..... .##.. ..#.. .#...",  // ;
        "...#. ..#.. .#... #.... .#... ..#.. ...#.",  // <
        "..... ..... ##### ..... ##### ..... .....",  // =
        ".#... ..#.. ...#. ....# ...#. ..#.. .#...",  // >
        ".###. #...# ....# ...#. ..#.. ..... ..#..",  // ?
        ".###. #...# ....# .##.# #.#.# #.#.# .###.",  // @
        ".###. #...# #...# ##### #...# #...# #...#",  // A
        "####. #...# #...# ####. #...# #...# ####.",  // B
        ".###. #...# #.... #.... #.... #...# .###.",  // C
        "###.. #..#. #...# #...# #...# #..#. ###..",  // D
        "##### #.... #.... ####. #.... #.... #####",  // E
        "##### #.... #.... ####. #.... #.... #....",  // F
        ".###. #...# #.... #.### #...# #...# .####",  // G
        "#...# #...# #...# ##### #...# #...# #...#",  // H
        ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",  // I
        "..### ...#. ...#. ...#. ...#. #..#. .##..",  // J
        "#...# #..#. #.#.. ##... #.#.. #..#. #...#",  // K
        "#.... #.... #.... #.... #.... #.... #####",  // L
        "#...# ##.## #.#.# #.#.# #...# #...# #...#",  // M
        "#...# #...# ##..# #.#.# #..## #...# #...#",  // N
        ".###. #...# #...# #...# #...# #...# .###.",  // O
        "####. #...# #...# ####. #.... #.... #....",  // P
        ".###. #...# #...# #...# #.#.# #..#. .##.#",  // Q
        "####. #...# #...# ####. #.#.. #..#. #...#",  // R
        ".#### #.... #.... .###. ....# ....# ####.",  // S
        "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",  // T
        "#...# #...# #...# #...# #...# #...# .###.",  // U
        "#...# #...# #...# #...# #...# .#.#. ..#..",  // V
        "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",  // W
        "#...# #...# .#.#. ..#.. .#.#. #...# #...#",  // X
        "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",  // Y
        "##### ....# ...#. ..#.. .#... #.... #####",  // Z
        ".###. .#... .#... .#... .#... .#... .###.",  // [
        "..... #.... .#... ..#.. ...#. ....# .....",  // backslash
        ".###. ...#. ...#. ...#. ...#. ...#. .###.",  // ]
        "..#.. .#.#. #...# ..... ..... ..... .....",  // ^
        "..... ..... ..... ..... ..... ..... #####",  // _
        ".#... ..#.. ..... ..... ..... ..... .....",  // `
        "..... ..... .###. ....# .#### #...# .####",  // a
        "#.... #.... #.##. ##..# #...# #...# ####.",  // b
        "..... ..... .###. #.... #.... #...# .###.",  // c
        "....# ....# .##.# #..## #...# #...# .####",  // d
        "..... ..... .###. #...# ##### #.... .###.",  // e
        "..##. .#..# .#... ###.. .#... .#... .#...",  // f
        "..... .#### #...# #...# .#### ....# .###.",  // g
        "#.... #.... #.##. ##..# #...# #...# #...#",  // h
        "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",  // i
        "...#. ..... ..##. ...#. ...#. #..#. .##..",  // j
        "#.... #.... #..#. #.#.. ##... #.#.. #..#.",  // k
        ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",  // l
        "..... ..... ##.#. #.#.# #.#.# #...# #...#",  // m
        "..... ..... #.##. ##..# #...# #...# #...#",  // n
        "..... ..... .###. #...# #...# #...# .###.",  // o
        "..... ..... ####. #...# ####. #.... #....",  // p
        "..... ..... .##.# #..## .#### ....# ....#",  // q
        "..... ..... #.##. ##..# #.... #.... #....",  // r
        "..... ..... .###. #.... .###. ....# ####.",  // s
        ".#... .#... ###.. .#... .#... .#..# ..##.",  // t
        "..... ..... #...# #...# #...# #..## .##.#",  // u
        "..... ..... #...# #...# #...# .#.#. ..#..",  // v
        "..... ..... #...# #...# #.#.# #.#.# .#.#.",  // w
        "..... ..... #...# .#.#. ..#.. .#.#. #...#",  // x
        "..... ..... #...# #...# .#### ....# .###.",  // y
        "..... ..... ##### ...#. ..#.. .#... #####",  // z
        "...#. ..#.. ..#.. .#... ..#.. ..#.. ...#.",  // {
        "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",  // |
        ".#... ..#.. ..#.. ...#. ..#.. ..#.. .#...",  // }
        "..... ..... .#... #.#.# ...#. ..... .....",  // ~
    ]
}
