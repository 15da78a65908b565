import ArgumentParser
import VolumePool

/// `shardvault pool list [--long] VOLUME...`
struct PoolList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List object ids, one per line, in ascending order.")

    @Flag(name: [.short, .long], help: "Also print each object's length (reads every object's shard trailers).")
    var long = false

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        try pool.withPool { pool in
            for id in try pool.list() {
                guard long else {
                    print(id)
                    continue
                }
                do {
                    print("\(id) \(try pool.head(id).length)")
                } catch {
                    print("\(id) ?")
                    Output.error("\(error)")
                }
            }
        }
    }
}
