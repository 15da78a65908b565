import Foundation
import Vault
import SeededRandom

/// Namespace work through `Vault`: building trees of N files (creates/s), lookups and readdir
/// on the `namespaceFiles` tree, and for each size in `openEntries` the time and memory of
/// opening the vault again (measured in child processes: `VaultOpenProbe`).
final class VaultNamespaceJobs {
    private let settings: VaultSettings
    private let reporter: VaultReporter
    private let base: String
    /// The names used in every directory ("file-000000.dat" …), built once.
    private let names: [String]

    init(settings: VaultSettings, reporter: VaultReporter, base: String) {
        self.settings = settings
        self.reporter = reporter
        self.base = base
        names = (0 ..< settings.filesPerDirectory).map { "file-" + String(1_000_000 + $0).dropFirst() + ".dat" }
    }

    /// A built tree: directory inodes in order, and every file's inode (directory-major).
    struct Tree {
        var directories: [InodeNumber] = []
        var files: [InodeNumber] = []
        var fileCount: Int { files.count }
    }

    func run() throws {
        let sizes = Set(settings.openEntries + [settings.namespaceFiles]).sorted()
        for size in sizes {
            let root = try makeTemporaryDirectory(under: base, prefix: "namespace-\(countLabel(size))")
            defer { try? FileManager.default.removeItem(atPath: root) }
            let session = try VaultSession(root: root, options: VaultSession.options())
            let tree = try build(session.opened, files: size)
            if size == settings.namespaceFiles {
                try lookups(session.opened, tree)
                try readdirs(session.opened, tree)
            }
            guard settings.openEntries.contains(size) else { try session.close(); continue }
            let closing = monotonicNanoseconds()
            try session.close()
            let closeSeconds = Double(monotonicNanoseconds() - closing) / 1e9
            reporter.add(Measurement(name: "vault.close.\(countLabel(size))", unit: "s", values: [closeSeconds],
                                     operations: [1], bytes: [0], seconds: [closeSeconds],
                                     note: "Vault.close after the build: final journal commit and a checkpoint of the whole namespace"))
            try openProbes(session, files: size, tree: tree)
        }
    }

    private func directoryName(_ index: Int) -> String { "dir-" + String(100_000 + index).dropFirst() }

    /// `files` empty regular files in ceil(files / filesPerDirectory) directories under the
    /// root, by mkdir + mknod (the cheapest public create), then one sync; all timed.
    private func build(_ vault: Vault, files: Int) throws -> Tree {
        var tree = Tree()
        let directoryCount = (files + settings.filesPerDirectory - 1) / settings.filesPerDirectory
        tree.directories.reserveCapacity(directoryCount)
        tree.files.reserveCapacity(files)
        sync()
        let start = monotonicNanoseconds()
        var remaining = files
        for index in 0 ..< directoryCount {
            let (directory, _) = try vault.mkdir(Namespace.rootInode, directoryName(index), permissions: 0o755, uid: 0, gid: 0)
            tree.directories.append(directory)
            for name in names.prefix(min(remaining, settings.filesPerDirectory)) {
                tree.files.append(try vault.mknod(directory, name, kind: .regular, permissions: 0o644, uid: 0, gid: 0).0)
            }
            remaining -= min(remaining, settings.filesPerDirectory)
        }
        let created = monotonicNanoseconds()
        try vault.sync()
        let synced = monotonicNanoseconds()
        let operations = files + directoryCount
        let createSeconds = Double(created - start) / 1e9
        let totalSeconds = Double(synced - start) / 1e9
        let shape = "\(directoryCount) directories × \(min(files, settings.filesPerDirectory)) files (15-byte names)"
        reporter.add(Measurement(name: "vault.create.\(countLabel(files))", unit: "ops/s",
                                 values: [Double(operations) / totalSeconds], operations: [operations], bytes: [0],
                                 seconds: [totalSeconds],
                                 note: "build of \(shape): vault.mkdir + vault.mknod, one thread, then one vault.sync "
                                     + "(timed; the creates alone took \(String(format: "%.2f", createSeconds)) s)"))
        return tree
    }

    /// Every file looked up once per sample, in a random order (fixed seed).
    private func lookups(_ vault: Vault, _ tree: Tree) throws {
        var order = Array(0 ..< tree.fileCount)
        var generator = SplitMix64(seed: settings.randomSeed)
        order.shuffle(using: &generator)
        let perDirectory = settings.filesPerDirectory
        var runs: [Sample] = []
        for _ in 0 ..< settings.samples {
            runs.append(try Sampler.run(bytesPerOperation: 0, operations: order.count) { position in
                let file = order[position]
                let (inode, _) = try vault.lookup(tree.directories[file / perDirectory], names[file % perDirectory])
                guard inode == tree.files[file] else { throw BenchError.wrongResult("lookup of file \(file) gave inode \(inode)") }
            })
        }
        reporter.add(Measurement(name: "vault.lookup.\(countLabel(tree.fileCount))", rateOf: runs,
                                 note: "vault.lookup (name sealed with AES-SIV, map probe, attributes) of every file once, "
                                     + "random order, one thread"))
    }

    /// Every directory listed in pages of `readdirPageEntries`, as the front doors page it.
    private func readdirs(_ vault: Vault, _ tree: Tree) throws {
        var runs: [Sample] = []
        for _ in 0 ..< settings.samples {
            var entries = 0
            let start = monotonicNanoseconds()
            for directory in tree.directories {
                var cookie: UInt64 = 0
                while true {
                    let page = try vault.readdir(directory, after: cookie, limit: settings.readdirPageEntries)
                    guard let last = page.last else { break }
                    entries += page.count
                    cookie = last.cookie
                }
            }
            let seconds = Double(monotonicNanoseconds() - start) / 1e9
            guard entries == tree.fileCount else { throw BenchError.wrongResult("readdir listed \(entries) of \(tree.fileCount) entries") }
            runs.append(Sample(operations: entries, bytes: 0, seconds: seconds))
        }
        reporter.add(Measurement(name: "vault.readdir.\(countLabel(tree.fileCount))", rateOf: runs, unit: "entries/s",
                                 note: "every directory listed with vault.readdir in pages of \(settings.readdirPageEntries) "
                                     + "entries (each name decrypted with AES-SIV into a String)"))
    }

    /// Opens the closed vault in child processes: `openWarmSamples` with the page cache as the
    /// build left it, then `openColdSamples` after drop_caches.
    private func openProbes(_ session: VaultSession, files: Int, tree: Tree) throws {
        var warm: [VaultOpenProbe.Result] = []
        for _ in 0 ..< settings.openWarmSamples { warm.append(try VaultOpenProbe.run(volumePaths: session.volumePaths)) }
        var cold: [VaultOpenProbe.Result] = []
        if settings.coldUnavailable == nil {
            for _ in 0 ..< settings.openColdSamples {
                try PageCache.drop()
                cold.append(try VaultOpenProbe.run(volumePaths: session.volumePaths))
            }
        }
        let expectedInodes = UInt64(tree.fileCount + tree.directories.count + 1)
        for probe in warm + cold where probe.inodes != expectedInodes {
            throw BenchError.wrongResult("reopened vault of \(files) files has \(probe.inodes) inodes, expected \(expectedInodes)")
        }
        let label = countLabel(files)
        let entries = "\(expectedInodes) inodes"
        func add(_ name: String, unit: String, _ probes: [VaultOpenProbe.Result], value: (VaultOpenProbe.Result) -> Double,
                 note: String) {
            guard !probes.isEmpty else { return }
            reporter.add(Measurement(name: name, unit: unit, values: probes.map(value), operations: probes.map { _ in 1 },
                                     bytes: probes.map { $0.residentAfter - $0.residentBefore },
                                     seconds: probes.map(\.openSeconds), note: note))
        }
        add("vault.open.warm.\(label)", unit: "s", warm, value: \.openSeconds,
            note: "Vault(volumePaths:password:options:) in a fresh process (\(entries)): unlock (KDF test), read the superblock "
                + "and checkpoint, restore the namespace, replay the journal; page cache warm")
        add("vault.open.cold.\(label)", unit: "s", cold, value: \.openSeconds,
            note: "the same after sync + drop_caches")
        add("vault.open.rss.\(label)", unit: "MiB", warm + cold,
            value: { Double($0.residentAfter - $0.residentBefore) / 1048576 },
            note: "VmRSS after open minus VmRSS just before it, in the probe process (bytesPerSample: the same in bytes)")
        add("vault.open.peak-rss.\(label)", unit: "MiB", warm + cold,
            value: { Double($0.peakAfter - $0.residentBefore) / 1048576 },
            note: "VmHWM after open minus VmRSS before it: the most the open needed at once")
    }
}
