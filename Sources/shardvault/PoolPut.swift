import ArgumentParser
import Foundation
import VolumePool

/// `shardvault pool put [--id HEX] [--file PATH] VOLUME... < FILE`
struct PoolPut: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Store stdin (or --file) as an object; prints its id and length.",
        discussion: """
            Output is one line, `ID LENGTH`, so `id=$(shardvault pool put v0 v1 … < f | cut -d' ' -f1)` works. \
            Putting to an existing id replaces that object.
            """)

    @Option(help: ArgumentHelp("Object id to store under (32 hex digits); a random one by default.", valueName: "hex"))
    var id: String?

    @Option(help: ArgumentHelp("Read the object from this file instead of stdin.", valueName: "path"))
    var file: String?

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        let objectID = try id.map(Parse.objectID) ?? ObjectID.random()
        let descriptor: Int32
        var length: Int?
        if let file {
            descriptor = open(file, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw CLIFailure.failed("cannot open \(file): \(String(cString: strerror(errno)))")
            }
            var info = stat()
            if fstat(descriptor, &info) == 0 {
                guard (info.st_mode & S_IFMT) != S_IFDIR else {
                    close(descriptor)
                    throw CLIFailure.failed("\(file) is a directory; give a file")
                }
                if (info.st_mode & S_IFMT) == S_IFREG { length = Int(info.st_size) }
            }
        } else {
            guard isatty(STDIN_FILENO) == 0 else {
                throw CLIFailure.usage("no data to store: redirect a file into stdin (< FILE), pipe into it, or use --file PATH")
            }
            descriptor = STDIN_FILENO
        }
        defer { if file != nil { close(descriptor) } }

        try pool.withPool { pool in
            var source = FileDescriptorSource(descriptor: descriptor)
            let info = try pool.put(objectID, from: &source, length: length)
            print("\(info.id) \(info.length)")
            if pool.counters.partialWrites > 0 {
                let missing = pool.volumeStatus().filter { !$0.state.isOnline }.map(\.index)
                Output.note("stored without full redundancy (volume(s) \(missing) unavailable); "
                    + "run `shardvault heal` once they are back or replaced")
            }
        }
    }
}
