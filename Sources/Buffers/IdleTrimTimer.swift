// The low-frequency background timer that lets a SizeClassPool give memory back after a
// quiet period without anyone calling trimIdle by hand.

import Dispatch

/// A repeating Dispatch timer on a utility queue, cancelled when this object goes away.
///
/// The owner (a pool) keeps the timer; the timer's action must capture the owner weakly,
/// otherwise the two keep each other alive and the pool never deinitialises.
final class IdleTrimTimer: @unchecked Sendable {
    // Touched only in init/start/deinit, which cannot overlap.
    private let source: DispatchSourceTimer
    private var started = false

    /// Scheduled but not running until `start(_:)`: the action usually needs `self` of an
    /// owner that is still initialising.
    init(interval: Duration) {
        let nanoseconds = Self.clampedNanoseconds(interval)
        source = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        // A generous leeway lets the kernel coalesce our wake-up with others; trimming late
        // by a tenth of the period is harmless.
        source.schedule(
            deadline: .now() + .nanoseconds(nanoseconds),
            repeating: .nanoseconds(nanoseconds),
            leeway: .nanoseconds(max(nanoseconds / 10, 1_000_000)))
    }

    func start(_ action: @escaping @Sendable () -> Void) {
        precondition(!started, "IdleTrimTimer started twice")
        started = true
        source.setEventHandler(handler: action)
        source.resume()
    }

    deinit {
        source.cancel()
        // libdispatch traps when a never-resumed source is released.
        if !started {
            source.resume()
        }
    }

    /// Dispatch wants whole nanoseconds in an Int; also stops a zero or negative timeout
    /// from becoming a busy loop.
    static func clampedNanoseconds(_ interval: Duration) -> Int {
        let minimum = 1_000_000  // 1 ms
        let (seconds, attoseconds) = interval.components
        guard seconds >= 0 else { return minimum }
        let maximumSeconds = Int64(Int.max / 1_000_000_000) - 1
        let wholeSeconds = min(seconds, maximumSeconds)
        let nanoseconds = Int(wholeSeconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        return max(nanoseconds, minimum)
    }
}
