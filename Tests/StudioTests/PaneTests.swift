import Testing
import Inference
@testable import Studio

/// The panes' own state changes, without a core or a worker.
@Suite struct PaneTests {
    func token(_ text: String) -> TokenEvent {
        TokenEvent(text: text, tokenID: 0, routing: RoutingTrace(group: "mmu", layers: [LayerRouting(frequencies: [1, 0, 1, 0])]))
    }

    func answering(_ question: String) -> ChatPane {
        var chat = ChatPane()
        chat.messages.append(ChatMessage(.user, question))
        chat.asked = (question, chat.messages.count)
        chat.answering = true
        return chat
    }

    @Test func answersEndByTheirOutcome() {
        var finished = answering("is she happy?")
        for piece in ["She", " looks", " happy."] { finished.receive(token(piece)) }
        finished.finishAnswer(.finished)
        #expect(finished.turns == [ChatTurn(question: "is she happy?", answer: "She looks happy.")] && !finished.answering)
        #expect(finished.messages.map(\.text) == ["is she happy?", "She looks happy."])

        // A cancelled answer stays in the conversation as far as it got, and says so.
        var cancelled = answering("how old?")
        cancelled.receive(token("About"))
        cancelled.finishAnswer(.cancelled)
        #expect(cancelled.turns == [ChatTurn(question: "how old?", answer: "About")])
        #expect(cancelled.messages.last == ChatMessage(.info, "(answer cancelled)"))

        var failed = answering("and her hair?")
        failed.finishAnswer(.failed("question too long"))
        #expect(failed.turns.isEmpty && failed.messages.last == ChatMessage(.error, "question too long"))
    }

    @Test func jobOutcomesAreTyped() {
        #expect(JobOutcome(nil) == .finished)
        #expect(JobOutcome(InferenceError.cancelled) == .cancelled)
        #expect(JobOutcome(InferenceError.invalidOption("steps: 0 is outside 1…256")) == .failed("steps: 0 is outside 1…256"))
    }

    @Test func theExpertsPaneAveragesAnAnswersRouting() {
        var experts = ExpertsPane()
        experts.accumulate(token("a").routing)
        experts.accumulate(RoutingTrace(group: "mmu", layers: [LayerRouting(frequencies: [0, 1, 1, 0])]))
        #expect(experts.mmuTokens == 2 && experts.mmuFrequencies == [[0.5, 0.5, 1, 0]])
        experts.resetAnswer()
        #expect(experts.mmuFrequencies.isEmpty)
    }
}
