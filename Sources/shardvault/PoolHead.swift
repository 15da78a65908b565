import ArgumentParser
import Foundation
import VolumePool

/// `shardvault pool head ID VOLUME...`
struct PoolHead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "head",
        abstract: "Show an object's length and generation (read from its shard trailers, no data read).")

    @Argument(help: ArgumentHelp("The object id (32 hex digits).", valueName: "id"))
    var id: String

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        let objectID = try Parse.objectID(id)
        let info = try pool.withPool { try $0.head(objectID) }
        let written = Date(timeIntervalSince1970: Double(info.generation) / 1e9)
        print("id: \(info.id)")
        print("length: \(info.length)")
        print("generation: \(info.generation) (written \(written.ISO8601Format(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))))")
    }
}
