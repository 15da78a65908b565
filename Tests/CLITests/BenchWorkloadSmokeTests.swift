import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// Every workload `shardvault-bench compare` knows, at --quick scale, end to end: all of them in
/// one run on the bare disk and on ShardVault's mount (results for every phase on every target,
/// the JSON, Markdown and SVG reports), then each one alone on the bare disk with a byte
/// corrupted before it verifies (it must fail with "wrong result"). The workloads come from the
/// binary's own listing, so workloads added later are covered without touching this file.
/// Canonical joins the full run only where /usr/src/linux-source-*.tar.xz exists (its tree
/// phases cut a kernel subset from it, once, into ~/.cache/shardvault-bench); its stream phases
/// are the baseline of the corruption test.
@Suite(.serialized) struct BenchWorkloadSmokeTests {
    private func bench(_ arguments: [String], in scratch: Scratch) throws -> CLI.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BenchCompareTests.bench)
        process.arguments = arguments
        return try CLI.capture(process, arguments: arguments, in: scratch)
    }

    static var kernelSourceExists: Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/src")) ?? [])
            .contains { $0.hasPrefix("linux-source-") && $0.hasSuffix(".tar.xz") }
    }

    /// `compare --list-workloads`, one name a line.
    private func listing(in scratch: Scratch) throws -> [String] {
        let result = try bench(["compare", "--list-workloads"], in: scratch)
        #expect(result.status == 0, "\(result.transcript)")
        return result.out.split(separator: "\n").map(String.init)
    }

    @Test func theListingNamesEveryWorkloadOnceAndUnknownOnesAreRefused() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let names = try listing(in: scratch)
        #expect(names.first == "canonical", "\(names)")
        #expect(Set(names).count == names.count, "a workload is listed twice: \(names)")
        #expect(names.allSatisfy { name in !name.isEmpty && name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" } },
                "names must be usable in --workload lists and result names: \(names)")
        let unknown = try bench(["compare", "--quick", "--workload", "no-such-workload", "--targets", "native",
                                 "--no-cold", "--dir", scratch.root], in: scratch)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("unknown workload no-such-workload"), "\(unknown.transcript)")
    }

    @Test func everyWorkloadRunsOnNativeAndShardVaultAndReportsEveryPhase() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let workloads = try listing(in: scratch).filter { $0 != "canonical" || Self.kernelSourceExists }
        // Only canonical registered and no kernel source: nothing to run (the listing test still checks the catalog).
        guard !workloads.isEmpty else { return }
        let json = scratch.path("w.json"), markdown = scratch.path("w.md"), svg = scratch.path("w.svg")
        let result = try bench(["compare", "--quick", "--workload", workloads.joined(separator: ","),
                                "--targets", "native,shardvault", "--no-cold", "--dir", scratch.root,
                                "--json", json, "--markdown", markdown, "--svg", svg], in: scratch)
        #expect(result.status == 0, "\(result.transcript)")

        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json)))
                                      as? [String: Any])
        let configuration = report["configuration"] as? [String: Any] ?? [:]
        let phases = (configuration["phases"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        for workload in workloads {
            #expect(phases.contains { $0.hasPrefix(workload + ".") }, "workload \(workload) has no phase in \(phases)")
        }
        let targets = report["targets"] as? [[String: Any]] ?? []
        let status = Dictionary(targets.compactMap { target in
            (target["name"] as? String).map { ($0, target["status"] as? String ?? "?") }
        }, uniquingKeysWith: { first, _ in first })
        #expect(status["native"] == "measured", "\(result.transcript)")
        // ShardVault needs FUSE; where it cannot mount it is skipped with its reason, never failed.
        #expect(status["shardvault"] == "measured" || status["shardvault"] == "skipped", "\(result.transcript)")
        let measured = ["native", "shardvault"].filter { status[$0] == "measured" }
        let results = Set((report["results"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
        for phase in phases {
            for target in measured {
                #expect(results.contains("\(phase).\(target)"), "no result for \(phase) on \(target)")
            }
        }

        let table = try String(contentsOfFile: markdown, encoding: .utf8)
        #expect(table.contains("| phase | unit | " + measured.joined(separator: " | ") + " |"))
        if measured.count == 2 {
            let chart = try Data(contentsOf: URL(fileURLWithPath: svg))
            let parser = XMLParser(data: chart)
            #expect(parser.parse(), "the SVG is not well-formed: \(String(describing: parser.parserError))")
            let bars = String(decoding: chart, as: UTF8.self).components(separatedBy: "class=\"bar\"").count - 1
            #expect(bars == phases.count, "one bar (shardvault vs native) per phase")
        }
    }

    /// A workload that verifies nothing would pass here: each must fail once a byte it wrote is flipped.
    @Test func everyWorkloadCatchesACorruptedFile() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let runs = [["--phases", "read", "--stream-mib", "2"]]   // canonical's stream phases: the baseline
            + (try listing(in: scratch)).filter { $0 != "canonical" }.map { ["--workload", $0] }
        for selection in runs {
            let result = try bench(["compare", "--quick", "--targets", "native", "--no-cold", "--dir", scratch.root,
                                    "--inject-corruption"] + selection, in: scratch)
            #expect(result.status == 1, "\(selection): \(result.transcript)")
            #expect((result.out + result.stderr).contains("wrong result"), "\(selection): \(result.transcript)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.root).filter { $0.hasPrefix("shardvault-compare") }
        #expect(left.isEmpty, "scratch directories left behind: \(left)")
    }
}
