import ArgumentParser
import Vault
import VaultCrypto
import VolumePool

/// `shardvault status [--json] VOLUME...`
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the pool's geometry, every volume (online or missing, and why), capacity and object count; for a vault also its key derivation strength.",
        discussion: """
            Needs no password: for a vault it shows only what the key file's public header \
            says (KDF strength, flagged INSECURE for --kdf test; content cipher). \
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
        /// Present when the volumes hold a vault (a key file), not just a storage pool.
        struct VaultInfo: Encodable {
            var id: String
            var kdf: String?
            var insecure: Bool?
            var kdfOperations: UInt64?
            var kdfMemoryBytes: UInt64?
            var contentCipher: String?
            /// Why the key file could not be read (then the KDF keys are left out).
            var problem: String?
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
        var vault: VaultInfo?
    }

    func run() throws {
        let report = try pool.withPool { pool in
            let volumes = pool.volumeStatus().map { status in
                Report.Volume(index: status.index, volumeID: status.volumeID, location: status.location,
                              state: status.state.isOnline ? "online" : "missing", problem: status.state.problem,
                              totalBytes: status.capacity?.totalBytes, availableBytes: status.capacity?.availableBytes)
            }
            let online = volumes.filter { $0.state == "online" }.count
            let vault: Report.VaultInfo?
            do {
                vault = try Vault.storedKeyFile(in: pool).map { file in
                    Report.VaultInfo(id: pool.vaultID, kdf: file.strength.rawValue, insecure: file.isInsecure,
                                     kdfOperations: file.kdf.opsLimit, kdfMemoryBytes: file.kdf.memLimit,
                                     contentCipher: file.contentAlgorithm.description)
                }
            } catch {
                vault = Report.VaultInfo(id: pool.vaultID, problem: "\(error)")
            }
            return Report(vaultID: pool.vaultID, dataShards: pool.dataShards, parityShards: pool.parityShards,
                          stripeSize: pool.stripeSize, writeQuorum: pool.writeQuorum, volumes: volumes,
                          onlineVolumes: online, missingVolumes: volumes.count - online,
                          objects: try pool.list().count, repairQueue: pool.repairQueue.count,
                          unrecognisedPaths: self.pool.unrecognisedPaths(of: pool).map { .init(path: $0.path, reason: $0.reason) },
                          vault: vault)
        }
        if json {
            print(try Output.json(report))
            return
        }
        print("pool \(report.vaultID)")
        if let vault = report.vault {
            print("vault \(vault.id) (encrypted; the password is needed to open it)")
            if let kdf = vault.kdf, let operations = vault.kdfOperations, let memory = vault.kdfMemoryBytes {
                print("key derivation: Argon2id \(kdf) (\(operations) pass\(operations == 1 ? "" : "es"), \(Output.bytes(Int(memory))))"
                    + (vault.insecure == true ? " — INSECURE: made with --kdf test, for tests only" : "")
                    + (vault.contentCipher.map { "; content cipher \($0)" } ?? ""))
            }
            if let problem = vault.problem { print("key file: \(problem)") }
        }
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
