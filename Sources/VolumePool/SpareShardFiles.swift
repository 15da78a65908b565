import Glibc
import Synchronization

/// Removed shard files a local volume keeps to reuse for new shards, so that removing one
/// shard and writing another moves an inode instead of freeing one and allocating another.
///
/// Why: on ext4 every new file costs an inode allocation, and on a filesystem without a
/// journal the allocator scans past every recently freed inode of the group (`recently_deleted`
/// in fs/ext4/ialloc.c) — a stream write after a delete spent a third of the daemon's CPU
/// there. Spares live in `spare/` under random names and are never read.
///
/// Two kinds: **warm** spares keep their old bytes (stale ciphertext of a removed shard), so a
/// new shard written through the page cache overwrites pages the kernel already has and disk
/// blocks already allocated. On the 2-core VM of docs/BENCHMARKS.md, faulting in new
/// page-cache pages was 44 % of the daemon's CPU in a 1 GiB S3 PUT, and writing over cached
/// pages is about 20× cheaper; and freeing blocks is not free either — on a filesystem mounted
/// with `discard` (the bench VM's ext4, which has no journal) every truncate or unlink that
/// frees blocks waits for a discard, 0.14 ms for a small file, which a journal checkpoint
/// paid for each of the thousands of segment shards it removed. Warm spares are bounded in
/// bytes per volume (`warmByteLimit`), since they hold disk space; a removed shard that does
/// not fit is truncated to zero bytes and kept as an **empty** spare. Spares left by a previous
/// process are taken up again when the volume opens, warm within the bound and emptied beyond
/// it. At most `limit` spares of both kinds are kept (4096: a journal checkpoint alone removes
/// 512 segment shards per volume, and a removed shard that finds the list full is unlinked —
/// each unlink makes the next new file's inode allocation scan past it, `recently_deleted`,
/// which was 7 % of the daemon's CPU in a run of 1 MiB PUTs over 1024 spares).
final class SpareShardFiles: Sendable {
    /// A spare file and how many bytes of old content it still holds (0: empty).
    struct Spare: Equatable, Sendable {
        var path: String
        var byteCount: Int
    }

    private struct State {
        var empty: [String]
        var warm: [Spare] = []
        var warmBytes = 0
        /// Files being put aside right now, counted against the limits.
        var arriving = 0
        var arrivingWarmBytes = 0
    }

    private let directory: String
    private let limit: Int
    let warmByteLimit: Int
    private let state: Mutex<State>

    /// Default warm bytes per volume: a 1 GiB object over 4+2 volumes puts 256 MiB on each,
    /// so deleting one and writing the next fits. `SHARDVAULT_WARM_SPARE_MIB` overrides
    /// (0: every spare is emptied, as before warm spares existed).
    static var defaultWarmByteLimit: Int {
        if let value = getenv("SHARDVAULT_WARM_SPARE_MIB"), let mebibytes = Int(String(cString: value)), mebibytes >= 0 {
            return mebibytes << 20
        }
        return 512 << 20
    }

    init(directory: String, limit: Int = 4096, warmByteLimit: Int = SpareShardFiles.defaultWarmByteLimit) {
        self.directory = directory
        self.limit = limit
        self.warmByteLimit = warmByteLimit
        state = Mutex(Self.existingSpares(in: directory, limit: limit, warmByteLimit: warmByteLimit))
    }

    /// Keeps the file at `path` as a spare: warm when it fits the byte bound, else emptied.
    /// False (nothing changed, or the file is gone) when the list is full or the filesystem
    /// refused: the caller unlinks.
    func keep(_ path: String) -> Bool {
        var info = stat()
        let size = stat(path, &info) == 0 ? Int(info.st_size) : 0
        let reservation = state.withLock { state -> (reserved: Bool, warm: Bool) in
            guard state.empty.count + state.warm.count + state.arriving < limit else { return (false, false) }
            state.arriving += 1
            let warm = size > 0 && state.warmBytes + state.arrivingWarmBytes + size <= warmByteLimit
            if warm { state.arrivingWarmBytes += size }
            return (true, warm)
        }
        guard reservation.reserved else { return false }
        let spare = directory + "/" + ObjectID.random().hex
        // An empty spare is truncated first: it must not hold disk space.
        let kept = (reservation.warm || truncate(path, 0) == 0) && rename(path, spare) == 0
        state.withLock { state in
            state.arriving -= 1
            if reservation.warm { state.arrivingWarmBytes -= size }
            guard kept else { return }
            if reservation.warm {
                state.warm.append(Spare(path: spare, byteCount: size))
                state.warmBytes += size
            } else {
                state.empty.append(spare)
            }
        }
        return kept
    }

    /// Moves a spare to `path` and says how many old bytes it still holds (the caller
    /// overwrites or truncates them); nil when there is none and the caller creates the file.
    /// `wantsContent`: the new shard goes through the page cache, so a warm spare that fits
    /// `expectedByteCount` is worth taking (`bestFit`); otherwise an empty one is preferred
    /// (a direct write gains nothing from cached pages).
    func reuse(as path: String, expectedByteCount: Int?, wantsContent: Bool) -> Spare? {
        while let spare = state.withLock({ Self.take(from: &$0, expectedByteCount: expectedByteCount, wantsContent: wantsContent) }) {
            if rename(spare.path, path) == 0 { return Spare(path: path, byteCount: spare.byteCount) }
            // A spare that vanished (removed by hand) is forgotten; try the next one.
        }
        return nil
    }

    var count: Int { state.withLock { $0.empty.count + $0.warm.count } }
    var warmByteCount: Int { state.withLock { $0.warmBytes } }

    private static func take(from state: inout State, expectedByteCount: Int?, wantsContent: Bool) -> Spare? {
        if wantsContent, let index = bestFit(state.warm, for: expectedByteCount) { return takeWarm(&state, at: index) }
        if let path = state.empty.popLast() { return Spare(path: path, byteCount: 0) }
        // Direct writes with no empty spare left: the smallest warm one, which the caller
        // empties (freeing the fewest blocks).
        guard !wantsContent, let smallest = state.warm.indices.min(by: { state.warm[$0].byteCount < state.warm[$1].byteCount }) else {
            return nil
        }
        return takeWarm(&state, at: smallest)
    }

    private static func takeWarm(_ state: inout State, at index: Int) -> Spare {
        let spare = state.warm.remove(at: index)
        state.warmBytes -= spare.byteCount
        return spare
    }

    /// The warm spare for a shard of `expected` bytes: the smallest that holds it without
    /// much left over (`slack`), else the largest smaller one (it is overwritten whole and
    /// grown); the newest when the size is unknown. nil when every warm spare is much larger:
    /// cutting one down would free (and on a `discard` mount, discard) its blocks and waste the
    /// spare a large shard could use — a 2 KiB journal segment taking a 1 MiB spare cost more
    /// than a new file.
    static func bestFit(_ warm: [Spare], for expected: Int?) -> Int? {
        guard !warm.isEmpty else { return nil }
        guard let expected else { return warm.count - 1 }
        let limit = expected + slack(for: expected)
        var holding: Int?
        var smaller: Int?
        for index in warm.indices {
            let size = warm[index].byteCount
            if size >= expected && size <= limit {
                if holding.map({ size < warm[$0].byteCount }) ?? true { holding = index }
            } else if size < expected {
                if smaller.map({ size > warm[$0].byteCount }) ?? true { smaller = index }
            }
        }
        return holding ?? smaller
    }

    /// How much larger than needed a warm spare may be: a quarter more, at least 64 KiB.
    static func slack(for expected: Int) -> Int { max(expected / 4, 64 << 10) }

    /// Spares a previous process left: kept (emptied, in case) up to the limit.
    /// Spares a previous process left, up to the limit: warm while they fit the byte bound,
    /// emptied beyond it (emptying each one would cost a discard apiece on a `discard` mount).
    private static func existingSpares(in directory: String, limit: Int, warmByteLimit: Int) -> State {
        var state = State(empty: [])
        try? FileOperations.forEachEntry(in: directory) { name in
            let path = directory + "/" + name
            guard state.empty.count + state.warm.count < limit else {
                unlink(path)
                return
            }
            var info = stat()
            let size = stat(path, &info) == 0 ? Int(info.st_size) : 0
            if size > 0 && state.warmBytes + size <= warmByteLimit {
                state.warm.append(Spare(path: path, byteCount: size))
                state.warmBytes += size
            } else if size == 0 || truncate(path, 0) == 0 {
                state.empty.append(path)
            } else {
                unlink(path)
            }
        }
        return state
    }
}
