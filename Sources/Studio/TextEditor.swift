/// A multi-line text buffer with a cursor, edited by the prompt and chat panes.
///
/// Text is held as `Character`s (grapheme clusters), so one cursor step never splits "é" or an
/// emoji. Moves and edits follow Emacs/readline: word moves and deletes, kill to line end/start
/// with consecutive kills collected into one yank, and undo that groups a run of typing.
public struct TextEditor: Equatable, Sendable {
    public private(set) var characters: [Character]
    /// Index into `characters` (0...count).
    public private(set) var cursor: Int
    /// The last killed text (Ctrl-Y inserts it).
    public private(set) var killBuffer = ""

    private struct Snapshot: Equatable, Sendable { var characters: [Character]; var cursor: Int }
    private var undoStack: [Snapshot] = []
    private enum LastEdit: Equatable, Sendable { case none, typing, killForward, killBackward }
    private var lastEdit = LastEdit.none
    /// Column kept across vertical moves through shorter lines.
    private var goalColumn: Int? = nil

    public static let undoLimit = 500

    public init(text: String = "") {
        characters = Array(text)
        cursor = characters.count
    }

    public var text: String { String(characters) }
    public var isEmpty: Bool { characters.isEmpty }

    // MARK: Lines

    /// Start indices of each line (after each "\n").
    public var lineStarts: [Int] {
        var starts = [0]
        for (i, c) in characters.enumerated() where c == "\n" { starts.append(i + 1) }
        return starts
    }

    /// 0-based line and column (in characters) of an index.
    public func position(of index: Int) -> (line: Int, column: Int) {
        let starts = lineStarts
        let line = (starts.lastIndex { $0 <= index }) ?? 0
        return (line, index - starts[line])
    }

    public var cursorPosition: (line: Int, column: Int) { position(of: cursor) }

    private func lineEnd(from index: Int) -> Int {
        var i = index
        while i < characters.count && characters[i] != "\n" { i += 1 }
        return i
    }

    private func lineStart(from index: Int) -> Int {
        var i = index
        while i > 0 && characters[i - 1] != "\n" { i -= 1 }
        return i
    }

    // MARK: Whole text

    /// Replaces everything (history recall, /clear); undoable.
    public mutating func setText(_ text: String) {
        guard text != self.text else { return }
        pushUndo(.none)
        characters = Array(text)
        cursor = characters.count
    }

    // MARK: Editing

    public mutating func insert(_ text: String) {
        guard !text.isEmpty else { return }
        let typing = text.count == 1 && !(text.first!.isWhitespace)
        pushUndo(typing ? .typing : .none)
        characters.insert(contentsOf: Array(text), at: cursor)
        cursor += text.count
    }

    public mutating func insertNewline() { insert("\n") }

    public mutating func deleteBackward() {
        guard cursor > 0 else { return }
        pushUndo(.none)
        characters.remove(at: cursor - 1)
        cursor -= 1
    }

    public mutating func deleteForward() {
        guard cursor < characters.count else { return }
        pushUndo(.none)
        characters.remove(at: cursor)
    }

    /// Deletes back to the start of the word (Ctrl-W, Alt-Backspace); the text goes to the kill buffer.
    public mutating func deleteWordBackward() { kill(from: wordStart(before: cursor), to: cursor, backward: true) }

    /// Deletes to the end of the word (Alt-D).
    public mutating func deleteWordForward() { kill(from: cursor, to: wordEnd(after: cursor), backward: false) }

    /// Kills to the end of the line, or the newline itself at a line's end (Ctrl-K).
    public mutating func killToLineEnd() {
        let end = lineEnd(from: cursor)
        kill(from: cursor, to: end == cursor && end < characters.count ? end + 1 : end, backward: false)
    }

    /// Kills to the start of the line (Ctrl-U).
    public mutating func killToLineStart() { kill(from: lineStart(from: cursor), to: cursor, backward: true) }

    /// Inserts the kill buffer (Ctrl-Y).
    public mutating func yank() {
        guard !killBuffer.isEmpty else { return }
        pushUndo(.none)
        characters.insert(contentsOf: Array(killBuffer), at: cursor)
        cursor += killBuffer.count
    }

    public mutating func undo() {
        guard let last = undoStack.popLast() else { return }
        characters = last.characters
        cursor = last.cursor
        lastEdit = .none
        goalColumn = nil
    }

    public var canUndo: Bool { !undoStack.isEmpty }

    /// Replaces `range` (character offsets) with `text`, cursor after it (completion).
    public mutating func replace(_ range: Range<Int>, with text: String) {
        pushUndo(.none)
        characters.replaceSubrange(range, with: Array(text))
        cursor = range.lowerBound + text.count
    }

    private mutating func kill(from start: Int, to end: Int, backward: Bool) {
        guard start < end else { return }
        let continuing = lastEdit == .killForward || lastEdit == .killBackward
        let piece = String(characters[start..<end])
        pushUndo(backward ? .killBackward : .killForward)
        killBuffer = continuing ? (backward ? piece + killBuffer : killBuffer + piece) : piece
        characters.removeSubrange(start..<end)
        cursor = start
    }

    /// Saves the state for undo, unless this edit continues a run of typing.
    private mutating func pushUndo(_ edit: LastEdit) {
        goalColumn = nil
        defer { lastEdit = edit }
        if edit == .typing && lastEdit == .typing { return }
        undoStack.append(Snapshot(characters: characters, cursor: cursor))
        if undoStack.count > TextEditor.undoLimit { undoStack.removeFirst() }
    }

    // MARK: Moves

    public mutating func moveLeft() { move(to: cursor - 1) }
    public mutating func moveRight() { move(to: cursor + 1) }
    public mutating func moveWordLeft() { move(to: wordStart(before: cursor)) }
    public mutating func moveWordRight() { move(to: wordEnd(after: cursor)) }
    public mutating func moveLineStart() { move(to: lineStart(from: cursor)) }
    public mutating func moveLineEnd() { move(to: lineEnd(from: cursor)) }
    public mutating func moveTextStart() { move(to: 0) }
    public mutating func moveTextEnd() { move(to: characters.count) }

    /// Moves one line up; false when already on the first line (the caller may recall history).
    @discardableResult public mutating func moveUp() -> Bool { moveVertically(-1) }
    @discardableResult public mutating func moveDown() -> Bool { moveVertically(1) }

    private mutating func move(to index: Int) {
        cursor = min(max(index, 0), characters.count)
        goalColumn = nil
        lastEdit = .none
    }

    private mutating func moveVertically(_ delta: Int) -> Bool {
        let starts = lineStarts
        let (line, column) = position(of: cursor)
        let target = line + delta
        guard target >= 0 && target < starts.count else { return false }
        let goal = goalColumn ?? column
        let start = starts[target]
        cursor = min(start + goal, lineEnd(from: start))
        goalColumn = goal
        lastEdit = .none
        return true
    }

    static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "'" }

    func wordStart(before index: Int) -> Int {
        var i = index
        while i > 0 && !TextEditor.isWordCharacter(characters[i - 1]) { i -= 1 }
        while i > 0 && TextEditor.isWordCharacter(characters[i - 1]) { i -= 1 }
        return i
    }

    func wordEnd(after index: Int) -> Int {
        var i = index
        while i < characters.count && !TextEditor.isWordCharacter(characters[i]) { i += 1 }
        while i < characters.count && TextEditor.isWordCharacter(characters[i]) { i += 1 }
        return i
    }
}

/// Earlier prompts, browsed with ↑ on the first line / ↓ on the last. The text being edited
/// when browsing starts is kept and comes back after the newest entry.
public struct PromptHistory: Equatable, Sendable {
    public private(set) var entries: [String]
    private var index: Int? = nil
    private var draft = ""

    public init(entries: [String] = []) { self.entries = entries }

    /// Adds a sent prompt (an immediate repeat is stored once) and ends browsing.
    public mutating func record(_ text: String) {
        index = nil
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, entries.last != text else { return }
        entries.append(text)
    }

    /// The entry before the shown one, or nil at the oldest.
    public mutating func previous(current: String) -> String? {
        guard !entries.isEmpty else { return nil }
        if index == nil { draft = current; index = entries.count }
        guard let i = index, i > 0 else { return nil }
        index = i - 1
        return entries[i - 1]
    }

    /// The entry after the shown one; the draft after the newest; nil when not browsing.
    public mutating func next() -> String? {
        guard let i = index else { return nil }
        if i + 1 < entries.count { index = i + 1; return entries[i + 1] }
        index = nil
        return draft
    }
}
