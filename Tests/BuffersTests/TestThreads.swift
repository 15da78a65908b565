// Test support: real pthreads (the pools under test are per-thread, and Swift Testing's
// cooperative pool gives no control over which thread runs what), a box for moving
// non-copyable buffers between threads, and polling with a deadline instead of fixed sleeps.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Runs `body(threadIndex)` on `count` freshly created threads and waits for all of them.
/// Fresh threads start with empty thread-local pools, so counters seen inside are exact.
func runOnNewThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    var threads: [pthread_t] = []
    for index in 0..<count {
        let work = Unmanaged.passRetained(ThreadWork { body(index) }).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let status = pthread_create(&thread, nil, { context in
            Unmanaged<ThreadWork>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, work)
        precondition(status == 0, "pthread_create failed with \(status)")
        #if canImport(Darwin)
        threads.append(thread!)
        #else
        threads.append(thread)
        #endif
    }
    for thread in threads {
        pthread_join(thread, nil)
    }
}

/// Runs `body` on one fresh thread and returns its result.
func onNewThread<Result: Sendable>(_ body: @escaping @Sendable () -> Result) -> Result {
    let box = ResultBox<Result>()
    runOnNewThreads(1) { _ in box.store(body()) }
    return box.load()!
}

private final class ThreadWork {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

final class ResultBox<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    func store(_ newValue: Value) { value.withLock { $0 = newValue } }
    func load() -> Value? { value.withLock { $0 } }
}

/// Holds one non-copyable buffer so it can sit in an array or cross threads in a test.
/// `drop()` runs the buffer's deinit on the calling thread — which is what the
/// thread-return tests are about.
final class Held<Buffer: ~Copyable>: @unchecked Sendable {
    private var buffer: Buffer?

    init(_ buffer: consuming Buffer) {
        self.buffer = consume buffer
    }

    func drop() {
        buffer = nil
    }
}

/// Addresses currently held by someone; inserting one that is already held means two
/// holders got the same buffer.
final class HolderRegistry: Sendable {
    private let held = Mutex<Set<UInt>>([])

    /// False if another holder already has this address.
    func claim(_ address: UnsafeMutableRawPointer) -> Bool {
        held.withLock { $0.insert(UInt(bitPattern: address)).inserted }
    }

    func release(_ address: UnsafeMutableRawPointer) {
        _ = held.withLock { $0.remove(UInt(bitPattern: address)) }
    }

    var count: Int { held.withLock { $0.count } }
}

/// Polls `condition` every few milliseconds until it holds or `timeout` passes.
func waitUntil(timeout: Duration, _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= deadline { return condition() }
        usleep(5_000)
    }
    return true
}

/// Fills every 8-byte word at `stride` intervals (and the last word) with `tag`.
/// Cheap enough for 10k iterations per thread, dense enough that sharing a buffer shows.
func stamp(_ bytes: UnsafeMutableRawBufferPointer, with tag: UInt64, stride: Int = 4096) {
    for offset in Swift.stride(from: 0, to: bytes.count - 8, by: stride) {
        bytes.storeBytes(of: tag, toByteOffset: offset, as: UInt64.self)
    }
    bytes.storeBytes(of: tag, toByteOffset: bytes.count - 8, as: UInt64.self)
}

/// True if every word written by `stamp` still holds `tag`.
func carriesStamp(_ bytes: UnsafeMutableRawBufferPointer, tag: UInt64, stride: Int = 4096) -> Bool {
    for offset in Swift.stride(from: 0, to: bytes.count - 8, by: stride)
    where bytes.load(fromByteOffset: offset, as: UInt64.self) != tag {
        return false
    }
    return bytes.load(fromByteOffset: bytes.count - 8, as: UInt64.self) == tag
}

/// A counter any thread can bump (violations seen by workers, deinits seen by probes).
final class SharedCounter: Sendable {
    private let count = Atomic<Int>(0)
    func increment() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// Values gathered from several threads.
final class Collected<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
}
