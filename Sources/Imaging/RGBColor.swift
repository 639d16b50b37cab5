/// One 8-bit sRGB colour, as a value type that can be compared and hashed (tuples cannot).
public struct RGBColor: Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8
    public var g: UInt8
    public var b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public init(_ tuple: (UInt8, UInt8, UInt8)) { self.init(tuple.0, tuple.1, tuple.2) }

    /// The form `RGBImage.pixel` / `setPixel` use.
    public var tuple: (UInt8, UInt8, UInt8) { (r, g, b) }

    /// Rec. 601 luma in 0...255 (what a grey-scale shading ramp should follow).
    public var luma: Double { 0.299 * Double(r) + 0.587 * Double(g) + 0.114 * Double(b) }

    /// Squared Euclidean distance in RGB.
    public func distanceSquared(to other: RGBColor) -> Int {
        let dr = Int(r) - Int(other.r), dg = Int(g) - Int(other.g), db = Int(b) - Int(other.b)
        return dr * dr + dg * dg + db * db
    }

    public var description: String { "#" + [r, g, b].map { hex2($0) }.joined() }
}

private func hex2(_ v: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(v >> 4)], digits[Int(v & 15)]])
}
