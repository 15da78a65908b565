import FuseDriver
import Testing

/// SHARDVAULT_FUSE_DISABLE, the switch the fast-path benchmarks use.
struct FastPathsTests {
    @Test func absentOrEmptyMeansEveryFastPathOn() throws {
        #expect(try FastPaths(environment: [:]) == .all)
        #expect(try FastPaths(environment: [FastPaths.environmentVariable: ""]) == .all)
        #expect(FastPaths.all.description == "all fast paths on")
    }

    @Test func eachSwitchTurnsOffItsOwnPath() throws {
        func parse(_ list: String) throws -> FastPaths {
            try FastPaths(environment: [FastPaths.environmentVariable: list])
        }
        let inline = try parse("inline")
        #expect(!inline.inlineOperations && inline.operationArena && inline.bufferPools)
        let arenaAndPools = try parse("arena,pools")
        #expect(arenaAndPools.inlineOperations && !arenaAndPools.operationArena && !arenaAndPools.bufferPools)
        #expect(arenaAndPools.description == "disabled: arena,pools")
        let killpriv = try parse("killpriv")
        #expect(!killpriv.clearsSetIDBits && killpriv.inlineOperations && killpriv.description == "disabled: killpriv")
        let flush = try parse("flush")
        #expect(!flush.skipsFlush && flush.clearsSetIDBits && flush.description == "disabled: flush")
        let release = try parse("release")
        #expect(!release.defersReleases && release.skipsFlush && release.description == "disabled: release")
        let batch = try parse("batch")
        #expect(!batch.batchScheduling && batch.defersReleases && batch.description == "disabled: batch")
        let all = try parse("all")
        #expect(!all.inlineOperations && !all.operationArena && !all.bufferPools && !all.clearsSetIDBits && !all.skipsFlush
            && !all.defersReleases && !all.batchScheduling)
    }

    @Test func unknownNamesAreRefusedByName() {
        do {
            _ = try FastPaths(environment: [FastPaths.environmentVariable: "arena,turbo"])
            Issue.record("an unknown fast path must be refused")
        } catch {
            #expect(error.description.contains("turbo") && error.description.contains(FastPaths.environmentVariable))
        }
    }
}
