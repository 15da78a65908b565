import Foundation
import Testing
import VaultCrypto
@testable import Vault
import SeededRandom

/// Invariant I4: a child process works on the vault and is killed with SIGKILL at a random
/// moment, again and again. After every kill the vault opens, fsck finds no missing or
/// unreadable block and no namespace damage, and every file the child acknowledged after an
/// fsync is present and byte-identical.
@Suite(.serialized) struct CrashTests {
    static let rounds = Int(ProcessInfo.processInfo.environment["SHARDVAULT_CRASH_ROUNDS"] ?? "") ?? 50

    /// `crash-workload`, built next to the test bundle.
    static let workload: String? = {
        for start in [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])].compactMap({ $0 }) {
            var directory = start.resolvingSymlinksInPath().deletingLastPathComponent()
            for _ in 0 ..< 4 {
                let candidate = directory.appendingPathComponent("crash-workload").path
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                directory.deleteLastPathComponent()
            }
        }
        return nil
    }()

    @Test func acknowledgedWritesSurviveRepeatedSIGKILL() throws {
        let workload = try #require(Self.workload, "crash-workload must be built (swift build --build-tests)")
        let fixture = try VaultFixture(k: 4, m: 2)
        try fixture.vault.close()
        let log = fixture.root + "/acknowledged.log"
        var random = SplitMix64(seed: UInt64(Date().timeIntervalSince1970))
        var acknowledged: [String: (size: Int, seed: UInt64)] = [:]
        for round in 0 ..< Self.rounds {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: workload)
            child.arguments = [fixture.volumePaths.joined(separator: ":"), log, String(round + 1),
                               String(decoding: VaultFixture.password, as: UTF8.self)]
            try child.run()
            usleep(UInt32.random(in: 150_000 ... 900_000, using: &random))
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "round \(round): the child must still be running when killed (exit \(child.terminationStatus))")

            var newlyAcknowledged: Set<String> = []
            for line in try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count == 4, fields[0] == "ACK", let size = Int(fields[2]), let seed = UInt64(fields[3]) else { continue }
                if acknowledged.updateValue((size, seed), forKey: String(fields[1])) == nil { newlyAcknowledged.insert(String(fields[1])) }
            }
            let vault = try Vault(volumePaths: fixture.volumePaths, password: SecureBytes(copying: VaultFixture.password),
                                  options: VaultFixture.fastOptions)
            let report = try vault.fsck(repair: true)
            #expect(report.missingBlocks.isEmpty && report.unreadableBlocks.isEmpty && report.namespaceProblems.isEmpty,
                    "round \(round): \(report)")
            // A child killed before its first commit leaves not even the directory behind.
            guard !acknowledged.isEmpty else {
                try vault.close()
                continue
            }
            let directory = try vault.lookup(Namespace.rootInode, "acked").0
            // Every byte of what this round acknowledged; older files (verified when they were
            // new, never written again) by size, and in full every tenth round.
            let fullCheck = round % 10 == 9 || round == Self.rounds - 1
            for (name, expected) in acknowledged {
                let inode = try vault.lookup(directory, name).0
                guard fullCheck || newlyAcknowledged.contains(name) else {
                    #expect(try vault.attributes(inode).size == UInt64(expected.size), "round \(round): \(name) size")
                    continue
                }
                let handle = try vault.open(inode)
                var bytes = [UInt8](repeating: 0, count: expected.size)
                let count = try bytes.withUnsafeMutableBytes { (raw) throws(VaultError) in try vault.read(handle, at: 0, into: raw) }
                try vault.release(handle)
                var generator = SplitMix64(seed: expected.seed)
                let reference = (0 ..< expected.size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                #expect(count == expected.size && bytes == reference, "round \(round): \(name) differs after the kill")
            }
            try vault.close()
        }
        #expect(acknowledged.count >= Self.rounds / 2, "the workload acknowledged too little to prove anything")
    }
}

