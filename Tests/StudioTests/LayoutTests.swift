import Testing
@testable import Studio

@Suite struct LayoutTests {
    /// No overlaps, everything on screen, and the last two rows left to status and key bar.
    func checkTiles(_ layout: StudioLayout) {
        let rects = PaneID.allCases.compactMap { layout.panes[$0] }
        #expect(rects.count == 4)
        for r in rects {
            #expect(r.x >= 0 && r.y >= 0 && r.maxX <= layout.width && r.maxY <= layout.height - 2, "\(r)")
        }
        for (i, a) in rects.enumerated() {
            for b in rects[(i + 1)...] {
                let overlap = a.x < b.maxX && b.x < a.maxX && a.y < b.maxY && b.y < a.maxY
                #expect(!overlap, "\(a) overlaps \(b)")
            }
        }
        #expect(layout.keyBar.y == layout.height - 1 && layout.status.y == layout.height - 2)
    }

    @Test func wideTerminalsGetThreeColumns() {
        let layout = StudioLayout.compute(width: 120, height: 40, focus: .prompt)
        #expect(layout.mode == .wide)
        checkTiles(layout)
        let p = layout.panes[.prompt]!, c = layout.panes[.chat]!, u = layout.panes[.unmasking]!, e = layout.panes[.experts]!
        #expect(p.x == 0 && c.x == 0 && c.y == p.maxY)       // prompt over chat
        #expect(u.x == p.maxX && e.x == u.maxX && e.maxX == 120)  // | unmasking | experts
        #expect(u.height == 38 && e.height == 38)
        // The whole area is used: the columns add up to the width.
        #expect(p.width + u.width + e.width == 120)
        // Focus does not move panes in the wide layout.
        #expect(StudioLayout.compute(width: 120, height: 40, focus: .experts).panes == layout.panes)
    }

    @Test func narrowTerminalsStackWithTheFocusedPaneOpen() {
        for focus in PaneID.allCases {
            let layout = StudioLayout.compute(width: 80, height: 24, focus: focus)
            #expect(layout.mode == .narrow)
            checkTiles(layout)
            #expect(layout.panes[focus]!.height == 22 - 3)
            #expect(layout.isExpanded(focus))
            for other in PaneID.allCases where other != focus { #expect(layout.panes[other]!.height == 1) }
            // Stacked in number order.
            let ys = PaneID.allCases.map { layout.panes[$0]!.y }
            #expect(ys == ys.sorted())
        }
    }

    @Test func belowTheMinimumIsTooSmall() {
        #expect(StudioLayout.compute(width: 40, height: 12, focus: .prompt).mode == .tooSmall)
        #expect(StudioLayout.compute(width: 59, height: 30, focus: .prompt).mode == .tooSmall)
        #expect(StudioLayout.compute(width: 100, height: 15, focus: .prompt).mode == .tooSmall)
        #expect(StudioLayout.compute(width: 60, height: 16, focus: .prompt).mode == .narrow)
        #expect(StudioLayout.compute(width: 99, height: 40, focus: .prompt).mode == .narrow)
        #expect(StudioLayout.compute(width: 100, height: 24, focus: .prompt).mode == .wide)
        #expect(StudioLayout.compute(width: 40, height: 12, focus: .prompt).panes.isEmpty)
        // Degenerate sizes never crash.
        _ = StudioLayout.compute(width: 0, height: 0, focus: .chat)
        _ = StudioLayout.compute(width: 1, height: 1, focus: .chat)
    }

    @Test func clicksFindThePane() {
        let layout = StudioLayout.compute(width: 120, height: 40, focus: .prompt)
        #expect(layout.pane(atX: 0, y: 0) == .prompt)
        #expect(layout.pane(atX: 119, y: 0) == .experts)
        #expect(layout.pane(atX: layout.panes[.unmasking]!.x + 1, y: 20) == .unmasking)
        #expect(layout.pane(atX: 1, y: layout.panes[.chat]!.y + 1) == .chat)
        #expect(layout.pane(atX: 5, y: 39) == nil)  // key bar
    }

    @Test func paneCycleVisitsAll() {
        var pane = PaneID.prompt, seen: [PaneID] = []
        for _ in 0..<4 { seen.append(pane); pane = pane.next }
        #expect(seen == [.prompt, .unmasking, .chat, .experts] && pane == .prompt)
        #expect(PaneID.prompt.previous == .experts && PaneID.chat.previous == .unmasking)
    }
}
