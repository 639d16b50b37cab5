/// An 8-bit RGB image, row-major, 3 bytes per pixel, no padding.
///
/// Every layer that touches pixels (the data renderer, the tokenizer's input/output,
/// previews, sixel) exchanges this one type.
public struct RGBImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// `height * width * 3` bytes: R, G, B for each pixel, rows top to bottom.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0, "image must be at least 1x1")
        precondition(pixels.count == width * height * 3, "pixel buffer must hold width*height*3 bytes")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A solid-colour image.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        precondition(width > 0 && height > 0, "image must be at least 1x1")
        self.width = width
        self.height = height
        var p = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            p[3 * i] = fill.0; p[3 * i + 1] = fill.1; p[3 * i + 2] = fill.2
        }
        self.pixels = p
    }

    @inline(__always) public func pixel(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        let o = (y * width + x) * 3
        return (pixels[o], pixels[o + 1], pixels[o + 2])
    }

    @inline(__always) public mutating func setPixel(x: Int, y: Int, _ c: (UInt8, UInt8, UInt8)) {
        let o = (y * width + x) * 3
        pixels[o] = c.0; pixels[o + 1] = c.1; pixels[o + 2] = c.2
    }
}
