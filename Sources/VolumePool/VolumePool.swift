import Erasure
import Foundation
import Synchronization

/// An erasure-coded object store over n = k+m volumes.
///
/// Objects (128-bit ids) are cut into stripes of `stripeSize` bytes; each stripe becomes k
/// data and m parity chunks, and chunk i of every stripe is appended to shard i, which lives
/// on volume `placement[i]`. Writes need `writeQuorum` volumes; reads need any k intact
/// shards and never decode while the data shards verify. Thread-safe: puts and gets on
/// different objects run fully in parallel.
public final class VolumePool: Sendable {
    public let vaultID: String
    public let dataShards: Int
    public let parityShards: Int
    public let stripeSize: Int
    public var totalShards: Int { dataShards + parityShards }
    /// Shards a write must land to succeed: k+1, or k when there is no parity.
    public var writeQuorum: Int { parityShards == 0 ? dataShards : dataShards + 1 }

    let slots: [VolumeSlot]
    let codec: ErasureCodec
    public let repairQueue: RepairQueue
    let statistics = Mutex(PoolStatistics())
    private let healer: BackgroundHealer?

    public struct Options: Sendable {
        /// Heal objects queued by degraded reads and partial writes on a background thread.
        public var healsInBackground = true
        /// Bound of the repair (MRF) queue; ids beyond it are dropped and left to `heal`.
        public var repairQueueCapacity = 10_000
        /// Wraps each opened volume (by index) — the seam tests use to inject I/O faults.
        var decorateVolume: (@Sendable (Int, any Volume) -> any Volume)?
        public init() {}
    }

    /// A position in the pool and the volume serving it, if one does.
    struct VolumeSlot: Sendable {
        let index: Int
        let volumeID: String
        let volume: (any Volume)?
        let location: String?
        let problem: String?
    }

    init(layout: PoolLayout, options: Options) throws {
        vaultID = layout.format.vaultID
        dataShards = layout.format.dataShards
        parityShards = layout.format.parityShards
        stripeSize = layout.format.stripeSize
        slots = layout.slots
        do {
            codec = try ErasureCodec(dataShards: dataShards, parityShards: parityShards)
        } catch {
            throw PoolError.invalidGeometry(error.description)
        }
        repairQueue = RepairQueue(capacity: options.repairQueueCapacity)
        healer = options.healsInBackground ? BackgroundHealer(queue: repairQueue) : nil
        healer?.start(pool: self)
    }

    /// Opens the pool whose volumes are at `volumePaths` (any order; missing ones may be left
    /// out). Throws for configuration mistakes — a foreign, duplicated or too-new volume — and
    /// when fewer than k volumes are usable.
    public static func open(volumePaths: [String], options: Options = Options()) throws -> VolumePool {
        try VolumePool(layout: PoolLayout.discover(volumePaths: volumePaths, decorate: options.decorateVolume), options: options)
    }

    /// Stops background healing and releases the volumes. Objects still queued for repair are
    /// found again by the next `heal`/`scrub --repair`.
    public func close() {
        healer?.stop()
        for slot in slots { slot.volume?.close() }
    }

    deinit { close() }

    /// The volume holding shard `shard` of `id`, by index.
    func placement(of id: ObjectID) -> Placement {
        Placement(objectID: id, volumeCount: totalShards)
    }

    /// Makes every put made with `durable: false` durable, one flush per filesystem.
    public func sync() throws {
        for volume in Self.onePerFilesystem(slots.compactMap(\.volume)) {
            record { $0.filesystemFlushes += 1 }
            try volume.sync()
        }
    }

    /// The first of `volumes` on each filesystem, and every volume whose filesystem is unknown.
    static func onePerFilesystem(_ volumes: [any Volume]) -> [any Volume] {
        var seen = Set<UInt64>()
        return volumes.filter { volume in volume.filesystemID.map { seen.insert($0).inserted } ?? true }
    }

    public var counters: PoolStatistics { statistics.withLock { $0 } }

    func record(_ update: (inout PoolStatistics) -> Void) {
        statistics.withLock { update(&$0) }
    }
}

/// What the pool has done since it was opened; tests and `status` read it.
public struct PoolStatistics: Sendable, Equatable {
    public var objectsWritten = 0
    public var objectsRead = 0
    /// Reads that had to reconstruct at least one stripe.
    public var degradedReads = 0
    public var reconstructedStripes = 0
    public var shardsHealed = 0
    public var partialWrites = 0
    /// Flushes of a volume's filesystem (syncfs), by `sync()` and by durable puts.
    public var filesystemFlushes = 0
}

/// A live view of one volume for `status`.
public struct VolumeStatus: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case online
        case missing(String)
    }

    public var index: Int
    public var volumeID: String
    public var location: String?
    public var state: State
    public var capacity: VolumeCapacity?
}

extension VolumePool {
    /// Re-probes every volume: a directory deleted or unreadable since open shows as missing.
    public func volumeStatus() -> [VolumeStatus] {
        slots.map { slot in
            guard let volume = slot.volume, let location = slot.location else {
                return VolumeStatus(index: slot.index, volumeID: slot.volumeID, location: slot.location,
                                    state: .missing(slot.problem ?? "not given"), capacity: nil)
            }
            do {
                let format = try VolumeFormat.load(volumeAt: location)
                guard format.volumeID == slot.volumeID else {
                    return VolumeStatus(index: slot.index, volumeID: slot.volumeID, location: location,
                                        state: .missing("format file now names another volume"), capacity: nil)
                }
                return VolumeStatus(index: slot.index, volumeID: slot.volumeID, location: location,
                                    state: .online, capacity: try volume.capacity())
            } catch {
                return VolumeStatus(index: slot.index, volumeID: slot.volumeID, location: location,
                                    state: .missing("\(error)"), capacity: nil)
            }
        }
    }
}
