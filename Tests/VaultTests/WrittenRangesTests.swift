import Testing
@testable import Vault

/// The merged byte ranges that decide when a dirty block is complete.
@Suite struct WrittenRangesTests {
    @Test func sequentialWritesStayOneRange() {
        var written = WrittenRanges()
        for start in stride(from: 0, to: 1000, by: 100) { written.insert(start ..< start + 100) }
        #expect(written.ranges == [0 ..< 1000])
        #expect(written.covers(0 ..< 1000))
        #expect(!written.covers(0 ..< 1001))
    }

    @Test func outOfOrderWritesMergeAsGapsFill() {
        var written = WrittenRanges()
        written.insert(600 ..< 800)
        written.insert(0 ..< 100)
        written.insert(300 ..< 400)
        #expect(written.ranges == [0 ..< 100, 300 ..< 400, 600 ..< 800])
        #expect(!written.covers(0 ..< 800))
        written.insert(100 ..< 300)        // touches both neighbours
        #expect(written.ranges == [0 ..< 400, 600 ..< 800])
        written.insert(350 ..< 700)        // overlaps both
        #expect(written.ranges == [0 ..< 800])
        #expect(written.covers(0 ..< 800))
    }

    @Test func overlapsAndEmptyRangesChangeNothingTheyShouldNot() {
        var written = WrittenRanges()
        written.insert(10 ..< 20)
        written.insert(12 ..< 15)
        written.insert(5 ..< 5)
        #expect(written.ranges == [10 ..< 20])
        written.insert(0 ..< 30)
        #expect(written.ranges == [0 ..< 30])
        #expect(written.covers(10 ..< 20))
        #expect(!written.covers(25 ..< 31))
    }
}
