import Foundation
import Testing
@testable import shardvault_bench

/// The workloads B suite (backup, photo, database, git, archive) and the fio suite: scales,
/// fio's JSON, and tiny runs in a temporary directory — with every phase sampled, and failing
/// with `wrongResult` when a file is corrupted before verification.
@Suite(.serialized) struct ArchiveStyleWorkloadTests {
    @Test func tinyIsSmallerThanFullAndFullMatchesTheSpecification() {
        let backup = (tiny: BackupWorkload(scale: .tiny).scale, full: BackupWorkload(scale: .full).scale)
        #expect(backup.full.directories == 20 && backup.full.filesPerDirectory == 50)
        #expect(backup.full.minBytes == 4 << 10 && backup.full.maxBytes == 512 << 10 && backup.full.modifiedPercent == 5)
        #expect(backup.full.modifiedFiles == 50)
        #expect(backup.tiny.files < backup.full.files && backup.tiny.maxBytes < backup.full.maxBytes)

        let photo = (tiny: PhotoWorkload(scale: .tiny).scale, full: PhotoWorkload(scale: .full).scale)
        #expect(photo.full.files == 40 && photo.full.minBytes == 2 << 20 && photo.full.maxBytes == 25 << 20)
        #expect(photo.full.headerBytes == 64 << 10)
        #expect(photo.tiny.files < photo.full.files && photo.tiny.maxBytes < photo.full.minBytes)

        let database = (tiny: DatabaseWorkload(scale: .tiny).scale, full: DatabaseWorkload(scale: .full).scale)
        #expect(database.full.rows == 50_000 && database.tiny.rows == 1000)

        let git = (tiny: GitWorkload(scale: .tiny).scale, full: GitWorkload(scale: .full).scale)
        #expect(git.tiny.files < git.full.files && git.tiny.rounds < git.full.rounds)

        let archive = (tiny: ArchiveWorkload(scale: .tiny).scale, full: ArchiveWorkload(scale: .full).scale)
        #expect(archive.full.directories == 50 && archive.full.filesPerDirectory == 20)
        #expect(archive.tiny.files < archive.full.files)

        let fio = (tiny: FioWorkload(scale: .tiny, pattern: .random).scale, full: FioWorkload(scale: .full, pattern: .random).scale)
        #expect(fio.full.bytesPerJob == 256 << 20 && fio.tiny.bytesPerJob == 4 << 20)
        #expect(fio.full.blockSizes == [4096, 1 << 20] && fio.full.jobCounts == [1, 4])
        #expect(FioWorkload(scale: .tiny, pattern: .sequential).phases.map(\.name)
                == ["write-4k-j1", "read-4k-j1", "write-4k-j4", "read-4k-j4", "write-1m-j1", "read-1m-j1", "write-1m-j4", "read-1m-j4"])
    }

    @Test func everyWorkloadIsInItsSuite() {
        // The order: ide, working-set, tree, concurrent, backup, coldstart, media, photo, database, git, archive.
        #expect(WorkloadCatalog.realistic.map(\.name) == ["ide", "working-set", "tree", "concurrent", "backup", "coldstart",
                                                          "media", "photo", "database", "git", "archive"])
        #expect(WorkloadCatalog.fio.map(\.name) == ["fio-seq", "fio-rand"])
    }

    /// `fio --output-format=json` of a 2-job randwrite with verify (trimmed), with the warning fio
    /// prints on stdout before the report.
    static let fioSample = """
        fio: multiple writers may overwrite blocks that belong to other jobs. This can cause verification failures.
        {
          "fio version": "fio-3.33",
          "timestamp": 1795299299,
          "jobs": [
            {
              "jobname": "w", "groupid": 0, "error": 0, "eta": 0, "elapsed": 1,
              "job options": { "name": "w", "rw": "randwrite", "bs": "4k", "size": "4m", "numjobs": "2", "verify": "crc32c" },
              "read": { "io_bytes": 8388608, "io_kbytes": 8192, "bw_bytes": 41734368, "bw": 40756, "iops": 10189.054726,
                        "runtime": 201, "total_ios": 2048, "short_ios": 0, "drop_ios": 0 },
              "write": { "io_bytes": 8388608, "io_kbytes": 8192, "bw_bytes": 220752842, "bw": 215578, "iops": 53894.736842,
                         "runtime": 38, "total_ios": 2048, "short_ios": 0, "drop_ios": 0 },
              "job_runtime": 307
            }
          ]
        }
        """

    @Test func fioJsonIsParsed() throws {
        let report = try FioWorkload.parse(Self.fioSample)
        #expect(report.write == FioWorkload.Result(ioBytes: 8_388_608, bandwidthBytes: 220_752_842, iops: 53894.736842,
                                                   runtimeMilliseconds: 38, operations: 2048))
        #expect(report.read.runtimeMilliseconds == 201 && report.read.bandwidthBytes == 41_734_368)
        let failed = Self.fioSample.replacingOccurrences(of: "\"error\": 0", with: "\"error\": 84")
        #expect(throws: BenchError.self) { try FioWorkload.parse(failed) }
        #expect(throws: BenchError.self) { try FioWorkload.parse("fio: no JSON at all") }
    }

    static var workloadNames: [String] {
        var names = ["backup", "photo", "database", "git", "archive"]
        if Command.find("fio") != nil { names += ["fio-seq", "fio-rand"] }
        return names
    }

    @Test(arguments: workloadNames)
    func tinyRunSamplesEveryPhaseAndCatchesCorruption(name: String) throws {
        let workload = try WorkloadCatalog.make(name, scale: .tiny)
        let samples = try Self.run(workload, corrupt: false)
        #expect(samples.map(\.phase) == workload.phases.map(\.name))
        for sample in samples { #expect(sample.seconds > 0 || sample.measured != nil, "phase \(sample.phase)") }

        #expect {
            _ = try Self.run(workload, corrupt: true)
        } throws: { error in
            guard case BenchError.wrongResult = error else { return false }
            return true
        }
    }

    /// Runs `workload` in a fresh temporary directory (warm: no cache drops) and removes it.
    private static func run(_ workload: Workload, corrupt: Bool) throws -> [PhaseSample] {
        let root = NSTemporaryDirectory() + "wlb-\(workload.name)-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/work", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/logs", withIntermediateDirectories: true)
        var context = WorkloadContext(coldCacheUnavailable: "unit test: runs warm", logDirectory: root + "/logs") { _, _ in }
        context.injectCorruption = corrupt
        let samples = try workload.run(in: root + "/work", context: context)
        let left = try FileManager.default.contentsOfDirectory(atPath: root + "/work")
        #expect(left.isEmpty, "\(workload.name) left \(left)")
        return samples
    }
}
