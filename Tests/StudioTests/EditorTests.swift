import Testing
@testable import Studio

@Suite struct EditorTests {
    @Test func insertsAndMovesByGraphemes() {
        var e = TextEditor()
        e.insert("café 👩🏽‍🦰 ok")
        #expect(e.text == "café 👩🏽‍🦰 ok")
        #expect(e.cursor == 9)
        e.moveLeft(); e.moveLeft(); e.moveLeft()
        e.deleteBackward()  // the whole emoji cluster goes at once
        #expect(e.text == "café  ok")
        e.moveTextStart(); e.moveRight(); e.moveRight(); e.moveRight()
        e.deleteForward()
        #expect(e.text == "caf  ok")
    }

    @Test func wordMovesAndDeletes() {
        var e = TextEditor(text: "a young  woman, smiling")
        e.moveWordLeft()
        #expect(e.cursor == 16)
        e.moveWordLeft(); e.moveWordLeft()
        #expect(e.cursor == 2)
        e.moveWordRight()
        #expect(e.cursor == 7)
        e.moveTextEnd()
        e.deleteWordBackward()
        #expect(e.text == "a young  woman, ")
        e.deleteWordBackward()
        #expect(e.text == "a young  ")
        e.moveTextStart()
        e.deleteWordForward()
        #expect(e.text == " young  ")
    }

    @Test func killsAccumulateAndYankBack() {
        var e = TextEditor(text: "one two three")
        e.moveTextEnd()
        e.deleteWordBackward(); e.deleteWordBackward()
        #expect(e.text == "one ")
        #expect(e.killBuffer == "two three")  // consecutive kills join in reading order
        e.yank()
        #expect(e.text == "one two three")
        e.moveTextStart()
        e.killToLineEnd()
        #expect(e.text == "" && e.killBuffer == "one two three")
    }

    @Test func killToLineEndTakesTheNewlineAtTheEnd() {
        var e = TextEditor(text: "ab\ncd")
        e.moveTextStart(); e.moveLineEnd()
        e.killToLineEnd()
        #expect(e.text == "abcd")
        e.moveTextEnd()
        e.killToLineStart()
        #expect(e.text == "")
        #expect(e.killBuffer == "abcd")
    }

    @Test func undoGroupsTypingAndRestoresKills() {
        var e = TextEditor()
        for c in "young man" { e.insert(String(c)) }
        e.undo()
        #expect(e.text == "young ")  // "man" was one run of typing
        e.undo()
        #expect(e.text == "young")   // the space was its own edit
        e.undo()
        #expect(e.text == "")
        #expect(!e.canUndo)
        e.insert("a b")
        e.deleteWordBackward()
        e.undo()
        #expect(e.text == "a b" && e.cursor == 3)
    }

    @Test func verticalMovesKeepTheColumn() {
        var e = TextEditor(text: "long first line\nab\nthird line here")
        e.moveTextStart()
        for _ in 0..<10 { e.moveRight() }
        var moved = e.moveDown()
        #expect(moved && e.cursorPosition == (1, 2))  // clamped on the short line
        moved = e.moveDown()
        #expect(moved && e.cursorPosition == (2, 10))  // goal column comes back
        moved = e.moveDown()
        #expect(!moved)
        e.moveLineStart()
        #expect(e.cursorPosition == (2, 0))
        let ups = [e.moveUp(), e.moveUp(), e.moveUp()]
        #expect(ups == [true, true, false])
    }

    @Test func historyBrowsesAndKeepsTheDraft() {
        var h = PromptHistory()
        h.record("first"); h.record("second"); h.record("second"); h.record("  ")
        #expect(h.entries == ["first", "second"])
        #expect(h.previous(current: "draft") == "second")
        #expect(h.previous(current: "second") == "first")
        #expect(h.previous(current: "first") == nil)
        #expect(h.next() == "second")
        #expect(h.next() == "draft")
        #expect(h.next() == nil)
    }

    @Test func completionOfAttributePhrases() {
        let completer = PhraseCompleter(phrases: ["bags under eyes", "bald", "bangs", "big nose", "eyeglasses"])
        var e = TextEditor(text: "a man with bags un")
        let done = e.complete(with: completer, continuing: nil)
        #expect(done == nil)
        #expect(e.text == "a man with bags under eyes")
        // Several candidates: first the common prefix, then cycling.
        var f = TextEditor(text: "b")
        let started = f.complete(with: completer, continuing: nil)
        #expect(started?.candidates.count == 4 && f.text == "bags under eyes")
        f = TextEditor(text: "ba")
        var cycle = f.complete(with: completer, continuing: nil)
        #expect(f.text == "bags under eyes" && cycle?.candidates == ["bags under eyes", "bald", "bangs"])
        cycle = f.complete(with: completer, continuing: cycle)
        #expect(f.text == "bald")
        cycle = f.complete(with: completer, continuing: cycle)
        #expect(f.text == "bangs")
        // Nothing to complete after a space or for an unknown word.
        var g = TextEditor(text: "zz")
        let nothing = g.complete(with: completer, continuing: nil)
        #expect(nothing == nil && g.text == "zz")
        #expect(PhraseCompleter.commonPrefix(["bald", "bangs"]) == "ba")
    }

    @Test func theSchemaFeedsCompletion() {
        let phrases = PhraseCompleter.attributes.phrases
        #expect(phrases.contains("bags under the eyes") && phrases.contains("receding hairline") && phrases.contains("happy"))
        #expect(phrases.count >= 40)
    }
}
