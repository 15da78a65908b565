import Synchronization
import VaultCrypto
import VolumePool

/// A bounded cache of decrypted (authenticated) content chunks, keyed by block and chunk index.
///
/// Blocks are immutable and their ids are never reused, so an entry can never go stale; the
/// only invalidation is `remove(block:chunkCount:)`, which frees the memory of a deleted block.
///
/// Memory: `byteBudget / chunkSize` fixed slots carved out of one allocation made at init
/// (pages are touched only when a slot is first filled), so inserting and evicting never
/// call malloc. Replacement is CLOCK (second chance): a hit sets the slot's reference bit,
/// the hand clears bits until it finds a slot not used since its last pass.
///
/// Thread-safe: one mutex guards the index, the clock and the slot bytes. A hit copies at
/// most one chunk (32 KiB, a few microseconds) under the lock, which keeps readers from ever
/// seeing a slot that is being refilled.
public final class ChunkCache: Sendable {
    /// Identifies one chunk of one block.
    struct Key: Hashable, Sendable {
        var block: ObjectID
        var chunk: UInt32
    }

    /// What the cache has done since it was created.
    public struct Counters: Sendable, Equatable, CustomStringConvertible {
        /// Chunk lookups answered from the cache.
        public var hits = 0
        /// Chunk lookups that found nothing (the reader then fetched and decrypted the chunk).
        public var misses = 0
        public var insertions = 0
        /// Entries dropped to make room (not counting `remove` and `removeAll`).
        public var evictions = 0
        /// Bytes held by cached chunks now (each occupies a full chunk slot).
        public var residentBytes = 0

        public var description: String {
            "hits \(hits), misses \(misses), insertions \(insertions), evictions \(evictions), resident \(residentBytes) bytes"
        }
    }

    public static let slotSize = ContentCipher.chunkSize

    /// The most memory cached chunks may occupy.
    public let byteBudget: Int
    /// Chunks the cache holds at most.
    public let slotCount: Int

    private struct Slot {
        var key: Key?
        var referenced = false
    }

    private struct State {
        var slots: [Slot]
        var slotOfKey: [Key: Int]
        /// Slots below this index have been handed out at least once; the rest are fresh.
        var slotsInUse = 0
        var hand = 0
        var counters = Counters()

        init(slotCount: Int) {
            slots = Array(repeating: Slot(), count: slotCount)
            slotOfKey = Dictionary(minimumCapacity: slotCount)
        }

        /// A slot to fill: a never-used one while any remain, else the CLOCK victim.
        mutating func claimSlot() -> Int {
            if slotsInUse < slots.count {
                slotsInUse += 1
                return slotsInUse - 1
            }
            // Terminates within two sweeps: the first clears every reference bit it passes.
            while true {
                let slot = hand
                hand = (hand + 1) % slots.count
                guard let key = slots[slot].key else { return slot }
                if slots[slot].referenced {
                    slots[slot].referenced = false
                    continue
                }
                slotOfKey[key] = nil
                slots[slot].key = nil
                counters.evictions += 1
                counters.residentBytes -= ChunkCache.slotSize
                return slot
            }
        }

        mutating func vacate(_ slot: Int) {
            guard let key = slots[slot].key else { return }
            slotOfKey[key] = nil
            slots[slot] = Slot()
            counters.residentBytes -= ChunkCache.slotSize
        }
    }

    private let state: Mutex<State>
    /// The slots' bytes. Outside the mutex only because the compiler cannot follow raw
    /// pointers across it; every access happens inside `state.withLock`.
    nonisolated(unsafe) private let storage: UnsafeMutableRawPointer?

    /// A cache of at most `byteBudget` bytes of chunks (rounded down to whole chunks; a budget
    /// below one chunk disables caching).
    public init(byteBudget: Int) {
        precondition(byteBudget >= 0, "negative cache budget \(byteBudget)")
        self.byteBudget = byteBudget
        self.slotCount = byteBudget / Self.slotSize
        self.state = Mutex(State(slotCount: slotCount))
        self.storage = slotCount > 0 ? .allocate(byteCount: slotCount * Self.slotSize, alignment: 64) : nil
    }

    deinit { storage?.deallocate() }

    private func bytes(ofSlot slot: Int) -> UnsafeMutableRawPointer {
        storage! + slot * Self.slotSize
    }

    public var counters: Counters { state.withLock { $0.counters } }

    /// Copies `range` (within the chunk's plaintext) of a cached chunk to `destination`.
    /// Returns false, counting a miss, when the chunk is not cached.
    /// Whether `key` is cached (readahead stops at the first chunk that already is); neither
    /// a hit nor a miss, and it does not mark the chunk as used.
    func contains(_ key: Key) -> Bool {
        state.withLock { $0.slotOfKey[key] != nil }
    }

    func copy(_ key: Key, range: Range<Int>, to destination: UnsafeMutableRawPointer) -> Bool {
        precondition(range.lowerBound >= 0 && range.upperBound <= Self.slotSize, "range \(range) outside a chunk")
        return state.withLock { state in
            guard let slot = state.slotOfKey[key] else {
                state.counters.misses += 1
                return false
            }
            state.slots[slot].referenced = true
            state.counters.hits += 1
            destination.copyMemory(from: bytes(ofSlot: slot) + range.lowerBound, byteCount: range.count)
            return true
        }
    }

    /// Caches an authenticated chunk's plaintext (at most one chunk). Racing readers may
    /// insert the same chunk twice; the second insert only refreshes the entry.
    func insert(_ key: Key, plaintext: UnsafeRawBufferPointer) {
        precondition(plaintext.count <= Self.slotSize, "a chunk holds at most \(Self.slotSize) bytes")
        guard slotCount > 0 else { return }
        state.withLock { state in
            if let slot = state.slotOfKey[key] {
                state.slots[slot].referenced = true
                return
            }
            let slot = state.claimSlot()
            if plaintext.count > 0 {
                bytes(ofSlot: slot).copyMemory(from: plaintext.baseAddress!, byteCount: plaintext.count)
            }
            // New entries start unreferenced: a chunk read once (a streaming read) is the
            // first to go, while chunks read again survive a pass of the hand.
            state.slots[slot] = Slot(key: key, referenced: false)
            state.slotOfKey[key] = slot
            state.counters.insertions += 1
            state.counters.residentBytes += Self.slotSize
        }
    }

    /// Drops the chunks of a deleted block.
    func remove(block: ObjectID, chunkCount: Int) {
        guard slotCount > 0, chunkCount > 0 else { return }
        state.withLock { state in
            for chunk in 0 ..< chunkCount {
                if let slot = state.slotOfKey[Key(block: block, chunk: UInt32(chunk))] { state.vacate(slot) }
            }
        }
    }

    /// Drops every cached chunk (counters other than `residentBytes` are kept).
    public func removeAll() {
        state.withLock { state in
            for slot in 0 ..< state.slots.count { state.vacate(slot) }
        }
    }
}
