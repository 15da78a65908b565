import ArgumentParser
import Foundation
import Vault
import VaultCrypto

/// `shardvault-bench vault-open-probe VOLUME...` (hidden): opens the vault once in this fresh
/// process, so the memory it reports is the vault's alone (a long-running bench process keeps
/// freed heap from earlier vaults, which would hide or inflate the growth), prints one JSON
/// line, and closes the vault.
struct VaultOpenProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vault-open-probe",
        abstract: "Internal: time one vault open and its memory (used by `vault`).",
        shouldDisplay: false)

    @Argument(help: "Volume directories of a vault created by `vault` (its fixed password).")
    var volumes: [String]

    struct Result: Codable {
        var openSeconds: Double
        var residentBefore: Int
        var residentAfter: Int
        var peakAfter: Int
        var inodes: UInt64
    }

    func run() throws {
        let password = try SecureBytes(copying: VaultSession.password)
        let options = VaultSession.options()
        let before = ProcessMemory.current()
        let start = monotonicNanoseconds()
        let vault = try Vault(volumePaths: volumes, password: password, options: options)
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        let after = ProcessMemory.current()
        let result = Result(openSeconds: seconds, residentBefore: before.residentBytes, residentAfter: after.residentBytes,
                            peakAfter: after.peakResidentBytes, inodes: vault.statistics().files)
        try vault.close()
        print(String(decoding: try JSONEncoder().encode(result), as: UTF8.self))
    }

    /// Runs the probe in a child process (this executable) and returns what it printed.
    static func run(volumePaths: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["vault-open-probe"] + volumePaths
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError.setup("vault-open-probe exited with \(process.terminationStatus)")
        }
        guard let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").last else {
            throw BenchError.setup("vault-open-probe printed nothing")
        }
        return try JSONDecoder().decode(Result.self, from: Data(line.utf8))
    }
}
