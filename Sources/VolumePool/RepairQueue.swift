import CLinuxShims
import Foundation
import Synchronization

/// The MRF ("most recently failed") queue: objects a write left short of full redundancy or a
/// read found damaged. Bounded and de-duplicated; what overflows is counted and left to a full
/// `heal`, which finds it anyway.
public final class RepairQueue: Sendable {
    public let capacity: Int
    private struct State {
        var order: [ObjectID] = []
        var head = 0
        var members: Set<ObjectID> = []
        var dropped = 0
    }
    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)

    init(capacity: Int) { self.capacity = capacity }

    public func enqueue(_ id: ObjectID) {
        let added = state.withLock { state -> Bool in
            guard !state.members.contains(id) else { return false }
            guard state.members.count < capacity else {
                state.dropped += 1
                return false
            }
            state.members.insert(id)
            state.order.append(id)
            return true
        }
        if added { wakeUp.signal() }
    }

    /// Takes the oldest queued id, or nil when the queue is empty.
    public func dequeue() -> ObjectID? {
        state.withLock { state in
            guard state.head < state.order.count else { return nil }
            let id = state.order[state.head]
            state.head += 1
            state.members.remove(id)
            if state.head > 1024 && state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
            return id
        }
    }

    public var count: Int { state.withLock { $0.members.count } }
    public var droppedCount: Int { state.withLock { $0.dropped } }
    public var queued: [ObjectID] { state.withLock { Array($0.order[$0.head...]) } }

    /// Waits until something is enqueued or `timeout` passes.
    func waitForWork(timeout: DispatchTimeInterval) {
        _ = wakeUp.wait(timeout: .now() + timeout)
    }

    func wakeWaiter() { wakeUp.signal() }
}

/// Drains the repair queue on its own thread.
final class BackgroundHealer: Sendable {
    private let queue: RepairQueue
    private let running = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    /// pthread id of the healing thread, so a pool released on that thread does not wait for itself.
    private let threadID = Atomic<UInt>(0)

    init(queue: RepairQueue) { self.queue = queue }

    func start(pool: VolumePool) {
        running.store(true, ordering: .sequentiallyConsistent)
        let thread = Thread { [weak pool, self] in
            _ = shardvault_name_this_thread("sv-heal")
            threadID.store(UInt(pthread_self()), ordering: .sequentiallyConsistent)
            while running.load(ordering: .sequentiallyConsistent) {
                guard let id = queue.dequeue() else {
                    queue.waitForWork(timeout: .milliseconds(500))
                    continue
                }
                guard let pool else { break }
                _ = try? pool.heal(id)
            }
            finished.signal()
        }
        thread.start()
    }

    func stop() {
        guard running.exchange(false, ordering: .sequentiallyConsistent) else { return }
        queue.wakeWaiter()
        if threadID.load(ordering: .sequentiallyConsistent) != UInt(pthread_self()) { finished.wait() }
    }
}
