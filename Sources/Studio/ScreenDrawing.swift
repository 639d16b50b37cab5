import Foundation
import Imaging
import Inference
import FaceModel

/// Drawing: the whole screen into a `ScreenGrid` from the core's state, every frame.
extension StudioCore {
    public func render() -> ScreenGrid {
        let text = theme.style(.text)
        var canvas = ScreenGrid(width: width, height: height, style: text)
        keyBarHits = []
        if layout.mode == .tooSmall {
            drawTooSmall(&canvas)
            return canvas
        }
        for pane in PaneID.allCases {
            guard let rect = layout.panes[pane] else { continue }
            if layout.isExpanded(pane) {
                drawFrame(&canvas, pane: pane, rect: rect)
                let inner = rect.inset(1)
                switch pane {
                case .prompt: drawPrompt(&canvas, inner)
                case .unmasking: drawUnmasking(&canvas, inner)
                case .chat: drawChat(&canvas, inner)
                case .experts: drawExperts(&canvas, inner)
                }
            } else {
                drawFrame(&canvas, pane: pane, rect: rect, summary: summary(of: pane))
            }
        }
        drawStatus(&canvas)
        drawKeyBar(&canvas)
        switch modal {
        case .help: drawHelp(&canvas)
        case .confirmQuit: drawConfirm(&canvas)
        case .none: break
        }
        if modal != .none { canvas.cursor = nil; canvas.sixels = [] }
        return canvas
    }

    // MARK: Frames, status, key bar

    private func drawFrame(_ canvas: inout ScreenGrid, pane: PaneID, rect: Rect, summary: String = "") {
        let focused = pane == focus
        let border = theme.style(focused ? .borderFocus : .border)
        let title = "\(pane.rawValue) \(pane.title)"
        canvas.frame(rect, style: border, title: title, titleStyle: theme.style(focused ? .titleFocus : .title),
                     right: summary.isEmpty ? rightTitle(of: pane) : summary, rightStyle: theme.style(.dim))
    }

    private func rightTitle(of pane: PaneID) -> String {
        switch pane {
        case .prompt: return promptPane.history.entries.isEmpty ? "" : "history \(promptPane.history.entries.count)"
        case .unmasking: return stepCounter
        case .chat: return chatPane.source.map { "about: \($0)" } ?? ""
        case .experts: return info.map { "\($0.layers) layers × \($0.sharedExperts)+\($0.routedExperts)" } ?? ""
        }
    }

    /// "step 5/12", with "generating" while it runs.
    var stepCounter: String {
        guard !unmaskingPane.frames.isEmpty else { return unmaskingPane.generating ? "starting…" : "" }
        let total = unmaskingPane.frames[unmaskingPane.selectedStep].steps
        // Time taken so far (the last step's time once it is done).
        let time = unmaskingPane.frames.last.map { String(format: " · %.2f s", $0.elapsed) } ?? ""
        return "step \(unmaskingPane.selectedStep + 1)/\(total)" + (unmaskingPane.generating ? " …" : "") + (unmaskingPane.playing ? " ▶" : "") + time
    }

    /// One line for a collapsed pane's title bar.
    private func summary(of pane: PaneID) -> String {
        switch pane {
        case .prompt:
            let first = promptPane.editor.text.split(separator: "\n").first.map(String.init) ?? ""
            return first.isEmpty ? "(empty)" : first
        case .unmasking: return unmaskingPane.frames.isEmpty ? (unmaskingPane.generating ? "starting…" : "no image yet") : stepCounter
        case .chat: return chatPane.messages.last.map { "\($0.role == .user ? "you" : "model"): \($0.text)" } ?? "no messages"
        case .experts: return "layer \(expertsPane.selectedLayer)"
        }
    }

    private func drawStatus(_ canvas: inout ScreenGrid) {
        let row = layout.status.y
        let right = "\(graphics.rawValue) · \(depth.rawValue)\(depth == .truecolor || depth == .mono ? "" : " colours") · \(baseTheme.name)"
        let rightStart = max(width - TextWidth.of(right) - 1, width / 2)
        var message = status.text
        if message.isEmpty { message = info == nil ? (loadError == nil ? "loading the model…" : "no model") : "ready" }
        canvas.put(" " + message, x: 0, y: row, style: theme.style(status.isError ? .error : .status), limit: rightStart - 1)
        canvas.put(right, x: rightStart, y: row, style: theme.style(.dim))
    }

    private func drawKeyBar(_ canvas: inout ScreenGrid) {
        let row = layout.keyBar.y
        canvas.fill(layout.keyBar, style: theme.style(.keybar))
        var x = 1
        for entry in Keymap.keyBar(for: focus) {
            let w = TextWidth.of(entry.label) + 1 + TextWidth.of(entry.help)
            if x + w > width - 1 { break }
            let start = x
            x = canvas.put(entry.label, x: x, y: row, style: theme.style(.keybarKey))
            x = canvas.put(" " + entry.help, x: x, y: row, style: theme.style(.keybar))
            keyBarHits.append((start..<x, entry.command))
            x += 2
        }
    }

    private func drawTooSmall(_ canvas: inout ScreenGrid) {
        let lines = modal == .confirmQuit
            ? ["Quit without saving?", "y quits, any other key stays"]
            : ["Terminal too small", "\(width)×\(height): needs \(StudioLayout.minimumWidth)×\(StudioLayout.minimumHeight)", "q quits"]
        let top = max((height - lines.count) / 2, 0)
        for (i, line) in lines.enumerated() {
            let x = max((width - TextWidth.of(line)) / 2, 0)
            canvas.put(line, x: x, y: top + i, style: theme.style(i == 0 ? .error : .text))
        }
    }

    private func drawHelp(_ canvas: inout ScreenGrid) {
        let lines = Keymap.helpLines()
        // As many columns as it takes to fit the height, if the width allows.
        let rowsAvailable = max(height - 2 - 3, 1)
        let columnWidth = (lines.map { TextWidth.of($0) }.max() ?? 0) + 3
        let columns = min(max((lines.count + rowsAvailable - 1) / rowsAvailable, 1), max((width - 4) / columnWidth, 1))
        let perColumn = (lines.count + columns - 1) / columns
        let w = min(max(columns * columnWidth, 40) + 3, width)
        let h = min(perColumn + 3, height - 2)
        let rect = Rect(x: (width - w) / 2, y: max((height - 2 - h) / 2, 0), width: w, height: h)
        let style = theme.style(.help)
        canvas.fill(rect, style: style)
        canvas.frame(rect, style: theme.style(.borderFocus), title: "Help — any key closes", titleStyle: theme.style(.titleFocus))
        let shown = min(perColumn, h - 3)
        for (i, line) in lines.enumerated() {
            let column = i / perColumn, row = i % perColumn
            guard row < shown else { continue }
            let heading = !line.hasPrefix(" ")
            let x = rect.x + 2 + column * columnWidth
            canvas.put(line, x: x, y: rect.y + 1 + row, style: heading ? theme.style(.user) : style, limit: min(x + columnWidth - 1, rect.maxX - 1))
        }
        if perColumn > shown {
            canvas.put("… (enlarge the terminal to see all)", x: rect.x + 2, y: rect.maxY - 2, style: theme.style(.dim), limit: rect.maxX - 1)
        }
    }

    private func drawConfirm(_ canvas: inout ScreenGrid) {
        let message = " The session is not saved. Quit anyway?  y quit · ^S save and quit · any other key stays "
        canvas.fill(layout.status, style: theme.style(.error))
        canvas.put(message, x: 0, y: layout.status.y, style: theme.style(.error))
    }

    // MARK: Prompt

    /// Soft-wrapped rows of an editor: character ranges, each at most `width` columns.
    static func wrap(_ characters: [Character], width: Int) -> [Range<Int>] {
        var rows: [Range<Int>] = []
        var start = 0, col = 0
        for (i, c) in characters.enumerated() {
            if c == "\n" { rows.append(start..<i); start = i + 1; col = 0; continue }
            let w = TextWidth.of(c)
            if col + w > width && i > start { rows.append(start..<i); start = i; col = 0 }
            col += w
        }
        rows.append(start..<characters.count)
        return rows
    }

    /// Row and column of the cursor in wrapped rows.
    static func cursorCell(_ characters: [Character], cursor: Int, rows: [Range<Int>]) -> (row: Int, column: Int) {
        for (r, range) in rows.enumerated() {
            let nextStart = r + 1 < rows.count ? rows[r + 1].lowerBound : Int.max
            if cursor >= range.lowerBound && (cursor <= range.upperBound && cursor < nextStart || r == rows.count - 1) {
                return (r, TextWidth.of(String(characters[range.lowerBound..<min(cursor, range.upperBound)])))
            }
        }
        return (rows.count - 1, 0)
    }

    private func drawPrompt(_ canvas: inout ScreenGrid, _ rect: Rect) {
        guard rect.height >= 1 && rect.width >= 4 else { return }
        let chars = promptPane.editor.characters
        var textRows = rect.height
        // A hint or completion line under the text when there is room.
        let match = focus == .prompt ? completer.match(chars, cursor: promptPane.editor.cursor) : nil
        let hint: String? = {
            if let completion = promptPane.completion { return "Tab: " + completion.candidates.enumerated().map { $0 == completion.shown ? "[\($1)]" : $1 }.joined(separator: " · ") }
            if let match { return "Tab: " + match.candidates.prefix(6).joined(separator: " · ") + (match.candidates.count > 6 ? " …" : "") }
            let unknown = unknownRanges()
            if !unknown.isEmpty {
                let words = unknown.map { String(chars[min($0.lowerBound, chars.count)..<min($0.upperBound, chars.count)]) }
                return "never seen in training: \(UnknownWordList(words))"
            }
            return nil
        }()
        if hint != nil && rect.height >= 3 { textRows -= 1 }
        if chars.isEmpty && focus != .prompt {
            canvas.put("Describe a face, then Ctrl-G", x: rect.x, y: rect.y, style: theme.style(.dim), limit: rect.maxX)
        } else if chars.isEmpty {
            canvas.put("e.g. a young woman with wavy blond hair, smiling", x: rect.x + 1, y: rect.y, style: theme.style(.completion), limit: rect.maxX)
        }
        let rows = StudioCore.wrap(chars, width: rect.width - 1)
        let cursorCell = StudioCore.cursorCell(chars, cursor: promptPane.editor.cursor, rows: rows)
        let first = max(0, cursorCell.row - textRows + 1)
        var unknownAt = [Bool](repeating: false, count: chars.count)
        for r in unknownRanges() { for i in r where i < chars.count { unknownAt[i] = true } }
        for (n, range) in rows.enumerated() where n >= first && n < first + textRows {
            var x = rect.x
            for i in range {
                x = canvas.put(String(chars[i]), x: x, y: rect.y + n - first, style: theme.style(unknownAt[i] ? .unknownWord : .text), limit: rect.maxX)
            }
        }
        if focus == .prompt && modal == .none {
            canvas.cursor = (rect.x + min(cursorCell.column, rect.width - 1), rect.y + cursorCell.row - first)
        }
        if let hint, rect.height >= 3 {
            canvas.put(hint, x: rect.x, y: rect.maxY - 1, style: theme.style(unknownRanges().isEmpty || match != nil ? .completion : .unknownWord), limit: rect.maxX)
        }
    }

    // MARK: Unmasking

    private func drawUnmasking(_ canvas: inout ScreenGrid, _ rect: Rect) {
        guard rect.height >= 3 && rect.width >= 10 else { return }
        let s = unmaskingPane.settings
        let changed = unmaskingPane.generatedSettings != nil && unmaskingPane.generatedSettings != unmaskingPane.settings
        var line = "seed \(s.seed)  steps \(s.steps)  CFG \(format(s.cfg))  T \(format(s.temperature))"
        if changed { line += "  (changed: g)" }
        canvas.put(line, x: rect.x, y: rect.y, style: theme.style(changed ? .status : .dim), limit: rect.maxX)

        let footerY = rect.maxY - 1
        let imageRect = Rect(x: rect.x, y: rect.y + 1, width: rect.width, height: rect.height - 2)
        if unmaskingPane.frames.isEmpty {
            let message: String
            if let loadError { message = "no model: \(loadError)" }
            else if info == nil { message = "loading the model…" }
            else if unmaskingPane.generating { message = "starting…" }
            else { message = "type a prompt, then Ctrl-G" }
            let rows = StudioCore.wrap(Array(message), width: rect.width - 2)
            for (i, range) in rows.prefix(imageRect.height).enumerated() {
                canvas.put(String(Array(message)[range]), x: rect.x + 1, y: imageRect.y + imageRect.height / 2 - rows.count / 2 + i,
                           style: theme.style(loadError == nil ? .dim : .error), limit: rect.maxX)
            }
        } else {
            let frame = unmaskingPane.frames[unmaskingPane.selectedStep]
            let composed = FrameComposer.compose(frame, overlay: unmaskingPane.overlay, layer: expertsPane.selectedLayer, gridSide: info?.gridSide ?? 0, theme: theme)
            drawImage(&canvas, composed, in: imageRect)
            let masked = frame.masked.filter { $0 }.count
            let footer = "◀ \(unmaskingPane.selectedStep + 1)/\(frame.steps) ▶ \(masked) masked +\(frame.revealed.count) · \(unmaskingPane.overlay.rawValue)\(unmaskingPane.overlay == .expert ? " L\(expertsPane.selectedLayer)" : "")"
            canvas.put(footer, x: rect.x, y: footerY, style: theme.style(.text), limit: rect.maxX)
        }
    }

    /// Draws an image centred in `rect`: sixel placement, coloured half blocks, or shading.
    func drawImage(_ canvas: inout ScreenGrid, _ image: RGBImage, in rect: Rect) {
        guard !rect.isEmpty else { return }
        switch graphics {
        case .sixel:
            // Cells a sixel covers, keeping the aspect ratio, centred.
            let scaled = FrameComposer.scaledForSixel(image, columns: rect.width, rows: rect.height,
                                                      cellWidth: cellPixels.width, cellHeight: cellPixels.height)
            let cols = min((scaled.width + cellPixels.width - 1) / cellPixels.width, rect.width)
            let rows = min((scaled.height + cellPixels.height - 1) / cellPixels.height, rect.height)
            let placed = Rect(x: rect.x + (rect.width - cols) / 2, y: rect.y, width: cols, height: rows)
            canvas.sixels.append(SixelPlacement(rect: placed, image: scaled))
        case .blocks where depth.drawsColorBlocks:
            let fit = CellRenderer.fit(width: image.width, height: image.height, columns: rect.width, rows: rect.height)
            let cells = CellRenderer.halfBlocks(image, columns: fit.columns, rows: fit.rows)
            let x0 = rect.x + (rect.width - fit.columns) / 2
            for (r, row) in cells.enumerated() {
                for (c, cell) in row.enumerated() {
                    canvas[x0 + c, rect.y + r] = Cell(String(CellRenderer.upperHalfBlock), Style(fg: .rgb(cell.top), bg: .rgb(cell.bottom)))
                }
            }
        case .blocks, .ascii:
            // One sample per cell; cells are about twice as tall as wide.
            let cols = min(rect.width, rect.height * 2 * image.width / max(image.height, 1))
            let rows = min(rect.height, max(cols * image.height / max(image.width * 2, 1), 1))
            let x0 = rect.x + (rect.width - cols) / 2
            let coloured = graphics == .blocks && depth == .basic8
            let inverted: Bool = {
                if case let .rgb(bg) = theme.style(.text).bg { return bg.luma > 128 }
                return false
            }()
            // A hue that lands on the background's own basic colour would vanish: use the text colour.
            let background: UInt8? = {
                if case let .rgb(bg) = theme.style(.text).bg { return CellRenderer.basicColorIndex(bg) }
                return nil
            }()
            for (r, row) in CellRenderer.shaded(image, columns: cols, rows: rows, inverted: inverted).enumerated() {
                for (c, cell) in row.enumerated() {
                    let fg: ThemeColor = coloured && cell.color != background ? .rgb(CellRenderer.xterm256Color(cell.color)) : theme.style(.text).fg
                    canvas[x0 + c, rect.y + r] = Cell(String(cell.character), Style(fg: fg, bg: theme.style(.text).bg))
                }
            }
        }
    }

    // MARK: Chat

    private func drawChat(_ canvas: inout ScreenGrid, _ rect: Rect) {
        guard rect.height >= 2 && rect.width >= 8 else { return }
        let inputY = rect.maxY - 1
        // Transcript, wrapped, newest at the bottom.
        var rows: [(String, ThemeRole)] = []
        for message in chatPane.messages {
            let (prefix, role): (String, ThemeRole) = {
                switch message.role {
                case .user: return ("you: ", .user)
                case .assistant: return ("model: ", .assistant)
                case .info: return ("· ", .dim)
                case .error: return ("! ", .error)
                }
            }()
            var body = prefix + message.text
            if message.role == .assistant && chatPane.answering && message == chatPane.messages.last { body += "▍" }
            for range in StudioCore.wrap(Array(body), width: rect.width) {
                rows.append((String(Array(body)[range]), role))
            }
        }
        if chatPane.messages.isEmpty {
            rows = [("Ask about the generated face, or", .dim), ("/open PATH.png · /describe · /clear", .dim)]
        }
        let visible = rect.height - 2
        let maxScroll = max(rows.count - visible, 0)
        let scroll = min(chatPane.scroll, maxScroll)
        let start = max(rows.count - visible - scroll, 0)
        for (i, row) in rows[start..<min(start + visible, rows.count)].enumerated() {
            canvas.put(row.0, x: rect.x, y: rect.y + i, style: theme.style(row.1), limit: rect.maxX)
        }
        if scroll > 0 {
            canvas.put("↓ \(scroll) more", x: rect.maxX - 10, y: rect.y + visible - 1, style: theme.style(.dim), limit: rect.maxX)
        }
        canvas.put(String(repeating: "─", count: rect.width), x: rect.x, y: inputY - 1, style: theme.style(.border))
        let chars = chatPane.input.characters
        let promptMark = chatPane.answering ? "… " : "> "
        canvas.put(promptMark, x: rect.x, y: inputY, style: theme.style(.user))
        let room = rect.width - 3
        let cursorCol = TextWidth.of(String(chars[..<chatPane.input.cursor]))
        // Scroll the input sideways to keep the cursor visible.
        var skip = 0
        while cursorCol - TextWidth.of(String(chars[..<skip])) > room && skip < chars.count { skip += 1 }
        canvas.put(String(chars[skip...]), x: rect.x + 2, y: inputY, style: theme.style(.text), limit: rect.maxX)
        if focus == .chat && modal == .none {
            canvas.cursor = (rect.x + 2 + cursorCol - TextWidth.of(String(chars[..<skip])), inputY)
        }
    }

    // MARK: Experts

    private func drawExperts(_ canvas: inout ScreenGrid, _ rect: Rect) {
        guard rect.height >= 4 && rect.width >= 20 else { return }
        guard let info else {
            canvas.put(loadError == nil ? "loading…" : "no model", x: rect.x, y: rect.y, style: theme.style(.dim), limit: rect.maxX)
            return
        }
        let heat = HeatScale(stops: theme.heat)
        let t2i = unmaskingPane.frames.isEmpty ? nil : unmaskingPane.frames[unmaskingPane.selectedStep].routing
        let mmu = expertsPane.mmuFrequencies
        // Each group: a header, a column row, one row per layer (scrolled to the selected one).
        let legendRows = 3
        let perGroup = max((rect.height - legendRows) / 2, 3)
        var y = rect.y
        y = drawHeatGroup(&canvas, x: rect.x, y: y, width: rect.width, rows: perGroup, info: info, heat: heat,
                          title: "T2I image tokens" + (t2i == nil ? "" : " · step \(unmaskingPane.selectedStep + 1)"),
                          frequencies: t2i?.frequencies ?? [], sequence: t2i?.sequenceLayers ?? [], group: "t2i", selectable: true)
        y = drawHeatGroup(&canvas, x: rect.x, y: y, width: rect.width, rows: perGroup, info: info, heat: heat,
                          title: "MMU answer" + (expertsPane.mmuTokens == 0 ? "" : " · \(expertsPane.mmuTokens) tokens"),
                          frequencies: mmu, sequence: expertsPane.mmuSequence, group: "mmu", selectable: false)
        // Legend: the colour scale and what the columns mean.
        let legendY = rect.maxY - legendRows
        guard legendY >= y else { return }
        var x = canvas.put("0% ", x: rect.x, y: legendY, style: theme.style(.dim))
        for i in 0..<10 {
            x = drawHeatCell(&canvas, x: x, y: legendY, value: Double(i) / 9, heat: heat, width: 1)
        }
        canvas.put(" 100% of tokens", x: x, y: legendY, style: theme.style(.dim), limit: rect.maxX)
        canvas.put("S shared (always on) · 1-8 routed", x: rect.x, y: legendY + 1, style: theme.style(.dim), limit: rect.maxX)
        let seqNames = info.sequenceExperts.isEmpty ? "sequence-level MoE off"
            : "seq: " + (info.sequenceExperts["t2i"] ?? []).joined(separator: "/") + " | " + (info.sequenceExperts["mmu"] ?? []).joined(separator: "/")
        canvas.put(seqNames, x: rect.x, y: legendY + 2, style: theme.style(.dim), limit: rect.maxX)
    }

    /// Draws one heatmap group; returns the next free row.
    private func drawHeatGroup(_ canvas: inout ScreenGrid, x: Int, y: Int, width: Int, rows: Int, info: ModelInfo, heat: HeatScale,
                               title: String, frequencies: [[Double]], sequence: [SequenceLayerRouting], group: String,
                               selectable: Bool) -> Int {
        canvas.put(title, x: x, y: y, style: theme.style(.title), limit: x + width)
        // Column header: layer label, S, routed 1…8, then sequence experts.
        let seqNames = info.sequenceExperts[group] ?? []
        var cx = canvas.put("    S  ", x: x, y: y + 1, style: theme.style(.dim))
        for e in 0..<info.routedExperts { cx = canvas.put(String(format: "%-2d", (e + 1) % 100), x: cx, y: y + 1, style: theme.style(.dim)) }
        if !seqNames.isEmpty {
            cx = canvas.put(" │", x: cx, y: y + 1, style: theme.style(.border))
            for name in seqNames { cx = canvas.put(" " + String(name.prefix(2)), x: cx, y: y + 1, style: theme.style(.dim)) }
        }
        let layerRows = max(rows - 2, 1)
        let first = selectable ? min(max(expertsPane.selectedLayer - layerRows + 1, 0), max(info.layers - layerRows, 0)) : 0
        for (n, layer) in (first..<min(first + layerRows, info.layers)).enumerated() {
            let ry = y + 2 + n
            let marker = selectable && layer == expertsPane.selectedLayer ? "▸" : " "
            var lx = canvas.put(marker + String(format: "L%-2d", layer), x: x, y: ry,
                                style: theme.style(selectable && layer == expertsPane.selectedLayer ? .selection : .dim))
            let row = layer < frequencies.count ? frequencies[layer] : nil
            lx = drawHeatCell(&canvas, x: lx, y: ry, value: row == nil ? nil : 1, heat: heat, width: 2)
            lx += 1
            for e in 0..<info.routedExperts {
                let v = row.flatMap { e < $0.count ? $0[e] : nil }
                lx = drawHeatCell(&canvas, x: lx, y: ry, value: v, heat: heat, width: 2)
            }
            if !seqNames.isEmpty {
                lx = canvas.put(" │", x: lx, y: ry, style: theme.style(.border))
                let gates = layer < sequence.count ? sequence[layer] : nil
                for name in seqNames {
                    lx += 1
                    let gate = gates.map { Double($0.weight(of: name)) }
                    if gates == nil {
                        lx = canvas.put("– ", x: lx, y: ry, style: theme.style(.dim))
                    } else {
                        lx = drawHeatCell(&canvas, x: lx, y: ry, value: gate, heat: heat, width: 2)
                    }
                }
            }
        }
        return y + 2 + min(layerRows, info.layers) + 1
    }

    /// One heat cell: a coloured block, or a shading character without a colour cube; "·" for no data.
    @discardableResult
    private func drawHeatCell(_ canvas: inout ScreenGrid, x: Int, y: Int, value: Double?, heat: HeatScale, width: Int) -> Int {
        guard let value else { return canvas.put(String(repeating: "·", count: width), x: x, y: y, style: theme.style(.dim)) }
        if depth.drawsColorBlocks {
            for i in 0..<width { canvas[x + i, y] = Cell(" ", Style(fg: .rgb(heat.ink(on: value)), bg: .rgb(heat.color(value)))) }
            return x + width
        }
        return canvas.put(String(repeating: heat.shade(value), count: width), x: x, y: y, style: theme.style(.text))
    }
}
