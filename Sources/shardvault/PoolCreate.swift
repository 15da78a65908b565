import ArgumentParser
import VolumePool

/// `shardvault pool create --data K --parity M [--stripe-size BYTES] VOLUME...`
struct PoolCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a new k+m pool over empty (or not yet existing) directories.",
        discussion: "Exactly K+M volumes are needed; each must be empty or missing. Volume i gets index i in the order given.")

    @Option(name: .customLong("data"), help: ArgumentHelp("Data shards per object (k, 1…16).", valueName: "K"))
    var dataShards = 4

    @Option(name: .customLong("parity"), help: ArgumentHelp("Parity shards per object (m, 0…8): volumes that may be lost.", valueName: "M"))
    var parityShards = 2

    @Option(help: ArgumentHelp("Bytes of object data per erasure-coded stripe, 4K…64M (suffixes K, M, KiB, MiB).",
                               valueName: "bytes"))
    var stripeSize = "1MiB"

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        guard let stripe = Parse.byteCount(stripeSize) else {
            throw CLIFailure.usage("invalid stripe size '\(stripeSize)': expected a byte count such as 1048576, 1M or 64KiB")
        }
        let vaultID = try VolumePool.create(volumePaths: pool.volumes, dataShards: dataShards,
                                            parityShards: parityShards, stripeSize: stripe)
        let volumes = try pool.withPool { $0.volumeStatus() }
        let quorum = parityShards == 0 ? dataShards : dataShards + 1
        print("created pool \(vaultID)")
        print("geometry: \(dataShards)+\(parityShards) (\(dataShards) data + \(parityShards) parity shards), "
            + "stripe \(Output.bytes(stripe)) (\(stripe) bytes), write quorum \(quorum), survives the loss of \(parityShards) volume(s)")
        print(Output.table([["INDEX", "VOLUME ID", "LOCATION"]]
            + volumes.map { ["\($0.index)", $0.volumeID, $0.location ?? "-"] }))
    }
}
