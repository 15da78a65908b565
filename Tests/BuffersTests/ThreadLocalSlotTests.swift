@testable import Buffers
import Testing

/// Records its own deinit, so the test can see the pthread key destructor run.
private final class DeinitProbe {
    let onDeinit: @Sendable () -> Void
    init(onDeinit: @escaping @Sendable () -> Void) { self.onDeinit = onDeinit }
    deinit { onDeinit() }
}

private let deinitCount = SharedCounter()
private let createdCount = SharedCounter()
private let probeSlot = ThreadLocalSlot {
    createdCount.increment()
    return DeinitProbe { deinitCount.increment() }
}

/// The mechanism behind "a thread's buffers are freed when it exits".
@Suite("ThreadLocalSlot", .serialized)
struct ThreadLocalSlotTests {
    @Test("one value per thread, created lazily, released when the thread exits")
    func releasedAtThreadExit() {
        let createdBefore = createdCount.value
        let deinitBefore = deinitCount.value

        runOnNewThreads(4) { _ in
            #expect(probeSlot.currentIfCreated == nil)
            let first = probeSlot.current
            #expect(probeSlot.current === first)
            #expect(probeSlot.currentIfCreated === first)
        }
        // pthread_join returns after the key destructors have run.
        #expect(createdCount.value - createdBefore == 4)
        #expect(deinitCount.value - deinitBefore == 4)
    }

    @Test("a thread that never touches the slot creates nothing")
    func lazyCreation() {
        let createdBefore = createdCount.value
        runOnNewThreads(2) { _ in }
        #expect(createdCount.value == createdBefore)
    }
}
