import ArgumentParser
import VolumePool

/// `shardvault pool delete ID VOLUME...`
struct PoolDelete: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Remove an object's shards from every available volume.",
        discussion: "Shards left on volumes that are unavailable now are removed by a later `shardvault heal`.")

    @Argument(help: ArgumentHelp("The object id (32 hex digits).", valueName: "id"))
    var id: String

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        let objectID = try Parse.objectID(id)
        try pool.withPool { pool in
            do {
                _ = try pool.head(objectID)
            } catch PoolError.objectNotFound {
                throw PoolError.objectNotFound(objectID)
            } catch {
                // Damaged or partly missing objects can still be deleted.
            }
            try pool.delete(objectID)
            print("deleted \(objectID)")
            let missing = pool.volumeStatus().filter { !$0.state.isOnline }.map(\.index)
            if !missing.isEmpty {
                Output.note("volume(s) \(missing) are unavailable; shards left there are removed by a later `shardvault heal`")
            }
        }
    }
}
