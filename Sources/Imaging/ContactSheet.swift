/// Grids of images with optional captions, for eyeballing data sets and samples.
public enum ContactSheet {
    /// Lays `images` out left to right, top to bottom, `columns` per row.
    ///
    /// Every cell is as large as the largest image times `cellScale` (nearest-neighbour, so
    /// pixels stay crisp); smaller images are centred horizontally at the top of their cell.
    /// With `labels`, a line of `BitmapFont` text (cut to the cell width) sits under each image;
    /// missing labels are blank, extra ones ignored. `padding` surrounds and separates cells.
    /// No images gives a small blank sheet.
    public static func make(images: [RGBImage], labels: [String]? = nil, columns: Int,
                            cellScale: Int = 1, padding: Int = 4,
                            background: (UInt8, UInt8, UInt8) = (24, 24, 24),
                            labelColor: (UInt8, UInt8, UInt8) = (230, 230, 230)) -> RGBImage {
        let pad = max(padding, 0)
        guard !images.isEmpty else {
            return RGBImage(width: max(2 * pad, 1), height: max(2 * pad, 1), fill: background)
        }
        let scale = max(cellScale, 1)
        let columnCount = min(max(columns, 1), images.count)
        let rowCount = (images.count + columnCount - 1) / columnCount

        let cellWidth = images.map(\.width).max()! * scale
        let imageHeight = images.map(\.height).max()! * scale
        let labelHeight = labels == nil ? 0 : 2 + BitmapFont.glyphHeight
        let cellHeight = imageHeight + labelHeight

        var sheet = RGBImage(width: columnCount * cellWidth + (columnCount + 1) * pad,
                             height: rowCount * cellHeight + (rowCount + 1) * pad,
                             fill: background)
        let maxLabelCharacters = (cellWidth + 1) / BitmapFont.advance
        for (index, image) in images.enumerated() {
            let left = pad + (index % columnCount) * (cellWidth + pad)
            let top = pad + (index / columnCount) * (cellHeight + pad)
            let scaled = ImageOps.nearestUpscale(image, factor: scale)
            ImageOps.paste(scaled, into: &sheet, x: left + (cellWidth - scaled.width) / 2, y: top)

            guard let labels, index < labels.count else { continue }
            // One line per cell: newlines would spill into the next row.
            let label = String(labels[index].map { $0.isNewline ? " " : $0 }.prefix(maxLabelCharacters))
            let labelLeft = left + (cellWidth - BitmapFont.textWidth(label)) / 2
            BitmapFont.draw(label, into: &sheet, x: labelLeft, y: top + imageHeight + 2, color: labelColor)
        }
        return sheet
    }
}
