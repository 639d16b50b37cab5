/// The four panes, numbered as the 1–4 focus keys number them.
public enum PaneID: Int, CaseIterable, Sendable, Codable {
    case prompt = 1, unmasking = 2, chat = 3, experts = 4

    public var title: String {
        switch self {
        case .prompt: return "Prompt"
        case .unmasking: return "Unmasking"
        case .chat: return "Chat"
        case .experts: return "Experts"
        }
    }

    /// Panes that take typed text (printable keys insert instead of acting as commands).
    public var takesText: Bool { self == .prompt || self == .chat }

    public var next: PaneID { PaneID(rawValue: rawValue % 4 + 1)! }
    public var previous: PaneID { PaneID(rawValue: (rawValue + 2) % 4 + 1)! }
}

/// Where everything goes for a terminal size. Pure: computed again on every resize.
///
/// - wide (≥ 100×24): three columns — prompt over chat | unmasking | experts;
/// - narrow: the panes stacked in number order; the focused one gets the free rows and the
///   others shrink to their title line (which carries a one-line summary);
/// - below 60×16: the "too small" screen, which still answers q / Ctrl-Q / Ctrl-C.
///
/// The last row is the key bar and the one above it the status line, so no pane (and no sixel
/// image) ever touches the last line.
public struct StudioLayout: Equatable, Sendable {
    public enum Mode: String, Sendable { case wide, narrow, tooSmall }

    public static let minimumWidth = 60, minimumHeight = 16
    public static let wideWidth = 100, wideHeight = 24

    public var width: Int
    public var height: Int
    public var mode: Mode
    public var panes: [PaneID: Rect]
    public var status: Rect
    public var keyBar: Rect

    public static func compute(width: Int, height: Int, focus: PaneID) -> StudioLayout {
        let keyBar = Rect(x: 0, y: height - 1, width: width, height: 1)
        let status = Rect(x: 0, y: height - 2, width: width, height: 1)
        var layout = StudioLayout(width: width, height: height, mode: .tooSmall, panes: [:], status: status, keyBar: keyBar)
        guard width >= minimumWidth && height >= minimumHeight else { return layout }
        let body = height - 2
        if width >= wideWidth && height >= wideHeight {
            layout.mode = .wide
            // Experts need about 44 columns for 9 + 3 cells per layer; the image takes what is left.
            let right = min(max(width * 34 / 100, 40), 52)
            let left = (width - right) / 2
            let middle = width - right - left
            let promptHeight = min(max(body * 2 / 5, 6), body - 6)
            layout.panes = [
                .prompt: Rect(x: 0, y: 0, width: left, height: promptHeight),
                .chat: Rect(x: 0, y: promptHeight, width: left, height: body - promptHeight),
                .unmasking: Rect(x: left, y: 0, width: middle, height: body),
                .experts: Rect(x: left + middle, y: 0, width: right, height: body),
            ]
        } else {
            layout.mode = .narrow
            var y = 0
            let focusedHeight = body - (PaneID.allCases.count - 1)
            for pane in PaneID.allCases {
                let h = pane == focus ? focusedHeight : 1
                layout.panes[pane] = Rect(x: 0, y: y, width: width, height: h)
                y += h
            }
        }
        return layout
    }

    /// Whether a pane is shown with its content (not collapsed to a title line).
    public func isExpanded(_ pane: PaneID) -> Bool { (panes[pane]?.height ?? 0) >= 3 }

    /// The pane under a mouse click, if any.
    public func pane(atX x: Int, y: Int) -> PaneID? {
        PaneID.allCases.first { panes[$0]?.contains(x: x, y: y) == true }
    }
}
