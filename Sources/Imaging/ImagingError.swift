@_exported import Support
import Foundation

/// Every failure of the Imaging module's codecs. Each `description` is one line that starts with
/// the file (or `<memory>`) it is about, so a CLI can print it as is. Opening, reading and writing
/// files fail with `FileError` (Support's `AtomicFile`), not with this type.
public enum ImagingError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// libpng could not encode the image (`detail` is its message).
    case cannotEncode(source: String, detail: String)
    /// Zero bytes where an image was expected.
    case empty(source: String)
    /// The data does not start with the PNG signature.
    case notPNG(source: String)
    /// The data ends before the image does.
    case truncated(source: String, detail: String)
    /// The data is damaged in some other way (bad CRC, bad chunk, bad compressed stream...).
    case corrupt(source: String, detail: String)
    /// The declared dimensions exceed the limits, checked before anything is allocated.
    case tooLarge(source: String, width: Int, height: Int, limit: String)
    /// Sixel data could not be decoded, or libsixel failed while encoding.
    case sixel(source: String, detail: String)
    /// A caller passed a value outside what the function accepts (e.g. an empty palette).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .cannotEncode(source, detail): return "\(source): cannot encode PNG (\(detail))"
        case let .empty(source): return "\(source): empty input (0 bytes)"
        case let .notPNG(source): return "\(source): not a PNG file (bad signature)"
        case let .truncated(source, detail): return "\(source): truncated PNG data (\(detail))"
        case let .corrupt(source, detail): return "\(source): invalid PNG data (\(detail))"
        case let .tooLarge(source, width, height, limit):
            return "\(source): image too large (\(width)x\(height); \(limit))"
        case let .sixel(source, detail): return "\(source): sixel: \(detail)"
        case let .invalidArgument(message): return "invalid argument: \(message)"
        }
    }

    public var errorDescription: String? { description }
}

/// Limits checked before any pixel buffer is allocated, so a 20-byte file cannot ask for gigabytes.
public enum ImageLimits {
    /// Largest accepted width or height.
    public static let maxSide = 16384
    /// Largest accepted pixel count (64 Mpx = 192 MB of RGB).
    public static let maxPixels = 1 << 26

    /// `nil` when `width`x`height` is acceptable, otherwise the limit it breaks, in words.
    static func violation(width: Int, height: Int) -> String? {
        if width > maxSide || height > maxSide { return "limit \(maxSide) per side" }
        if width * height > maxPixels { return "limit \(maxPixels) pixels" }
        return nil
    }
}
