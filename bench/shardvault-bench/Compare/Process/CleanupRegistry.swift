import Dispatch
import Foundation
import Synchronization

/// Everything `compare` must undo before it exits — live FUSE mounts, daemons, scratch
/// directories — so that Ctrl-C, SIGTERM or a failure never leaves a mount behind.
///
/// Each resource registers a cleanup when it comes into being and `forget`s it once its normal
/// teardown has finished. On SIGINT/SIGTERM/SIGHUP the signal thread runs what is still
/// registered, newest first (unmount before deleting the directory under the mount), and exits
/// with 128 + signal. An entry stays registered until its teardown is complete, so a signal
/// that arrives in the middle of one still waits for the daemon to exit before the directory
/// under it is deleted; actions must therefore tolerate running alongside the normal teardown
/// (unmounting what is no longer mounted, waiting for a child that is already gone).
final class CleanupRegistry: Sendable {
    static let shared = CleanupRegistry()

    typealias Action = @Sendable () -> Void

    private struct State {
        var nextID = 0
        var actions: [(id: Int, label: String, action: Action)] = []
        /// Actions being run right now (by the main thread's teardown or the signal thread).
        var running = Set<Int>()
        var interrupted = false
    }

    private let state = Mutex(State())
    /// Kept alive for the life of the process; written once, from the main thread, before any
    /// signal can be delivered to them.
    private nonisolated(unsafe) static var signalSources: [DispatchSourceSignal] = []

    /// Registers `action`; returns the id to run or forget it with. After an interrupt the
    /// action runs at once (a daemon spawned while the signal thread cleaned up is stopped
    /// too) and the caller is parked until the process exits.
    func register(_ label: String, _ action: @escaping Action) -> Int {
        let (id, late) = state.withLock { state in
            state.nextID += 1
            if !state.interrupted { state.actions.append((state.nextID, label, action)) }
            return (state.nextID, state.interrupted)
        }
        if late {
            action()
            park()
        }
        return id
    }

    /// The teardown the action stands for is done: drop it.
    func forget(_ id: Int) {
        state.withLock { state in state.actions.removeAll { $0.id == id } }
        parkIfInterrupted()
    }

    /// Runs the action (when still registered), then drops it. Never alongside the signal
    /// thread: whichever starts an action first runs it, the other waits or skips it.
    func run(_ id: Int) {
        parkIfInterrupted()
        let action: Action? = state.withLock { state in
            guard let entry = state.actions.first(where: { $0.id == id }), !state.running.contains(id) else { return nil }
            state.running.insert(id)
            return entry.action
        }
        action?()
        state.withLock { state in
            state.running.remove(id)
            state.actions.removeAll { $0.id == id }
        }
        parkIfInterrupted()
    }

    var interrupted: Bool { state.withLock { $0.interrupted } }

    /// After an interrupt the signal thread owns every teardown and ends the process; any other
    /// thread that gets here must not start new work or race it.
    func parkIfInterrupted() {
        if interrupted && !Self.isCleanupThread { park() }
    }

    private func park() -> Never {
        while true { sleep(60) }
    }

    /// Runs every registered action, newest first, dropping each after it ran; waits for one
    /// the main thread is running instead of running it twice.
    func runAll() {
        while true {
            let next: (id: Int, action: Action)?? = state.withLock { state in
                guard let entry = state.actions.last(where: { !state.running.contains($0.id) }) else {
                    return state.running.isEmpty ? .none : .some(nil)
                }
                state.running.insert(entry.id)
                return .some((entry.id, entry.action))
            }
            switch next {
            case .none:
                return
            case .some(nil):
                usleep(10_000)
            case let .some(entry?):
                entry.action()
                state.withLock { state in
                    state.running.remove(entry.id)
                    state.actions.removeAll { $0.id == entry.id }
                }
            }
        }
    }

    /// True on the thread running the interrupt cleanup.
    private static var isCleanupThread: Bool { Thread.current.threadDictionary["shardvault-bench.cleanup"] != nil }

    /// Catches SIGINT, SIGTERM and SIGHUP: the default action would kill the bench with mounts
    /// still live. Children get default dispositions back (`ChildProcess.spawn`).
    func installSignalHandlers() {
        Self.signalSources = [SIGINT, SIGTERM, SIGHUP].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in interrupt(by: number) }
            source.resume()
            return source
        }
    }

    private func interrupt(by number: Int32) {
        let first = state.withLock { state in
            defer { state.interrupted = true }
            return !state.interrupted
        }
        guard first else { return }
        Thread.current.threadDictionary["shardvault-bench.cleanup"] = true
        FileHandle.standardError.write(Data("\ninterrupted (signal \(number)): unmounting and removing scratch files…\n".utf8))
        runAll()
        FileHandle.standardError.write(Data("cleanup done\n".utf8))
        exit(128 + number)
    }
}
