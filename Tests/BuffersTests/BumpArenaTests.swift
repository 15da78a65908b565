import Buffers
import Testing

/// A mixed operation's worth of requests: names, a path split, a reply header, and one
/// request larger than a 4 KiB slab.
private let typicalRequests: [(byteCount: Int, alignment: Int)] = [
    (24, 8), (255, 1), (340, 1), (16, 16), (8, 8), (1000, 64), (7000, 16), (3, 1), (4096, 4096), (512, 16),
]

/// Runs `typicalRequests` and returns the start address of each allocation.
private func replayTypicalOperation(in arena: BumpArena) -> [UInt] {
    typicalRequests.map { request in
        let bytes = arena.allocate(byteCount: request.byteCount, alignment: request.alignment)
        return UInt(bitPattern: bytes.baseAddress!)
    }
}

@Suite("BumpArena")
struct BumpArenaTests {
    @Test("allocations honour their alignment and do not overlap",
          arguments: [1, 2, 4, 8, 16, 64, 256, 4096])
    func alignmentAndDisjointness(alignment: Int) {
        let arena = BumpArena(slabSize: 16 * 1024)
        var regions: [UnsafeMutableRawBufferPointer] = []
        for index in 0..<50 {
            let region = arena.allocate(byteCount: 1 + index * 13, alignment: alignment)
            #expect(UInt(bitPattern: region.baseAddress!) % UInt(alignment) == 0)
            #expect(region.count == 1 + index * 13)
            region.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: index))
            regions.append(region)
        }
        // Any overlap would have overwritten an earlier region's fill byte.
        for (index, region) in regions.enumerated() {
            #expect(region.allSatisfy { $0 == UInt8(truncatingIfNeeded: index) })
        }
    }

    @Test("typed allocation is aligned for the type and holds values")
    func typedAllocation() {
        let arena = BumpArena()
        _ = arena.allocate(byteCount: 3, alignment: 1)  // knock the offset off alignment
        let words = arena.allocate(UInt64.self, count: 100)
        #expect(words.count == 100)
        #expect(UInt(bitPattern: words.baseAddress!) % UInt(MemoryLayout<UInt64>.alignment) == 0)
        for index in words.indices { (words.baseAddress! + index).initialize(to: UInt64(index) * 3) }
        #expect(words.enumerated().allSatisfy { $0.element == UInt64($0.offset) * 3 })
    }

    @Test("copy duplicates the bytes into the arena")
    func copyBytes() {
        let arena = BumpArena()
        let name = Array("encrypted-name.c9r".utf8)
        let copied = name.withUnsafeBytes { arena.copy($0) }
        #expect(Array(copied) == name)
        #expect(arena.bytesInUse >= name.count)
        let empty = arena.copy(UnsafeRawBufferPointer(start: nil, count: 0))
        #expect(empty.count == 0)
    }

    @Test("reset makes the same memory available again")
    func resetReusesMemory() {
        let arena = BumpArena(slabSize: 4096)
        let firstRound = replayTypicalOperation(in: arena)
        let capacity = arena.capacity
        #expect(arena.bytesInUse > 0)

        arena.reset()
        #expect(arena.bytesInUse == 0)
        #expect(arena.capacity == capacity)
        #expect(replayTypicalOperation(in: arena) == firstRound)
    }

    @Test("grows beyond one slab, including requests larger than a slab")
    func growsBeyondSlab() {
        let arena = BumpArena(slabSize: 4096)
        #expect(arena.capacity == 4096)
        #expect(arena.slabAllocationCount == 1)

        var regions: [UnsafeMutableRawBufferPointer] = []
        for index in 0..<5 {
            let region = arena.allocate(byteCount: 3000)
            region.initializeMemory(as: UInt8.self, repeating: UInt8(index))
            regions.append(region)
        }
        #expect(arena.slabAllocationCount == 5)
        #expect(arena.bytesInUse >= 5 * 3000)

        let large = arena.allocate(byteCount: 20_000, alignment: 4096)
        #expect(UInt(bitPattern: large.baseAddress!) % 4096 == 0)
        large.initializeMemory(as: UInt8.self, repeating: 0xEE)
        #expect(arena.capacity >= 4 * 4096 + 20_000)
        for (index, region) in regions.enumerated() {
            #expect(region.allSatisfy { $0 == UInt8(index) })
        }
    }

    @Test("after reset, the same high-water mark allocates no new slabs")
    func steadyStateAllocatesNoSlabs() {
        let arena = BumpArena(slabSize: 4096)
        let firstRound = replayTypicalOperation(in: arena)
        let slabsAfterWarmUp = arena.slabAllocationCount
        let capacityAfterWarmUp = arena.capacity
        #expect(slabsAfterWarmUp > 1)

        for _ in 0..<100 {
            arena.reset()
            #expect(replayTypicalOperation(in: arena) == firstRound)
        }
        #expect(arena.slabAllocationCount == slabsAfterWarmUp)
        #expect(arena.capacity == capacityAfterWarmUp)
    }

    @Test("alternating operations settle: slabs grow in place instead of piling up")
    func varyingOperationsSettle() {
        let arena = BumpArena(slabSize: 4096)
        func smallOperation() { for _ in 0..<6 { _ = arena.allocate(byteCount: 3000) } }
        func largeOperation() { for _ in 0..<3 { _ = arena.allocate(byteCount: 9000) } }

        for _ in 0..<2 {
            smallOperation(); arena.reset()
            largeOperation(); arena.reset()
        }
        let settledSlabs = arena.slabAllocationCount
        let settledCapacity = arena.capacity
        for _ in 0..<50 {
            smallOperation(); arena.reset()
            largeOperation(); arena.reset()
        }
        #expect(arena.slabAllocationCount == settledSlabs)
        #expect(arena.capacity == settledCapacity)
    }

    @Test("zero-byte allocations are valid and aligned")
    func zeroBytes() {
        let arena = BumpArena()
        let empty = arena.allocate(byteCount: 0, alignment: 64)
        #expect(empty.count == 0)
        #expect(UInt(bitPattern: empty.baseAddress!) % 64 == 0)
    }

    @Test("currentThread is one arena per thread")
    func perThreadArena() {
        let mine = BumpArena.currentThread
        #expect(BumpArena.currentThread === mine)
        let myIdentity = ObjectIdentifier(mine)
        // `mine` stays alive here, so the other thread's arena cannot reuse its address.
        let (othersIdentity, othersIsStable) = onNewThread {
            let arena = BumpArena.currentThread
            return (ObjectIdentifier(arena), BumpArena.currentThread === arena)
        }
        #expect(othersIsStable)
        #expect(othersIdentity != myIdentity)
        withExtendedLifetime(mine) {}
    }
}
