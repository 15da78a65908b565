import Testing
@testable import shardvault_bench

/// The suite wrapper: qualified phase names, so results from any suite diff against each other.
@Suite struct WorkloadSuiteTests {
    @Test func phasesAreQualifiedByTheirWorkloadAndTitlesOnlyWhenShared() throws {
        let canonical = CanonicalWorkload(streamBytes: 1 << 20, subset: nil,
                                          phases: try selectPhases(CanonicalWorkload.allPhases(streamBytes: 1 << 20), names: ["read"]))
        let alone = WorkloadSuite(name: "canonical", members: [canonical])
        #expect(alone.phases.map(\.name) == ["canonical.write", "canonical.read"])
        #expect(alone.phases[1].requires == ["canonical.write"])
        #expect(alone.phases[0].title == "write 1MiB+fsync")
        let shared = WorkloadSuite(name: "all", members: [canonical, canonical])
        #expect(shared.phases[0].title == "canonical: write 1MiB+fsync")
        #expect(CompareReport.resultName(phase: "canonical.write", target: "native") == "canonical.write.native")
    }

    @Test func unknownWorkloadsAreRefusedWithTheKnownNames() {
        #expect(throws: BenchError.self) { try WorkloadCatalog.make("nfs", scale: .tiny) }
    }
}
