import ArgumentParser
import Foundation
import VolumePool

/// `shardvault pool get ID [--range START-END] [--output FILE] VOLUME...`
struct PoolGet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Write an object (or a byte range of it) to stdout or --output.",
        discussion: """
            Reads verify every chunk; missing or corrupt shards are rebuilt from the others \
            (a degraded read, noted on stderr). With --output the file is written under a temporary \
            name and renamed, so a failed read never leaves a partial or clobbered file.
            """)

    @Argument(help: ArgumentHelp("The object id (32 hex digits).", valueName: "id"))
    var id: String

    @Option(help: ArgumentHelp("Only bytes START through END, inclusive (e.g. 0-1023), or START- to the end.",
                               valueName: "start-end"))
    var range: String?

    @Option(name: [.short, .long], help: ArgumentHelp("Write to this file instead of stdout.", valueName: "file"))
    var output: String?

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        let objectID = try Parse.objectID(id)
        let requested = try range.map(Parse.byteRange)
        try pool.withPool { pool in
            // The length is needed to resolve START- and to refuse a range past the end with a
            // message in the user's own (inclusive) terms before any byte is written.
            var byteRange: Range<Int>?
            if let requested {
                let length = try pool.head(objectID).length
                let end = requested.end ?? length
                guard requested.start < length || (requested.start == 0 && end == 0), end <= length else {
                    throw CLIFailure.failed("range \(range!) lies outside object \(objectID) of \(length) bytes "
                        + "(valid offsets: \(length == 0 ? "none" : "0-\(length - 1)"))")
                }
                byteRange = requested.start ..< end
            }
            if let output {
                try Self.writeAtomically(to: output) { descriptor in
                    var sink = FileDescriptorSink(descriptor: descriptor)
                    try pool.get(objectID, range: byteRange, into: &sink)
                }
            } else {
                var sink = FileDescriptorSink(descriptor: STDOUT_FILENO)
                try pool.get(objectID, range: byteRange, into: &sink)
            }
            let counters = pool.counters
            if counters.degradedReads > 0 {
                Output.note("degraded read: \(counters.reconstructedStripes) stripe(s) rebuilt from parity; "
                    + "the bytes are correct, run `shardvault heal` (after `pool replace` for lost volumes) to restore redundancy")
            }
        }
    }

    /// Writes into `path.shardvault-XXXXXX` and renames it over `path` only on success.
    static func writeAtomically(to path: String, _ body: (Int32) throws -> Void) throws {
        var template = Array((path + ".shardvault-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw CLIFailure.failed("cannot create a file next to \(path): \(String(cString: strerror(errno)))")
        }
        let temporary = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var open = true
        do {
            try body(descriptor)
            guard fsync(descriptor) == 0 else {
                throw CLIFailure.failed("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            fchmod(descriptor, 0o666 & ~Self.umask)
            open = false
            guard close(descriptor) == 0 else {
                throw CLIFailure.failed("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            guard rename(temporary, path) == 0 else {
                throw CLIFailure.failed("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            if open { close(descriptor) }
            unlink(temporary)
            throw error
        }
    }

    private static var umask: mode_t {
        let current = Glibc.umask(0o022)
        _ = Glibc.umask(current)
        return current
    }
}
