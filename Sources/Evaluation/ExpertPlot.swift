import Imaging

/// The expert-activation figure (like the paper's Fig. 5): one panel per group and level, rows =
/// layers, columns = experts, each cell shaded by the share of routing decisions it received.
public enum ExpertPlot {
    static let cell = 14, gap = 24, margin = 10

    public static func draw(_ panels: [EvalReport.Activation]) -> RGBImage {
        let labelWidth = BitmapFont.textWidth("L00") + 6
        let titleHeight = BitmapFont.lineHeight * 2 + 4
        let widths = panels.map { labelWidth + max($0.experts.count * cell, BitmapFont.textWidth(title($0))) }
        let heights = panels.map { titleHeight + $0.share.count * cell + BitmapFont.lineHeight + 4 }
        let width = 2 * margin + widths.reduce(0, +) + gap * max(panels.count - 1, 0)
        let height = 2 * margin + (heights.max() ?? 0) + BitmapFont.lineHeight * 2
        var image = RGBImage(width: max(width, 64), height: max(height, 32), fill: (250, 250, 250))
        var left = margin
        for (panel, panelWidth) in zip(panels, widths) {
            BitmapFont.draw(title(panel), into: &image, x: left, y: margin, color: (20, 20, 20))
            let top = margin + titleHeight
            let peak = panel.share.flatMap { $0 }.max() ?? 1
            for (l, row) in panel.share.enumerated() {
                BitmapFont.draw("L\(l)", into: &image, x: left, y: top + l * cell + 3, color: (90, 90, 90))
                for (e, value) in row.enumerated() {
                    fill(&image, x: left + labelWidth + e * cell, y: top + l * cell, colour: shade(peak > 0 ? value / peak : 0))
                }
            }
            // Expert labels under the grid: the index, or the first letter of a named expert.
            let bottom = top + panel.share.count * cell + 3
            for (e, name) in panel.experts.enumerated() {
                let label = name.hasPrefix("e") && Int(name.dropFirst()) != nil ? String(name.dropFirst()) : String(name.prefix(1))
                BitmapFont.draw(label, into: &image, x: left + labelWidth + e * cell + 4, y: bottom, color: (90, 90, 90))
            }
            left += panelWidth + gap
        }
        BitmapFont.draw("share of routing decisions per layer (darker = more; scaled to each panel's peak)",
                        into: &image, x: margin, y: height - margin - BitmapFont.lineHeight, color: (90, 90, 90))
        return image
    }

    static func title(_ p: EvalReport.Activation) -> String {
        let names = p.level == "sequence" ? ": " + p.experts.joined(separator: " ") : ""
        return "\(p.group.uppercased()) \(p.level)-level\n\(p.experts.count) experts\(names)"
    }

    /// White → deep blue.
    static func shade(_ t: Double) -> (UInt8, UInt8, UInt8) {
        let x = min(max(t, 0), 1)
        return (UInt8(245 - 215 * x), UInt8(245 - 170 * x), UInt8(250 - 70 * x))
    }

    static func fill(_ image: inout RGBImage, x: Int, y: Int, colour: (UInt8, UInt8, UInt8)) {
        for dy in 1..<(cell - 1) { for dx in 1..<(cell - 1) { image.setPixel(x: x + dx, y: y + dy, colour) } }
    }
}
