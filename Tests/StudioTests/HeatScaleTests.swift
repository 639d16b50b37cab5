import Testing
import Imaging
@testable import Studio

@Suite struct HeatScaleTests {
    let scale = HeatScale(stops: [RGBColor(0, 0, 0), RGBColor(100, 200, 0), RGBColor(200, 200, 200)])

    @Test func interpolatesBetweenStops() {
        #expect(scale.color(0) == RGBColor(0, 0, 0))
        #expect(scale.color(0.5) == RGBColor(100, 200, 0))
        #expect(scale.color(1) == RGBColor(200, 200, 200))
        #expect(scale.color(0.25) == RGBColor(50, 100, 0))
        #expect(scale.color(0.75) == RGBColor(150, 200, 100))
    }

    @Test func clampsBadValues() {
        #expect(scale.color(-3) == scale.color(0))
        #expect(scale.color(7) == scale.color(1))
        #expect(scale.color(.nan) == scale.color(0))
        #expect(scale.shade(.infinity) == "█" && scale.shade(-1) == " ")
    }

    @Test func isMonotoneInBrightnessForTheShippedThemes() throws {
        let library = ThemeLibrary(directories: [repositoryRoot + "/Themes"])
        for name in ["dark", "high-contrast", "mono"] {
            let heat = HeatScale(stops: try library.load(name).heat)
            let lumas = stride(from: 0.0, through: 1.0, by: 0.05).map { heat.color($0).luma }
            #expect(lumas == lumas.sorted(), "\(name)")
        }
        // Light theme runs from light to dark (dark = more tokens on a light background).
        let light = HeatScale(stops: try library.load("light").heat)
        let lumas = stride(from: 0.0, through: 1.0, by: 0.05).map { light.color($0).luma }
        #expect(lumas == lumas.sorted(by: >))
    }

    @Test func shadesRiseWithValueAndInkContrasts() {
        let shades = stride(from: 0.0, through: 1.0, by: 0.1).map { HeatScale.shades.firstIndex(of: scale.shade($0))! }
        #expect(shades == shades.sorted() && shades.first == 0 && shades.last == HeatScale.shades.count - 1)
        #expect(scale.ink(on: 0) == RGBColor(255, 255, 255) && scale.ink(on: 1) == RGBColor(0, 0, 0))
    }
}
