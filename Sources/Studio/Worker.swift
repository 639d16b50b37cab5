import Foundation
import Imaging
import Inference

/// Work the studio hands to the engine thread.
public enum Job: Sendable {
    case load
    case generate(id: Int, prompt: String, options: GenerateOptions)
    case openChat(id: Int, image: ChatImage, history: [ChatTurn], source: String)
    case ask(id: Int, question: String)
    case clearChat
    /// Decode stored frames' codes (restoring a session).
    case decode(id: Int, codes: [[Int]])

    /// Jobs of one kind replace each other: a newer request cancels the older.
    var kind: Int {
        switch self {
        case .load: return 0
        case .generate: return 1
        case .openChat, .ask, .clearChat: return 2
        case .decode: return 3
        }
    }
}

/// How a generate or ask job ended.
public enum JobOutcome: Sendable, Equatable {
    case finished
    /// Stopped by a newer job or Esc; what it produced until then stands.
    case cancelled
    case failed(String)

    /// The outcome of a job that threw `error` (nil: it returned).
    init(_ error: Error?) {
        switch error {
        case nil: self = .finished
        case InferenceError.cancelled?: self = .cancelled
        case let error?: self = .failed("\(error)")
        }
    }
}

/// What the engine thread reports back.
public enum WorkerEvent: Sendable {
    case loaded(ModelInfo)
    case loadFailed(String)
    case frame(id: Int, StepEvent)
    case generationEnded(id: Int, JobOutcome)
    case chatOpened(id: Int, source: String, error: String?)
    case token(id: Int, TokenEvent)
    case answerEnded(id: Int, JobOutcome)
    case decoded(id: Int, images: [RGBImage?], error: String?)
}

/// A thread-safe mailbox from the worker to the UI loop, with a pipe the UI can `poll` on so an
/// event wakes it at once.
public final class EventMailbox: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [WorkerEvent] = []
    /// Read end for `poll`; the UI drains it with `drainWakeups`.
    public let wakeFD: Int32
    private let writeFD: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        wakeFD = fds[0]; writeFD = fds[1]
    }

    deinit { close(wakeFD); close(writeFD) }

    public func post(_ event: WorkerEvent) {
        lock.lock(); events.append(event); lock.unlock()
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)  // a full pipe already means "wake up"
    }

    public func take() -> [WorkerEvent] {
        lock.lock(); defer { lock.unlock() }
        let all = events
        events = []
        return all
    }

    public func drainWakeups() {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(wakeFD, &buffer, buffer.count) > 0 {}
    }
}

/// The engine thread: runs jobs one at a time, off the UI thread. A job of the same kind as
/// the running one cancels it (a new generate stops the old one between steps); `cancelAll`
/// (Esc) stops the running job and drops the queued ones.
public final class Worker: @unchecked Sendable {
    private let backend: StudioBackend
    public let mailbox: EventMailbox
    private let condition = NSCondition()
    private var pending: [Job] = []
    private var running: (kind: Int, cancel: Cancellation)? = nil
    private var stopped = false
    private var thread: Thread?

    public init(backend: StudioBackend, mailbox: EventMailbox = EventMailbox()) {
        self.backend = backend
        self.mailbox = mailbox
    }

    public func start() {
        let thread = Thread { [weak self] in self?.loop() }
        thread.name = "facestudio-engine"
        thread.stackSize = 16 << 20
        self.thread = thread
        thread.start()
    }

    public func submit(_ job: Job) {
        condition.lock()
        pending.removeAll { $0.kind == job.kind && job.kind != 2 }
        if let running, running.kind == job.kind, job.kind != 2 { running.cancel.cancel() }
        if case .ask = job, let running, running.kind == 2 { running.cancel.cancel() }
        pending.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Cancels the running job and drops queued generate/ask jobs (loads and chat opens stay).
    public func cancelAll() {
        condition.lock()
        running?.cancel.cancel()
        pending.removeAll {
            switch $0 { case .generate, .ask: return true; default: return false }
        }
        condition.unlock()
    }

    public var isBusy: Bool {
        condition.lock(); defer { condition.unlock() }
        return running != nil || !pending.isEmpty
    }

    public func stop() {
        condition.lock()
        stopped = true
        running?.cancel.cancel()
        pending = []
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopped { condition.wait() }
            if stopped { condition.unlock(); return }
            let job = pending.removeFirst()
            let cancel = Cancellation()
            running = (job.kind, cancel)
            condition.unlock()
            run(job, cancel: cancel)
            condition.lock()
            running = nil
            condition.unlock()
        }
    }

    private func run(_ job: Job, cancel: Cancellation) {
        let mailbox = self.mailbox
        switch job {
        case .load:
            do { mailbox.post(.loaded(try backend.load())) } catch { mailbox.post(.loadFailed("\(error)")) }
        case let .generate(id, prompt, options):
            do {
                try backend.generate(prompt: prompt, options: options, cancel: cancel) { mailbox.post(.frame(id: id, $0)) }
                mailbox.post(.generationEnded(id: id, cancel.isCancelled ? .cancelled : .finished))
            } catch {
                mailbox.post(.generationEnded(id: id, JobOutcome(error)))
            }
        case let .openChat(id, image, history, source):
            do {
                let picture: RGBImage
                switch image {
                case let .image(i): picture = i
                case let .codes(c): picture = try backend.decode(codes: c)
                case let .file(path): picture = try PNGCodec.read(path: path)
                }
                try backend.openChat(image: picture, history: history)
                mailbox.post(.chatOpened(id: id, source: source, error: nil))
            } catch {
                mailbox.post(.chatOpened(id: id, source: source, error: "\(error)"))
            }
        case let .ask(id, question):
            do {
                _ = try backend.ask(question, cancel: cancel) { mailbox.post(.token(id: id, $0)) }
                mailbox.post(.answerEnded(id: id, cancel.isCancelled ? .cancelled : .finished))
            } catch {
                mailbox.post(.answerEnded(id: id, JobOutcome(error)))
            }
        case .clearChat:
            backend.clearChat()
        case let .decode(id, codes):
            var images: [RGBImage?] = []
            var failure: String? = nil
            for c in codes {
                do { images.append(try backend.decode(codes: c)) } catch { images.append(nil); failure = "\(error)" }
            }
            mailbox.post(.decoded(id: id, images: images, error: failure))
        }
    }
}
