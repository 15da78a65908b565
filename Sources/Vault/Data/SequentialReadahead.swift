/// Spots sequential reading of one open file and says how far past a read the block store
/// may fetch in the same ranged get.
///
/// Every ranged get opens the shard files afresh, so the volumes' own readahead never warms
/// up: a stream read as the kernel sends it (128 KiB requests) would pay one cold 32 KiB read
/// per shard file per request. Fetching ahead into the chunk cache turns that into a few
/// large reads per block; random readers (window 0) fetch only what they ask for.
struct SequentialReadahead {
    /// The first window after a read that continues the previous one.
    static let initialWindow = 256 << 10
    /// One block: a get never spans blocks anyway.
    static let maximumWindow = BlockStore.blockSize
    /// The kernel's parallel readahead delivers requests slightly out of order; a read this
    /// close to where the last one ended still counts as sequential.
    static let tolerance: UInt64 = 1 << 20

    private var expectedOffset: UInt64 = 0
    private(set) var window = 0

    /// Records a read of `count` bytes at `offset` and returns the bytes after its end that
    /// are worth fetching with it.
    mutating func advance(readingAt offset: UInt64, count: Int) -> Int {
        let distance = offset > expectedOffset ? offset - expectedOffset : expectedOffset - offset
        if offset == 0 || distance <= Self.tolerance {
            window = window == 0 ? Self.initialWindow : min(window * 2, Self.maximumWindow)
        } else {
            window = 0
        }
        expectedOffset = max(expectedOffset, offset + UInt64(count))
        if distance > Self.tolerance { expectedOffset = offset + UInt64(count) }
        return window
    }
}
