import Foundation
import Testing
@testable import shardvault_bench

/// The s3 mode's memory report: peak RSS growth of a process while the watch runs.
@Suite struct ResidentMemoryWatchTests {
    @Test func seesMemoryTouchedWhileItRunsAndFreedBeforeItStops() throws {
        let pid = getpid()
        #expect((ProcessMemory.of(pid)?.residentBytes ?? 0) > 0)
        let watch = ResidentMemoryWatch(pid: pid)
        let size = 48 << 20
        let memory = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        try #require(memory != MAP_FAILED)
        memset(memory, 1, size)
        munmap(memory, size)
        let growth = watch.stop()
        #expect(growth >= 40 << 20, "peak growth \(growth >> 20) MiB for 48 MiB touched")
        #expect(growth < 200 << 20)
    }

    @Test func aProcessThatIsGoneReadsAsNoGrowth() {
        #expect(ProcessMemory.of(Int32.max) == nil)
        #expect(ResidentMemoryWatch(pid: Int32.max).stop() == 0)
    }
}
