import CLinuxShims
import Foundation

/// The durability horizon: data written to a file that stays open is written back once the
/// file has gone `idleWriteBackDelay` without a write, or has held unwritten data for
/// `longestUnflushedWrite`; the journal commits it within its own interval after that.
///
/// Why: through a FUSE mount, syncfs(2) and sync(1) never reach the daemon (the kernel sends
/// FUSE_SYNCFS only to virtiofs and fuseblk servers). They do push the kernel's dirty pages
/// to us, as ordinary WRITEs we cannot tell apart. A closed file is written back at once
/// (Vault+WriteBehind.swift), but the buffered blocks of a file still open — a log, a
/// database, an editor's file — waited for its close, however long: `sync` followed by a
/// crash lost them. With the horizon, "sync, then wait a second" is durable, as on a
/// filesystem that commits on a timer (ext4 commits every 5 s).
extension Vault {
    /// Writes back every open file whose unwritten data is due (`OpenFile.isWriteBackDue`).
    /// Failures are kept for the file's next flush or fsync, which reports them.
    func writeBackDueFiles(now: UInt64) {
        for file in openFiles.allFiles() {
            file.lock.lock()
            defer { file.lock.unlock() }
            guard file.isWriteBackDue(now: now, idleDelay: dirtyDataTimes.idle, longest: dirtyDataTimes.longest),
                  (try? isUnlinked(file)) == false else { continue }
            do throws(VaultError) {
                try flush(file)
            } catch {
                if file.writebackError == nil { file.writebackError = error }
            }
        }
    }
}

/// The thread that runs `Vault.writeBackDueFiles` a few times a second.
final class DirtyDataSweeper: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopping = false
    private var stopped = false

    /// Starts sweeping `vault` every `interval`; the thread ends when the vault is gone or
    /// `stop` is called.
    init(vault: Vault, interval: TimeInterval) {
        let thread = Thread { [weak vault, self] in
            _ = shardvault_name_this_thread("sv-sweeper")
            condition.lock()
            defer {
                stopped = true
                condition.broadcast()
                condition.unlock()
            }
            while !stopping {
                _ = condition.wait(until: Date().addingTimeInterval(interval))
                guard !stopping, let vault else { return }
                condition.unlock()
                vault.writeBackDueFiles(now: MonotonicClock.nanoseconds)
                condition.lock()
            }
        }
        thread.start()
    }

    /// Ends the thread, waiting for a sweep in progress.
    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopping = true
        condition.broadcast()
        while !stopped { condition.wait() }
    }
}

/// The coarse monotonic clock (one scheduler tick): cheap enough to read on every write.
enum MonotonicClock {
    static var nanoseconds: UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

/// When a file's unwritten data is due for write-back, in nanoseconds of `MonotonicClock`.
struct DirtyDataTimes: Sendable {
    var idle: UInt64
    var longest: UInt64

    init(idle: TimeInterval, longest: TimeInterval) {
        self.idle = UInt64(max(0, idle) * 1e9)
        self.longest = UInt64(max(0, longest) * 1e9)
    }
}

extension OpenFile {
    /// Notes a write at `now` for the durability horizon.
    func noteWrite(now: UInt64) {
        if unflushedSince == 0 { unflushedSince = now }
        lastWriteAt = now
    }

    func isWriteBackDue(now: UInt64, idleDelay: UInt64, longest: UInt64) -> Bool {
        unflushedSince != 0 && (now &- lastWriteAt >= idleDelay || now &- unflushedSince >= longest)
    }
}
