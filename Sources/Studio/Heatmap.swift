import Imaging

/// The heatmaps' colour scale: a value in 0…1 (share of tokens choosing an expert) to a colour,
/// interpolated linearly between the theme's stops; on terminals without a colour cube the
/// value is drawn as a shading character instead.
public struct HeatScale: Equatable, Sendable {
    public let stops: [RGBColor]

    /// `stops` needs at least two colours (the theme parser enforces that).
    public init(stops: [RGBColor]) {
        self.stops = stops.count >= 2 ? stops : [RGBColor(0, 0, 0), RGBColor(255, 255, 255)]
    }

    /// Values outside 0…1 (and NaN) are clamped, so bad data never crashes a frame.
    public func color(_ value: Double) -> RGBColor {
        let v = value.isNaN ? 0 : min(max(value, 0), 1)
        let position = v * Double(stops.count - 1)
        let i = min(Int(position), stops.count - 2)
        let t = position - Double(i)
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) + (Double(b) - Double(a)) * t).rounded()) }
        let a = stops[i], b = stops[i + 1]
        return RGBColor(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }

    /// Shading characters for value levels, light to full.
    public static let shades: [Character] = [" ", "·", "░", "▒", "▓", "█"]

    public func shade(_ value: Double) -> Character {
        let v = value.isNaN ? 0 : min(max(value, 0), 1)
        return HeatScale.shades[min(Int(v * Double(HeatScale.shades.count)), HeatScale.shades.count - 1)]
    }

    /// Text colour readable on top of a heat cell.
    public func ink(on value: Double) -> RGBColor { color(value).luma > 128 ? RGBColor(0, 0, 0) : RGBColor(255, 255, 255) }
}
