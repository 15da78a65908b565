import Buffers
import Erasure

extension VolumePool {
    /// Streams object `id` (or `range` of it) into `sink`.
    ///
    /// Reads only the data chunks the range touches and verifies each. A chunk that is
    /// missing or fails its checksum is rebuilt from any k intact chunks of its stripe, the
    /// correct bytes are returned, and the object is queued for repair. With fewer than k
    /// intact chunks the read fails with `objectUnreadable` — never with wrong bytes.
    @discardableResult
    public func get(_ id: ObjectID, range: Range<Int>? = nil, into sink: inout some ByteSink) throws -> ObjectInfo {
        let view = try ObjectView(pool: self, id: id, allShards: false)
        let geometry = view.geometry
        let wanted = range ?? 0 ..< geometry.objectLength
        guard wanted.lowerBound >= 0, wanted.upperBound <= geometry.objectLength else {
            throw PoolError.invalidRange(object: id, range: wanted, length: geometry.objectLength)
        }
        let stripeBuffer = SizeClassPool.shared.take(
            capacity: codec.stripeByteCount(shardLength: max(1, geometry.fullChunkLength)))
        let stripes = geometry.stripes(covering: wanted)
        view.willRead(shards: touchedShards(of: wanted, stripes: stripes, geometry: geometry), stripes: stripes)
        var reconstructed = 0
        for stripe in stripes {
            let stripeStart = stripe * stripeSize
            let chunk = geometry.chunkLength(ofStripe: stripe)
            let local = max(wanted.lowerBound, stripeStart) - stripeStart ..< min(wanted.upperBound, stripeStart + stripeSize) - stripeStart
            let touched = local.lowerBound / chunk ..< (local.upperBound + chunk - 1) / chunk
            if try readStripe(view, stripe: stripe, chunk: chunk, shards: touched, into: stripeBuffer.baseAddress) {
                reconstructed += 1
            }
            do {
                try sink.write(UnsafeRawBufferPointer(start: stripeBuffer.baseAddress + local.lowerBound, count: local.count))
            } catch {
                throw PoolError.sinkFailed(object: id, reason: "\(error)")
            }
        }
        if reconstructed > 0 || !view.bad.isEmpty { repairQueue.enqueue(id) }
        record {
            $0.objectsRead += 1
            if reconstructed > 0 {
                $0.degradedReads += 1
                $0.reconstructedStripes += reconstructed
            }
        }
        return view.info
    }

    /// The data shards a get of `range` reads: those under the range within a single stripe,
    /// all of them once it spans stripes.
    private func touchedShards(of range: Range<Int>, stripes: Range<Int>, geometry: ObjectGeometry) -> Range<Int> {
        guard stripes.count == 1, let stripe = stripes.first else { return 0 ..< dataShards }
        let chunk = geometry.chunkLength(ofStripe: stripe)
        let start = range.lowerBound - stripe * stripeSize
        return start / chunk ..< min(dataShards, (start + range.count + chunk - 1) / chunk)
    }

    /// The whole object (or `range` of it) in memory.
    public func get(_ id: ObjectID, range: Range<Int>? = nil) throws -> [UInt8] {
        var sink = ArraySink(reservingCapacity: range?.count ?? 0)
        try get(id, range: range, into: &sink)
        return sink.bytes
    }

    /// Length and generation of `id`, from its shard trailers alone.
    public func head(_ id: ObjectID) throws -> ObjectInfo {
        try ObjectView(pool: self, id: id, allShards: false).info
    }

    /// Fills the data chunks `shards` of `stripe` into `buffer` (laid out as a stripe), rebuilding
    /// any that fail from other chunks. Returns whether reconstruction was needed.
    func readStripe(_ view: ObjectView, stripe: Int, chunk: Int, shards: Range<Int>,
                    into buffer: UnsafeMutableRawPointer) throws -> Bool {
        func chunkBuffer(_ shard: Int) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: buffer + shard * chunk, count: chunk)
        }
        var available = ShardMask()
        var lost = ShardMask()
        for shard in shards {
            if view.readChunk(shard: shard, stripe: stripe, into: chunkBuffer(shard)) {
                available.insert(shard)
            } else {
                lost.insert(shard)
            }
        }
        guard !lost.isEmpty else { return false }
        // Prefer the other data shards (they may be needed later anyway), then parity.
        for shard in 0 ..< totalShards where available.count < dataShards && !shards.contains(shard) {
            if view.readChunk(shard: shard, stripe: stripe, into: chunkBuffer(shard)) { available.insert(shard) }
        }
        guard available.count >= dataShards else {
            throw PoolError.objectUnreadable(object: view.id, goodShards: available.count, needed: dataShards,
                                             problems: view.problems)
        }
        try codec.reconstruct(stripe: buffer, shardLength: chunk, available: available, targets: lost)
        return true
    }
}
