import ArgumentParser
import VolumePool

/// `shardvault status [--json] VOLUME...`
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the pool's geometry, every volume (online or missing, and why), capacity and object count.",
        discussion: """
            Exits 0 whenever the pool could be opened, even with volumes missing; `shardvault scrub` \
            is the health check. The repair queue lives in the memory of the process that has the \
            pool open, so a one-shot command always shows 0 there; `heal` finds everything anyway.
            """)

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var pool: VolumeArguments

    struct Report: Encodable {
        struct Volume: Encodable {
            var index: Int
            var volumeID: String
            var location: String?
            var state: String
            var problem: String?
            var totalBytes: Int?
            var availableBytes: Int?
        }
        struct Unrecognised: Encodable {
            var path: String
            var reason: String
        }
        var vaultID: String
        var dataShards: Int
        var parityShards: Int
        var stripeSize: Int
        var writeQuorum: Int
        var volumes: [Volume]
        var onlineVolumes: Int
        var missingVolumes: Int
        var objects: Int
        var repairQueue: Int
        var unrecognisedPaths: [Unrecognised]
    }

    func run() throws {
        let report = try pool.withPool { pool in
            let volumes = pool.volumeStatus().map { status in
                Report.Volume(index: status.index, volumeID: status.volumeID, location: status.location,
                              state: status.state.isOnline ? "online" : "missing", problem: status.state.problem,
                              totalBytes: status.capacity?.totalBytes, availableBytes: status.capacity?.availableBytes)
            }
            let online = volumes.filter { $0.state == "online" }.count
            return Report(vaultID: pool.vaultID, dataShards: pool.dataShards, parityShards: pool.parityShards,
                          stripeSize: pool.stripeSize, writeQuorum: pool.writeQuorum, volumes: volumes,
                          onlineVolumes: online, missingVolumes: volumes.count - online,
                          objects: try pool.list().count, repairQueue: pool.repairQueue.count,
                          unrecognisedPaths: self.pool.unrecognisedPaths(of: pool).map { .init(path: $0.path, reason: $0.reason) })
        }
        if json {
            print(try Output.json(report))
            return
        }
        print("pool \(report.vaultID)")
        print("geometry: \(report.dataShards)+\(report.parityShards), stripe \(Output.bytes(report.stripeSize)), "
            + "write quorum \(report.writeQuorum)")
        let tolerance = report.parityShards - report.missingVolumes
        let health = report.missingVolumes == 0
            ? "all \(report.onlineVolumes) online"
            : "\(report.onlineVolumes) online, \(report.missingVolumes) missing — "
                + (tolerance > 0 ? "reads still work; \(tolerance) more can be lost"
                    : tolerance == 0 ? "reads still work but one more loss loses data; replace and heal now"
                    : "not readable")
        print("volumes: \(health)")
        print("objects: \(report.objects)    repair queue: \(report.repairQueue)")
        print("")
        var rows = [["INDEX", "VOLUME ID", "STATE", "FREE", "TOTAL", "LOCATION"]]
        for volume in report.volumes {
            rows.append(["\(volume.index)", volume.volumeID, volume.state,
                         volume.availableBytes.map(Output.bytes) ?? "-", volume.totalBytes.map(Output.bytes) ?? "-",
                         (volume.location ?? "-") + (volume.problem.map { "  (\(Self.shortProblem($0)))" } ?? "")])
        }
        print(Output.table(rows))
        for path in report.unrecognisedPaths {
            print("not a volume of this pool: \(path.path): \(path.reason)")
        }
        if report.missingVolumes > 0 {
            print("")
            print("to restore redundancy: shardvault pool replace --index I NEW_EMPTY_DIR VOLUME..., then shardvault heal VOLUME...")
        }
    }

    /// The pool names index and id again in its message; the table already shows both.
    private static func shortProblem(_ problem: String) -> String {
        problem.hasPrefix("no volume with index") ? "not among the paths given, or unreadable" : problem
    }
}
