import Foundation
import Imaging
import Inference
@testable import Studio

/// A stand-in engine for tests: deterministic frames from the prompt and seed, answers that
/// stream word by word, and a configurable delay per step so tests can cancel mid-way.
final class FakeBackend: StudioBackend, @unchecked Sendable {
    let side = 4
    let layers = 3
    var stepDelay: Double = 0
    var failLoad: String? = nil
    private(set) var openedImages: [RGBImage] = []
    private(set) var openedHistories: [[ChatTurn]] = []
    private(set) var questions: [String] = []
    private(set) var generated: [(prompt: String, settings: GenerateOptions)] = []
    let lock = NSLock()

    func load() throws -> ModelInfo {
        if let failLoad { throw StudioError(failLoad) }
        return ModelInfo(name: "fake", layers: layers, dModel: 64, sharedExperts: 1, routedExperts: 8, gridSide: side,
                         sequenceExperts: ["t2i": ["copy", "zero", "noise"], "mmu": ["copy", "clip", "face"]])
    }

    /// Words containing "zz" count as never seen.
    func unknownWords(in prompt: String) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start: Int? = nil
        let chars = Array(prompt)
        for i in 0...chars.count {
            let isWord = i < chars.count && chars[i].isLetter
            if isWord, start == nil { start = i }
            if !isWord, let s = start {
                if String(chars[s..<i]).contains("zz") { result.append(s..<i) }
                start = nil
            }
        }
        return result
    }

    func generate(prompt: String, options settings: GenerateOptions, cancel: Cancellation, onStep: (StepEvent) -> Void) throws {
        lock.lock(); generated.append((prompt, settings)); lock.unlock()
        let n = side * side
        var masked = [Bool](repeating: true, count: n)
        for k in 0..<settings.steps {
            if cancel.isCancelled { throw InferenceError.cancelled }
            if stepDelay > 0 { Thread.sleep(forTimeInterval: stepDelay) }
            let keep = k == settings.steps - 1 ? 0 : n * (settings.steps - k - 1) / settings.steps
            var revealed: [Int] = []
            for i in 0..<n where masked[i] && i >= keep { masked[i] = false; revealed.append(i) }
            let codes = (0..<n).map { ($0 * 7 + Int(settings.seed)) % 16 }
            let routing = RoutingTrace(group: "t2i", layers: (0..<layers).map { l in
                LayerRouting(frequencies: (0..<8).map { Double(($0 + l + k) % 8) / 28 }, topExpert: (0..<n).map { ($0 + l) % 8 })
            })
            onStep(StepEvent(step: k, steps: settings.steps, codes: codes, masked: masked,
                             confidence: (0..<n).map { Float($0) / Float(n) }, revealed: revealed, routing: routing,
                             preview: try decode(codes: codes), elapsed: Double(k + 1) * 0.01))
        }
    }

    func decode(codes: [Int]) throws -> RGBImage {
        var image = RGBImage(width: 16, height: 16)
        for y in 0..<16 { for x in 0..<16 {
            let c = codes[(y / 4) * side + x / 4]
            image.setPixel(x: x, y: y, (UInt8(c * 16), UInt8(255 - c * 16), 128))
        } }
        return image
    }

    func openChat(image: RGBImage, history: [ChatTurn]) throws {
        lock.lock(); openedImages.append(image); openedHistories.append(history); lock.unlock()
    }

    func ask(_ question: String, cancel: Cancellation, onToken: (TokenEvent) -> Void) throws -> String {
        lock.lock(); questions.append(question); lock.unlock()
        let answer = "They look happy and young."
        for word in answer.split(separator: " ", omittingEmptySubsequences: false).enumerated().map({ ($0.offset == 0 ? "" : " ") + $0.element }) {
            if cancel.isCancelled { throw InferenceError.cancelled }
            if stepDelay > 0 { Thread.sleep(forTimeInterval: stepDelay) }
            let routing = RoutingTrace(group: "mmu", layers: (0..<layers).map { _ in LayerRouting(frequencies: [0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0, 0]) })
            onToken(TokenEvent(text: word, tokenID: 0, routing: routing))
        }
        return answer
    }

    func clearChat() {}
}

/// A studio core on a worker over the fake backend, with helpers to wait for the engine.
final class Harness {
    let backend = FakeBackend()
    let worker: Worker
    let core: StudioCore

    init(width: Int = 120, height: Int = 40, depth: ColorDepth = .palette256, graphics: GraphicsMode = .blocks,
         theme: Theme? = nil, sessionPath: String = NSTemporaryDirectory() + "facestudio-test-session-\(UUID().uuidString).json",
         load: Bool = true) throws {
        worker = Worker(backend: backend)
        let theme = try theme ?? ThemeLibrary(directories: [repositoryRoot + "/Themes"]).load("dark")
        let backend = self.backend
        core = StudioCore(theme: theme, depth: depth, graphics: graphics, jobs: worker,
                          unknownWords: { backend.unknownWords(in: $0) }, sessionPath: sessionPath,
                          exportDirectory: NSTemporaryDirectory())
        core.resize(width: width, height: height)
        worker.start()
        if load { worker.submit(.load); try settle() }
    }

    deinit { worker.stop() }

    /// Feeds engine events to the core until the worker is idle and the mailbox empty.
    func settle(timeout: Double = 5) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let events = worker.mailbox.take()
            events.forEach(core.handle)
            if events.isEmpty && !worker.isBusy {
                let late = worker.mailbox.take()
                late.forEach(core.handle)
                if late.isEmpty { return }
            }
            Thread.sleep(forTimeInterval: 0.002)
        }
        throw StudioError("the fake engine did not finish within \(timeout) s")
    }

    func type(_ text: String) { for c in text { core.handle(c == "\n" ? .enter : .char(c)) } }

    var screen: [String] { core.render().lines() }
}
