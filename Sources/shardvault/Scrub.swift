import ArgumentParser
import VolumePool

/// `shardvault scrub [--json] VOLUME...`
struct Scrub: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify every checksum of every shard of every object; repair nothing.",
        discussion: "Exit status: 0 when every object is fully redundant and intact, 1 when damage was found (run `shardvault heal`), 2 on failure.")

    @Flag(help: "Print the report as JSON.")
    var json = false

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        let (report, missing) = try pool.withPool { pool in
            (try pool.scrub(repair: false), pool.volumeStatus().filter { !$0.state.isOnline }.map(\.index))
        }
        let healthy = report.degradedObjects == 0 && report.unrecoverable.isEmpty
        let summary = ScrubSummary(report, missingVolumes: missing, healthy: healthy)
        if json {
            print(try Output.json(summary))
        } else {
            print("scrub: \(report.objects) object(s) verified")
            print(Output.table([
                ["  healthy:", "\(report.healthyObjects)"],
                ["  damaged:", "\(report.degradedObjects) object(s), \(report.badShards) bad or missing shard(s)"],
                ["  unreadable:", "\(report.unrecoverable.count)"],
            ]))
            summary.printDetails()
            print(healthy ? "result: healthy — every object intact and fully redundant"
                          : "result: DAMAGED — run `shardvault heal` (after `pool replace` for missing volumes)")
        }
        if !healthy { throw ExitCode(ExitStatus.damaged) }
    }
}

/// The JSON form of a scrub or heal report, shared by both commands.
struct ScrubSummary: Encodable {
    var objects: Int
    var healthyObjects: Int
    var degradedObjects: Int
    var badShards: Int
    var repairedShards: Int
    var removedDangling: Int
    var unrecoverable: [String: String]
    var missingVolumes: [Int]
    var healthy: Bool

    init(_ report: ScrubReport, missingVolumes: [Int], healthy: Bool) {
        objects = report.objects
        healthyObjects = report.healthyObjects
        degradedObjects = report.degradedObjects
        badShards = report.badShards
        repairedShards = report.repairedShards
        removedDangling = report.removedDangling
        unrecoverable = Dictionary(uniqueKeysWithValues: report.unrecoverable.map { ($0.key.hex, $0.value) })
        self.missingVolumes = missingVolumes
        self.healthy = healthy
    }

    func printDetails() {
        for (id, reason) in unrecoverable.sorted(by: { $0.key < $1.key }) {
            print("  unreadable \(id): \(reason)")
        }
        if !missingVolumes.isEmpty {
            print("  missing volume(s): \(missingVolumes) — every object with a shard there counts as damaged")
        }
    }
}
