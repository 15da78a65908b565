import Foundation
import Testing

/// `shardvault-bench compare` end to end on its cheapest target: the native directory, stream
/// phases only (no kernel source needed), warm reads (no root needed), a 2 MiB file — about a
/// second. It proves the runner, the read-back check, the skip path and both reports work; the
/// FUSE targets are exercised by running the bench itself (docs/BENCHMARKS.md, "compare").
@Suite struct BenchCompareTests {
    /// The built `shardvault-bench`, next to the `shardvault` the other CLI tests run.
    static let bench = URL(fileURLWithPath: CLI.binary).deletingLastPathComponent()
        .appendingPathComponent("shardvault-bench").path

    private func compare(_ arguments: [String], in scratch: Scratch) throws -> CLI.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.bench)
        process.arguments = ["compare"] + arguments
        return try CLI.capture(process, arguments: process.arguments ?? [], in: scratch)
    }

    @Test func nativeStreamPhasesGiveResultsAndReportsAndLeaveNothing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let result = try compare(["--quick", "--targets", "native,path:/nonexistent-shardvault-dir", "--phases", "read",
                                  "--no-cold", "--stream-mib", "2", "--dir", scratch.root,
                                  "--json", scratch.path("c.json"), "--markdown", scratch.path("c.md")], in: scratch)
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.out.contains("skipping path:/nonexistent-shardvault-dir: /nonexistent-shardvault-dir is not a directory"))

        let data = try Data(contentsOf: URL(fileURLWithPath: scratch.path("c.json")))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["mode"] as? String == "compare")
        let results = json["results"] as? [[String: Any]] ?? []
        // `read` brings its prerequisite `write`; one sample each (--quick: 1 iteration).
        #expect(results.compactMap { $0["name"] as? String } == ["canonical.write.native", "canonical.read.native"])
        #expect(results.allSatisfy { ($0["samples"] as? [Double])?.count == 1 && ($0["median"] as? Double ?? 0) > 0 })
        let targets = json["targets"] as? [[String: Any]] ?? []
        #expect(targets.compactMap { $0["status"] as? String } == ["measured", "skipped"])

        let markdown = try String(contentsOfFile: scratch.path("c.md"), encoding: .utf8)
        #expect(markdown.contains("| write 2MiB+fsync | MB/s |"))
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.root).filter { $0.hasPrefix("shardvault-compare") }
        #expect(left.isEmpty, "the run's scratch directory was not removed: \(left)")
    }

    @Test func unknownTargetsAndPhasesAreRefusedBeforeAnythingRuns() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let target = try compare(["--quick", "--targets", "nfs", "--dir", scratch.root], in: scratch)
        #expect(target.status != 0)
        #expect(target.stderr.contains("unknown target nfs"), "\(target.transcript)")
        let phase = try compare(["--quick", "--targets", "native", "--phases", "fsck", "--dir", scratch.root], in: scratch)
        #expect(phase.status != 0)
        #expect(phase.stderr.contains("unknown phase fsck"), "\(phase.transcript)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.root).filter { $0.hasPrefix("shardvault-compare") }.isEmpty)
    }
}
