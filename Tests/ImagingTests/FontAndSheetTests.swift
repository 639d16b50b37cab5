import Testing
@testable import Imaging

@Suite struct BitmapFontTests {
    @Test func glyphTableIsWellFormedAndDistinct() {
        #expect(BitmapFont.glyphDrawings.count == 95)
        for (i, drawing) in BitmapFont.glyphDrawings.enumerated() {
            let rows = drawing.split(separator: " ")
            #expect(rows.count == 7 && rows.allSatisfy { $0.count == 5 && $0.allSatisfy { ".#".contains($0) } },
                    "glyph \(i + 32)")
        }
        // Every printable character looks different (catches pasted-twice glyphs).
        #expect(Set(BitmapFont.glyphs).count == 95)
        #expect(BitmapFont.glyphs[0].allSatisfy { $0 == 0 })  // space is blank
    }

    @Test func drawsInkOnlyWhereTheGlyphHasIt() {
        for scale in [1, 3] {
            var image = RGBImage(width: 40, height: 30, fill: (0, 0, 0))
            BitmapFont.draw("A", into: &image, x: 2, y: 1, color: (255, 255, 0), scale: scale)
            let inked = stride(from: 0, to: image.pixels.count, by: 3).filter { image.pixels[$0] != 0 }.count
            let ink = BitmapFont.glyphDrawings[Int(Character("A").asciiValue!) - 32].filter { $0 == "#" }.count
            #expect(inked == ink * scale * scale)
            #expect(image.pixel(x: 2 + 2 * scale, y: 1) == (255, 255, 0))  // apex of the A
            #expect(image.pixel(x: 2, y: 1) == (0, 0, 0))
        }
    }

    @Test func measuresText() {
        #expect(BitmapFont.textWidth("") == 0)
        #expect(BitmapFont.textWidth("A") == 5)
        #expect(BitmapFont.textWidth("step 12") == 41)
        #expect(BitmapFont.textWidth("ab", scale: 2) == 22)
        #expect(BitmapFont.textWidth("abc\nx") == 17)
        #expect(BitmapFont.textHeight("one") == 7)
        #expect(BitmapFont.textHeight("a\nb", scale: 2) == 32)
    }

    @Test func clipsAtEdgesAndDrawsUnknownCharactersAsBoxes() {
        var image = RGBImage(width: 8, height: 8, fill: (0, 0, 0))
        BitmapFont.draw("Wé~", into: &image, x: -3, y: -4, color: (9, 9, 9), scale: 2)
        BitmapFont.draw("far away", into: &image, x: 500, y: 500, color: (9, 9, 9))
        #expect(image.pixels.contains(9))
        var box = RGBImage(width: 5, height: 7, fill: (0, 0, 0))
        BitmapFont.draw("é", into: &box, x: 0, y: 0, color: (1, 1, 1))
        #expect(box.pixel(x: 0, y: 0) == (1, 1, 1) && box.pixel(x: 4, y: 6) == (1, 1, 1) && box.pixel(x: 2, y: 3) == (0, 0, 0))
    }
}

@Suite struct ContactSheetTests {
    let images = (0..<5).map { randomImage(width: 8, height: 6, seed: UInt64(30 + $0)) }

    @Test func dimensionsWithAndWithoutLabels() {
        let plain = ContactSheet.make(images: images, labels: nil, columns: 2)
        #expect(plain.width == 2 * 8 + 3 * 4 && plain.height == 3 * 6 + 4 * 4)
        let labelled = ContactSheet.make(images: images, labels: ["a", "b", "c", "d", "e"], columns: 2)
        #expect(labelled.width == 28 && labelled.height == 3 * (6 + 9) + 4 * 4)
        let scaled = ContactSheet.make(images: images, labels: nil, columns: 5, cellScale: 3, padding: 1)
        #expect(scaled.width == 5 * 24 + 6 && scaled.height == 18 + 2)
        let tooManyColumns = ContactSheet.make(images: images, labels: nil, columns: 99, padding: 0)
        #expect(tooManyColumns.width == 40 && tooManyColumns.height == 6)
    }

    @Test func placesImagesAndLabels() {
        let sheet = ContactSheet.make(images: images, labels: ["x", "y"], columns: 3, padding: 2,
                                      background: (1, 2, 3), labelColor: (250, 250, 250))
        #expect(ImageOps.crop(sheet, x: 2, y: 2, width: 8, height: 6) == images[0])
        #expect(ImageOps.crop(sheet, x: 2 + 2 * 10, y: 2, width: 8, height: 6) == images[2])
        #expect(ImageOps.crop(sheet, x: 2 + 10, y: 2 + 15 + 2, width: 8, height: 6) == images[4])
        #expect(sheet.pixel(x: 0, y: 0) == (1, 2, 3))
        // Label rows of the first cell hold ink; those of a cell without a label do not.
        let labelBand = ImageOps.crop(sheet, x: 2, y: 2 + 8, width: 8, height: 7)
        #expect(labelBand.pixels.contains(250))
        let blankBand = ImageOps.crop(sheet, x: 2 + 2 * 10, y: 2 + 8, width: 8, height: 7)
        #expect(!blankBand.pixels.contains(250))
    }

    @Test func noImagesGivesABlankSheet() {
        let sheet = ContactSheet.make(images: [], labels: nil, columns: 3)
        #expect(sheet == RGBImage(width: 8, height: 8, fill: (24, 24, 24)))
    }
}
