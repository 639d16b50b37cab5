import Foundation
import Synchronization

/// The engine's helper threads. A forward pass runs a few hundred short parallel regions back to
/// back; waking a sleeping thread for each (what `DispatchQueue.concurrentPerform` does) cost
/// about a tenth of a MaskGIT step in futex calls. Helpers here keep polling for the next region
/// for a short while after each one and only then sleep on a condition variable.
///
/// One region at a time: a caller that finds the pool busy (another thread's region) runs its
/// parts itself.
final class WorkerPool: @unchecked Sendable {
    /// Region generation in the high 32 bits, next unclaimed part in the low 32.
    private let ticket = Atomic<UInt64>(0)
    private let finishedParts = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    // Written by the caller before it publishes a generation, read by helpers after they see it.
    private var body: ((Int) -> Void)?
    private var parts = 0
    private var generation: UInt64 = 0
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    /// Polls of the ticket before a helper sleeps (tens of microseconds).
    private let spinLimit = 40_000
    /// Raised on threads running a region's part (Threading.insideRegion).
    let inRegion: ThreadFlag

    init(helpers: Int, inRegion: ThreadFlag) {
        self.inRegion = inRegion
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        for _ in 0..<helpers {
            let thread = Thread { [unowned self] in self.helperLoop() }
            thread.name = "facestudio-worker"
            thread.start()
        }
    }

    /// Runs `body(part)` for every part in `0..<count`, the caller taking parts too; returns
    /// when all are done.
    func run(_ count: Int, _ body: (Int) -> Void) {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for part in 0..<count { runPart(part, body) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            self.body = escapable
            parts = count
            finishedParts.store(0, ordering: .relaxed)
            generation += 1
            ticket.store(generation << 32, ordering: .releasing)
            pthread_mutex_lock(&mutex)
            pthread_cond_broadcast(&wake)
            pthread_mutex_unlock(&mutex)
            claimParts(of: generation)
            // A helper still on its part may be waiting for this very core (another process
            // busy on the other): after a short spin, yield it the core.
            var spins = 0
            while finishedParts.load(ordering: .acquiring) < count {
                spins += 1
                if spins > spinLimit / 4 { sched_yield() }
            }
            self.body = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Takes and runs parts of region `generation` until none is left (or a newer region began).
    private func claimParts(of generation: UInt64) {
        while true {
            let t = ticket.load(ordering: .acquiring)
            let part = Int(t & 0xffff_ffff)
            guard t >> 32 == generation, part < parts else { return }
            if ticket.compareExchange(expected: t, desired: t + 1, ordering: .acquiringAndReleasing).exchanged {
                runPart(part, body!)
                finishedParts.add(1, ordering: .releasing)
            }
        }
    }

    private func runPart(_ part: Int, _ body: (Int) -> Void) {
        inRegion.set { body(part) }
    }

    private func helperLoop() {
        var seen: UInt64 = 0
        while true {
            var spins = 0
            while ticket.load(ordering: .acquiring) >> 32 == seen {
                spins += 1
                if spins < spinLimit { continue }
                pthread_mutex_lock(&mutex)
                while ticket.load(ordering: .acquiring) >> 32 == seen { pthread_cond_wait(&wake, &mutex) }
                pthread_mutex_unlock(&mutex)
            }
            seen = ticket.load(ordering: .acquiring) >> 32
            claimParts(of: seen)
        }
    }
}
