import Foundation
import Testing
@testable import shardvault_bench

/// The "workloads" suite members ide, working-set, tree, concurrent, coldstart and media: their
/// full scale is what the suite's specification says, tiny is smaller, and at tiny scale each
/// runs, reports every phase, leaves its directory empty and fails on a corrupted file.
@Suite struct RealisticWorkloadScaleTests {
    static let names = ["ide", "working-set", "tree", "concurrent", "coldstart", "media"]

    @Test func ideFullIsASourceTreeOf10To100KiBFilesAndTinyIsSmaller() {
        let full = IdeWorkload.Scale.of(.full), tiny = IdeWorkload.Scale.of(.tiny)
        #expect(full.minimumFileBytes == 10 << 10 && full.maximumFileBytes == 100 << 10)
        #expect(tiny.files < full.files && tiny.editCycles < full.editCycles && tiny.buildOutputs < full.buildOutputs)
        #expect(full.hotFiles < full.files && full.hotFiles > 0)
    }

    @Test func workingSetFullHasAThousandFilesInDirectoriesOf100WithTheStatedSizes() throws {
        let full = WorkingSetWorkload.Scale.of(.full)
        #expect(full.files == 1000 && full.filesPerDirectory == 100 && full.directories == 10)
        #expect(full.classCounts == [500, 300, 150, 50])
        #expect(full.accessShares == [0.80, 0.15, 0.05])
        #expect(full.operationMix == [0.70, 0.20, 0.10])
        let sizes = WorkingSetWorkload(scale: .full).sizes()
        #expect(sizes.count == 1000)
        let kib = 1 << 10
        #expect(sizes.filter { (kib ... 10 * kib).contains($0) }.count >= 500)
        #expect(sizes.filter { $0 > 10 * kib && $0 <= 100 * kib }.count >= 299)
        #expect(sizes.filter { $0 > 100 * kib && $0 <= 500 * kib }.count >= 149)
        #expect(sizes.filter { $0 >= 512 * kib && $0 <= 1024 * kib }.count == 50)
        #expect(sizes.allSatisfy { $0 >= kib && $0 <= 1024 * kib })
        #expect(WorkingSetWorkload.Scale.of(.tiny).files < full.files)
    }

    @Test func treeFullIsDepth5With6DirectoriesPerLevelAnd5FilesEach() {
        let full = TreeWorkload.Scale.of(.full), tiny = TreeWorkload.Scale.of(.tiny)
        #expect(full.depth == 5 && full.directoriesPerLevel == 6 && full.filesPerDirectory == 5)
        for level in 1 ... 5 { #expect(full.directories(atLevel: level) == Int(pow(6.0, Double(level)))) }
        #expect(full.directories == 6 + 36 + 216 + 1296 + 7776)
        #expect(full.files == 5 * full.directories)
        #expect(full.walkPasses == 4)
        #expect(tiny.depth < full.depth && tiny.files < full.files)
    }

    @Test func concurrentRunsTwentySecondsAtFullAndOneAtTiny() {
        #expect(ConcurrentWorkload.Scale.of(.full).seconds == 20)
        #expect(ConcurrentWorkload.Scale.of(.tiny).seconds == 1)
        #expect(ConcurrentWorkload.Scale.of(.tiny).files < ConcurrentWorkload.Scale.of(.full).files)
        #expect(ConcurrentWorkload.roles == ["editor", "watcher", "build", "terminal"])
    }

    @Test func coldstartReadsATenthOfTheFiles() {
        let full = ColdStartWorkload.Scale.of(.full), tiny = ColdStartWorkload.Scale.of(.tiny)
        #expect(full.readOneIn == 10 && full.filesRead == full.files / 10)
        #expect(tiny.files < full.files && tiny.directories < full.directories)
    }

    @Test func mediaReads100MiBIn256KiBCallsAndTinyReads8MiB() {
        let full = MediaWorkload.Scale.of(.full), tiny = MediaWorkload.Scale.of(.tiny)
        #expect(full.fileBytes == 100 << 20 && full.readBytes == 256 << 10)
        #expect(tiny.fileBytes == 8 << 20 && tiny.fileBytes < full.fileBytes)
        #expect(full.reads * full.readBytes == full.fileBytes)
    }

    @Test func seededContentCatchesWrongVersionsOffsetsAndZeros() throws {
        var file = SeededFile(seed: 42, size: 3 * SeededFile.pageBytes + 100)
        let expected = UnsafeMutableRawPointer.allocate(byteCount: file.size, alignment: 16)
        defer { expected.deallocate() }
        file.fill(expected, offset: 0, count: file.size)
        try file.check(expected, offset: 0, count: file.size, path: "f")
        try file.check(expected + 5000, offset: 5000, count: 300, path: "f")
        #expect(throws: BenchError.self) { try file.check(expected, offset: 4096, count: 300, path: "f") }
        var other = file
        other.bumpPage(1)
        #expect(throws: BenchError.self) { try other.check(expected, offset: 0, count: file.size, path: "f") }
        try other.check(expected, offset: 0, count: 4096, path: "f")
        file.rewrite()
        #expect(throws: BenchError.self) { try file.check(expected, offset: 0, count: 16, path: "f") }
    }

    @Test(arguments: names)
    func runsAtTinyScaleWithEveryPhaseAndFailsOnCorruption(_ name: String) throws {
        let workload = try WorkloadCatalog.make(name, scale: .tiny)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var reported: [String] = []
        var context = WorkloadContext(coldCacheUnavailable: "unit test: caches stay warm", logDirectory: directory) { phase, _ in
            reported.append(phase.name)
        }
        let place = directory + "/run"
        try FileManager.default.createDirectory(atPath: place, withIntermediateDirectories: false)
        let samples = try workload.run(in: place, context: context)
        #expect(samples.map(\.phase) == workload.phases.map(\.name))
        #expect(reported == workload.phases.map(\.name))
        for (sample, phase) in zip(samples, workload.phases) {
            let value = sample.value(in: phase.unit)
            #expect(value.isFinite && value >= 0, "\(name).\(phase.name): \(value)")
            #expect(sample.operations > 0, "\(name).\(phase.name) counted no operations")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: place).isEmpty)

        context.injectCorruption = true
        let damaged = directory + "/damaged"
        try FileManager.default.createDirectory(atPath: damaged, withIntermediateDirectories: false)
        let error = #expect(throws: BenchError.self) { _ = try workload.run(in: damaged, context: context) }
        guard case .wrongResult = error else {
            Issue.record("\(name) with a corrupted file threw \(String(describing: error)), not wrongResult")
            return
        }
    }

    private static func temporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/realistic-workload-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchError.io("mkdtemp", errno) }
        return String(cString: made)
    }
}
