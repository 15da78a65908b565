import ArgumentParser
import VolumePool

/// `shardvault heal [--json] VOLUME...`
struct Heal: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify every object and rebuild missing, stale or corrupt shards from the others.",
        discussion: """
            Rebuilds onto every available volume, including empty ones set up with `pool replace`, \
            and removes leftovers of deleted objects. Exit status: 0 when afterwards every object is \
            fully redundant, 1 when something could not be repaired (unreadable objects, or volumes \
            still missing), 2 on failure.
            """)

    @Flag(help: "Print the report as JSON.")
    var json = false

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        let (report, missing) = try pool.withPool { pool in
            (try pool.scrub(repair: true), pool.volumeStatus().filter { !$0.state.isOnline }.map(\.index))
        }
        // Shards whose volume is unavailable cannot be rebuilt yet; a missing volume means some
        // objects stay short of full redundancy even when the report counts them as repaired.
        let unrepaired = report.badShards - report.repairedShards
        let complete = report.unrecoverable.isEmpty && unrepaired == 0 && missing.isEmpty
        let summary = ScrubSummary(report, missingVolumes: missing, healthy: complete)
        if json {
            print(try Output.json(summary))
        } else {
            print("heal: \(report.objects) object(s) checked")
            print(Output.table([
                ["  already healthy:", "\(report.healthyObjects)"],
                ["  damaged:", "\(report.degradedObjects) object(s); \(report.repairedShards) shard(s) rebuilt"
                    + (unrepaired > 0 ? ", \(unrepaired) shard(s) waiting for their volume" : "")],
                ["  leftovers removed:", "\(report.removedDangling)"],
                ["  unreadable:", "\(report.unrecoverable.count)"],
            ]))
            summary.printDetails()
            print(complete ? "result: healthy — every object is fully redundant again"
                           : "result: INCOMPLETE — " + (report.unrecoverable.isEmpty
                               ? "replace the missing volume(s) with `pool replace`, then heal again"
                               : "some objects have fewer than k intact shards and cannot be rebuilt"))
        }
        if !complete { throw ExitCode(ExitStatus.damaged) }
    }
}
