import Testing
@testable import Imaging

@Suite struct CellRendererTests {
    @Test func cubeAndGreyColoursMapExactly() {
        for index in 16...255 {
            let colour = CellRenderer.xterm256Color(UInt8(index))
            #expect(CellRenderer.xterm256Index(colour) == UInt8(index), "\(index) \(colour)")
        }
        #expect(CellRenderer.xterm256Color(16 + 36 * 5 + 6 * 1 + 2) == RGBColor(255, 95, 135))
    }

    @Test func xterm256PicksTheNearerOfCubeAndGrey() {
        // Near-grey 120: cube level 135 is 15 away, grey ramp 118 only 2.
        #expect(CellRenderer.xterm256Index(RGBColor(120, 120, 120)) == 243)
        // Saturated colours stay in the cube.
        #expect(CellRenderer.xterm256Index(RGBColor(250, 10, 10)) == 196)
        var rng = SplitMix64(seed: 50)
        for _ in 0..<500 {
            let c = RGBColor(UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 0...255, using: &rng))
            let chosen = c.distanceSquared(to: CellRenderer.xterm256Color(CellRenderer.xterm256Index(c)))
            let best = (16...255).map { c.distanceSquared(to: CellRenderer.xterm256Color(UInt8($0))) }.min()!
            #expect(chosen == best)
        }
    }

    @Test func basicColours() {
        #expect(CellRenderer.basicColorIndex(RGBColor(0, 0, 0)) == 0)
        #expect(CellRenderer.basicColorIndex(RGBColor(255, 0, 0)) == 1)
        #expect(CellRenderer.basicColorIndex(RGBColor(0, 200, 0)) == 2)
        #expect(CellRenderer.basicColorIndex(RGBColor(0, 0, 130)) == 4)
        #expect(CellRenderer.basicColorIndex(RGBColor(240, 240, 240)) == 7)
        #expect(CellRenderer.hueColorIndex(RGBColor(90, 10, 10)) == 1)  // dark red is still red
        #expect(CellRenderer.hueColorIndex(RGBColor(40, 40, 40)) == 7)
    }

    @Test func halfBlocksCarryTopAndBottomPixels() {
        var image = RGBImage(width: 2, height: 4)
        let colours: [(UInt8, UInt8, UInt8)] = [(1, 0, 0), (2, 0, 0), (3, 0, 0), (4, 0, 0), (5, 0, 0), (6, 0, 0), (7, 0, 0), (8, 0, 0)]
        for i in 0..<8 { image.setPixel(x: i % 2, y: i / 2, colours[i]) }
        let cells = CellRenderer.halfBlocks(image, columns: 2, rows: 2)
        #expect(cells.count == 2 && cells.allSatisfy { $0.count == 2 })
        #expect(cells[0][1] == CellColor(top: RGBColor(2, 0, 0), bottom: RGBColor(4, 0, 0)))
        #expect(cells[1][0] == CellColor(top: RGBColor(5, 0, 0), bottom: RGBColor(7, 0, 0)))
        #expect(CellRenderer.halfBlocks(image, columns: 0, rows: 3).isEmpty)
        // Downsampling averages: a 4x8 checkerboard of 0/200 becomes mid grey everywhere.
        var checker = RGBImage(width: 4, height: 8)
        for y in 0..<8 { for x in 0..<4 where (x + y) % 2 == 0 { checker.setPixel(x: x, y: y, (200, 200, 200)) } }
        #expect(CellRenderer.halfBlocks(checker, columns: 2, rows: 2).joined().allSatisfy {
            $0.top == RGBColor(100, 100, 100) && $0.bottom == RGBColor(100, 100, 100)
        })
    }

    @Test func asciiRampFollowsBrightness() {
        var image = RGBImage(width: 10, height: 1)
        for x in 0..<10 { let v = UInt8(x * 255 / 9); image.setPixel(x: x, y: 0, (v, v, v)) }
        #expect(CellRenderer.ascii(image, columns: 10, rows: 1) == [" .:-=+*#%@"])
        #expect(CellRenderer.ascii(image, columns: 10, rows: 1, inverted: true) == ["@%#*+=-:. "])
        #expect(CellRenderer.shadingCharacter(RGBColor(0, 0, 0)) == " ")
        #expect(CellRenderer.shadingCharacter(RGBColor(255, 255, 255)) == "@")
        let shaded = CellRenderer.shaded(RGBImage(width: 4, height: 4, fill: (200, 30, 30)), columns: 2, rows: 1)
        #expect(shaded == [[ShadedCell(character: "-", color: 1), ShadedCell(character: "-", color: 1)]])
    }

    @Test func fitKeepsAspectRatio() {
        #expect(CellRenderer.fit(width: 64, height: 64, columns: 100, rows: 20) == (columns: 40, rows: 20))
        #expect(CellRenderer.fit(width: 64, height: 64, columns: 30, rows: 50) == (columns: 30, rows: 15))
        #expect(CellRenderer.fit(width: 64, height: 64, columns: 0, rows: 5) == (columns: 1, rows: 1))
    }

    @Test func ansiTextEmitsColourChangesOnly() {
        let red = RGBColor(255, 0, 0), blue = RGBColor(0, 0, 255)
        let cells = [[CellColor(top: red, bottom: blue), CellColor(top: red, bottom: blue)]]
        #expect(CellRenderer.ansi(cells, mode: .truecolor) == "\u{1B}[38;2;255;0;0m\u{1B}[48;2;0;0;255m▀▀\u{1B}[0m\n")
        #expect(CellRenderer.ansi(cells, mode: .palette256) == "\u{1B}[38;5;196m\u{1B}[48;5;21m▀▀\u{1B}[0m\n")
        let shaded = [[ShadedCell(character: "#", color: 1), ShadedCell(character: "#", color: 1), ShadedCell(character: ".", color: 7)]]
        #expect(CellRenderer.ansi(shaded) == "\u{1B}[31m##\u{1B}[37m.\u{1B}[0m\n")
    }
}
