import Imaging
import Inference

/// Builds the picture the unmasking pane shows for one step: the decoded preview with the
/// chosen overlay painted over the token grid (one grid slot = one image token).
public enum FrameComposer {
    public static func compose(_ frame: StepEvent, overlay: Overlay, layer: Int, gridSide: Int, theme: Theme) -> RGBImage {
        let base = frame.preview ?? RGBImage(width: 64, height: 64, fill: (40, 40, 40))
        let side = gridSide > 0 ? gridSide : Int(Double(frame.codes.count).squareRoot())
        guard side > 0, side * side == frame.masked.count, base.width >= side, base.height >= side else { return base }
        var image = base
        let maskColor: RGBColor = {
            if case let .rgb(c) = theme.style(.masked).fg { return c }
            return RGBColor(96, 96, 128)
        }()
        let heat = HeatScale(stops: theme.heat)
        let revealed = Set(frame.revealed)
        let experts = layer < frame.routing.layers.count ? frame.routing.layers[layer].topExpert : []
        for slot in 0..<side * side {
            let x0 = (slot % side) * base.width / side, x1 = (slot % side + 1) * base.width / side
            let y0 = (slot / side) * base.height / side, y1 = (slot / side + 1) * base.height / side
            let masked = frame.masked[slot]
            for y in y0..<y1 {
                for x in x0..<x1 {
                    let p = RGBColor(base.pixel(x: x, y: y))
                    var out = p
                    switch overlay {
                    case .none:
                        break
                    case .mask:
                        if masked { out = checker(maskColor, x: x - x0, y: y - y0) }
                    case .confidence:
                        out = blend(heat.color(Double(frame.confidence[slot])), p, 0.6)
                    case .revealed:
                        if revealed.contains(slot) {
                            let edge = x == x0 || y == y0 || x == x1 - 1 || y == y1 - 1
                            out = edge ? RGBColor(255, 230, 0) : p
                        } else {
                            out = masked ? checker(maskColor, x: x - x0, y: y - y0) : blend(RGBColor(0, 0, 0), p, 0.6)
                        }
                    case .expert:
                        if slot < experts.count, !theme.expertColors.isEmpty {
                            let e = experts[slot]
                            out = blend(theme.expertColors[((e % theme.expertColors.count) + theme.expertColors.count) % theme.expertColors.count], p, 0.65)
                        }
                    }
                    image.setPixel(x: x, y: y, out.tuple)
                }
            }
        }
        return image
    }

    /// Two shades of the mask colour in a 2-pixel checker, so masked slots read as "not yet".
    static func checker(_ c: RGBColor, x: Int, y: Int) -> RGBColor {
        ((x / 2 + y / 2) % 2 == 0) ? c : blend(RGBColor(0, 0, 0), c, 0.45)
    }

    static func blend(_ a: RGBColor, _ b: RGBColor, _ t: Double) -> RGBColor {
        func m(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Double(x) * t + Double(y) * (1 - t)).rounded()) }
        return RGBColor(m(a.r, b.r), m(a.g, b.g), m(a.b, b.b))
    }

    /// The image scaled for a sixel placement of `columns`×`rows` cells: the largest whole
    /// multiple that fits (crisp token blocks), or an area-averaged shrink when even 1× is too big.
    public static func scaledForSixel(_ image: RGBImage, columns: Int, rows: Int, cellWidth: Int, cellHeight: Int) -> RGBImage {
        let maxW = columns * cellWidth, maxH = rows * cellHeight
        guard maxW > 0, maxH > 0 else { return image }
        let factor = min(maxW / image.width, maxH / image.height)
        if factor >= 1 { return factor == 1 ? image : ImageOps.nearestUpscale(image, factor: factor) }
        let s = min(Double(maxW) / Double(image.width), Double(maxH) / Double(image.height))
        return ImageOps.resize(image, width: max(Int(Double(image.width) * s), 1), height: max(Int(Double(image.height) * s), 1))
    }
}
