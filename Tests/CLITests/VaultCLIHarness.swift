import Foundation
import Testing

/// Running `shardvault` for the vault commands: like `CLI.run`, but with a controlled
/// environment (the password variables are never inherited from whoever runs the tests) and,
/// where `setsid` exists, in a new session without a controlling terminal, so a missing
/// password source can never turn into a prompt that waits forever.
enum VaultCLI {
    static func run(_ arguments: [String], environment extra: [String: String] = [:],
                    in scratch: Scratch) throws -> CLI.Result {
        let process = Process()
        let setsid = "/usr/bin/setsid"
        if FileManager.default.isExecutableFile(atPath: setsid) {
            process.executableURL = URL(fileURLWithPath: setsid)
            process.arguments = ["-w", CLI.binary] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: CLI.binary)
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["SHARDVAULT_PASSWORD"] = nil
        environment["SHARDVAULT_NEW_PASSWORD"] = nil
        environment.merge(extra) { _, new in new }
        process.environment = environment
        return try CLI.capture(process, arguments: arguments, in: scratch)
    }
}

extension Scratch {
    /// A password file `name` holding `password` and a trailing newline (which is ignored).
    func passwordFile(_ name: String, _ password: String) throws -> String {
        try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    /// Creates a 4+2 vault with the cheap test KDF; returns the volumes and the password file.
    func createVault(password: String = "correct horse battery staple", prefix: String = "v") throws -> (volumes: [String], passwordFile: String) {
        let volumes = self.volumes(6, prefix: prefix)
        let file = try passwordFile("\(prefix)-password", password)
        let created = try VaultCLI.run(["init", "--kdf", "test", "--password-file", file] + volumes, in: self)
        #expect(created.status == 0, "\(created.transcript)")
        return (volumes, file)
    }
}

/// The ids of the two key-file slots in the pool ("SVKEYFIL" + slot number), as shard file paths.
enum KeyFileShards {
    static let slotIDs = ["53564b455946494c0000000000000000", "53564b455946494c0000000000000001"]

    /// The key-file shard files present on `volume`.
    static func files(on volume: String) -> [String] {
        slotIDs.map { "\(volume)/objects/\($0.prefix(2))/\($0)" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Inverts every byte of every key-file shard on `volume`; returns how many files it damaged.
    @discardableResult
    static func corrupt(on volume: String) throws -> Int {
        let paths = files(on: volume)
        for path in paths {
            let url = URL(fileURLWithPath: path)
            let damaged = Data(try Data(contentsOf: url).map { $0 ^ 0xFF })
            try damaged.write(to: url)
        }
        return paths.count
    }
}
