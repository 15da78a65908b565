import ArgumentParser
import VolumePool

/// `shardvault pool replace [--index I] NEW_VOLUME VOLUME...`
struct PoolReplace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replace",
        abstract: "Give an empty directory the identity of a lost volume; then run `shardvault heal`.",
        discussion: """
            NEW_VOLUME must be empty or missing. VOLUME... are the pool's remaining volumes. --index \
            is needed when more than one volume is missing (see `shardvault status`).
            """)

    @Option(help: ArgumentHelp("Index of the lost volume to replace (from `shardvault status`).", valueName: "index"))
    var index: Int?

    @Argument(help: ArgumentHelp("The empty directory that takes the lost volume's place.", valueName: "new-volume"))
    var newVolume: String

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        let replaced = try VolumePool.replaceVolume(volumePaths: pool.volumes, index: index, with: newVolume)
        let (volumeID, stillMissing, locations) = try VolumeArguments.withPool(paths: pool.volumes + [newVolume]) { pool in
            let status = pool.volumeStatus()
            return (status[replaced].volumeID, status.filter { !$0.state.isOnline }.map(\.index),
                    status.compactMap(\.location))
        }
        print("volume \(replaced) (id \(volumeID)) is now \(newVolume); it holds no shards yet.")
        if !stillMissing.isEmpty {
            print("volume(s) \(stillMissing) are still missing: heal can fill this volume now, but full redundancy "
                + "also needs them back or replaced (pool replace --index …).")
        }
        print("next: rebuild its shards with")
        print("  shardvault heal " + locations.map(Self.quoted).joined(separator: " "))
    }

    private static func quoted(_ path: String) -> String {
        path.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:@".contains($0) } ? path : "'" + path.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
