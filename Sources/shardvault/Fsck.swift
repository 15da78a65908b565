import ArgumentParser
import Vault
import VaultCrypto
import VolumePool

/// `shardvault fsck [--repair] [--json] [--password-file F] VOLUME...`
struct Fsck: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the vault: every referenced block present and readable, no orphan blocks, a sound namespace.",
        discussion: """
            Unlocks the vault (password from --password-file, $SHARDVAULT_PASSWORD, or the \
            terminal), makes pending changes durable, checks, and closes it. --repair removes \
            orphan blocks (pool objects nothing references, left by a crash). Exit 0 when the \
            vault is clean (after repairs), 1 when problems remain, 2 when the check could not run.
            """)

    @Flag(help: "Remove orphan blocks.")
    var repair = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Read the password from this file.", valueName: "file"))
    var passwordFile: String?

    @OptionGroup var pool: VolumeArguments

    struct Report: Encodable {
        var vaultID: String
        var onlineVolumes: Int
        var missingVolumes: Int
        var inodes: Int
        var referencedBlocks: Int
        var metadataObjects: Int
        var orphanBlocks: [String]
        var removedOrphans: Int
        /// Inode number (as a string: JSON keys) → block ids.
        var missingBlocks: [String: [String]]
        var unreadableBlocks: [String: [String]]
        var namespaceProblems: [String]
        var clean: Bool
    }

    func run() throws {
        let password = try Passwords.existing(file: passwordFile)
        let vault = try Vault(volumePaths: pool.volumes, password: password, options: VaultSupport.oneShotOptions)
        vault.recoveryNotes.forEach(Output.note)
        let report: Report
        do {
            report = try check(vault)
        } catch {
            try? vault.close()
            throw error
        }
        // Closing commits and writes a checkpoint, which needs the write quorum; the check
        // itself has run by then, so its findings are printed even when closing fails.
        var closeError: (any Error)?
        do {
            try vault.close()
        } catch {
            closeError = error
        }
        if json {
            print(try Output.json(report))
        } else {
            printText(report)
        }
        if let closeError {
            Output.note("the check ran, but closing the vault failed (below)")
            throw closeError
        }
        if !report.clean { throw ExitCode(ExitStatus.damaged) }
    }

    private func check(_ vault: Vault) throws -> Report {
        let found = try vault.fsck(repair: repair)
        let online = vault.pool.volumeStatus().filter(\.state.isOnline).count
        func byInode(_ blocks: [InodeNumber: [ObjectID]]) -> [String: [String]] {
            Dictionary(uniqueKeysWithValues: blocks.map { ("\($0.key)", $0.value.map(\.hex).sorted()) })
        }
        return Report(vaultID: vault.pool.vaultID, onlineVolumes: online,
                      missingVolumes: vault.pool.dataShards + vault.pool.parityShards - online,
                      inodes: found.inodes, referencedBlocks: found.referencedBlocks,
                      metadataObjects: found.metadataObjects, orphanBlocks: found.orphanBlocks.map(\.hex).sorted(),
                      removedOrphans: found.removedOrphans, missingBlocks: byInode(found.missingBlocks),
                      unreadableBlocks: byInode(found.unreadableBlocks), namespaceProblems: found.namespaceProblems,
                      clean: found.isClean)
    }

    private func printText(_ report: Report) {
        print("vault \(report.vaultID): \(report.onlineVolumes) volume(s) online, \(report.missingVolumes) missing")
        print("inodes:            \(report.inodes)")
        print("referenced blocks: \(report.referencedBlocks)")
        print("metadata objects:  \(report.metadataObjects)")
        print("orphan blocks:     \(report.orphanBlocks.count) found, \(report.removedOrphans) removed")
        for id in report.orphanBlocks { print("  orphan \(id)") }
        print("missing blocks:    \(report.missingBlocks.values.map(\.count).reduce(0, +))")
        printByInode(report.missingBlocks)
        print("unreadable blocks: \(report.unreadableBlocks.values.map(\.count).reduce(0, +))")
        printByInode(report.unreadableBlocks)
        print("namespace:         " + (report.namespaceProblems.isEmpty ? "ok" : "\(report.namespaceProblems.count) problem(s)"))
        for problem in report.namespaceProblems { print("  \(problem)") }
        if report.clean {
            print("result: CLEAN")
            return
        }
        print("result: PROBLEMS")
        if report.orphanBlocks.count > report.removedOrphans {
            print(repair ? "some orphan blocks could not be removed; run `shardvault heal` and try again"
                : "orphan blocks only waste space; remove them with `shardvault fsck --repair`")
        }
        if !report.missingBlocks.isEmpty || !report.unreadableBlocks.isEmpty {
            print("files with missing or unreadable blocks cannot be read in full; bring back the missing volumes "
                + "(or `shardvault heal` after `pool replace`) and check again")
        }
    }

    private func printByInode(_ blocks: [String: [String]]) {
        for (inode, ids) in blocks.sorted(by: { (UInt64($0.key) ?? 0) < (UInt64($1.key) ?? 0) }) {
            print("  inode \(inode): \(ids.joined(separator: ", "))")
        }
    }
}
