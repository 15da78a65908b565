import Foundation
import SeededRandom
import Vault

/// Small files stored inline in the metadata versus as blocks: the measurement behind
/// `Vault.defaultInlineLimit`. For each size, the same files are written to a vault whose
/// inline limit keeps them inline and to one that stores them as blocks; reported are
/// creates/s (write + release, then one sync), cold reads/s after a reopen, bytes on the
/// volumes per file, and the reopen time.
final class VaultSmallFileJobs {
    static let sizes = [256, 1024, 2048, 4096, 8192, 16384]
    private let settings: VaultSettings
    private let reporter: VaultReporter
    private let base: String

    init(settings: VaultSettings, reporter: VaultReporter, base: String) {
        self.settings = settings
        self.reporter = reporter
        self.base = base
    }

    var fileCount: Int { settings.quick ? 100 : 1000 }

    func run() throws {
        for size in Self.sizes {
            for inline in [true, false] {
                try measure(size: size, inline: inline)
            }
        }
    }

    private func measure(size: Int, inline: Bool) throws {
        let label = "\(sizeLabel(size)).\(inline ? "inline" : "block")"
        let root = try makeTemporaryDirectory(under: base, prefix: "small-\(label)")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = VaultSession.options()
        options.inlineLimit = inline ? size : 0
        let session = try VaultSession(root: root, options: options)
        let vault = session.opened
        let before = diskBytes(session.volumePaths)
        let content = SplitMix64.bytes(count: size, seed: UInt64(size))

        let start = monotonicNanoseconds()
        var files: [InodeNumber] = []
        for index in 0 ..< fileCount {
            let (inode, _) = try vault.mknod(Namespace.rootInode, "f\(index)", kind: .regular, permissions: 0o644, uid: 0, gid: 0)
            let handle = try vault.open(inode)
            try content.withUnsafeBytes { raw in try vault.write(handle, at: 0, raw) }
            try vault.release(handle)
            files.append(inode)
        }
        try vault.sync()
        let created = Double(monotonicNanoseconds() - start) / 1e9
        try session.close()
        let perFile = Double(diskBytes(session.volumePaths) - before) / Double(fileCount)

        let opening = monotonicNanoseconds()
        try session.open()
        let openSeconds = Double(monotonicNanoseconds() - opening) / 1e9
        let reader = session.opened
        var buffer = [UInt8](repeating: 0, count: size)
        let reading = monotonicNanoseconds()
        for inode in files {
            let handle = try reader.open(inode)
            let count = try buffer.withUnsafeMutableBytes { raw in try reader.read(handle, at: 0, into: raw) }
            try reader.release(handle)
            guard count == size, buffer == content else { throw BenchError.setup("small file \(inode) read back wrong") }
        }
        let read = Double(monotonicNanoseconds() - reading) / 1e9
        try session.close()

        let note = "\(fileCount) files of \(size) bytes, \(inline ? "inline in metadata" : "one block each")"
        reporter.add(Measurement(name: "vault.small.create.\(label)", unit: "files/s", values: [Double(fileCount) / created],
                                 operations: [fileCount], bytes: [fileCount * size], seconds: [created], note: note))
        reporter.add(Measurement(name: "vault.small.read.\(label)", unit: "files/s", values: [Double(fileCount) / read],
                                 operations: [fileCount], bytes: [fileCount * size], seconds: [read],
                                 note: note + "; after a reopen (cold chunk cache)"))
        reporter.add(Measurement(name: "vault.small.disk.\(label)", unit: "B/file", values: [perFile],
                                 operations: [fileCount], bytes: [0], seconds: [0],
                                 note: note + "; allocated bytes on all six volumes after close, per file"))
        reporter.add(Measurement(name: "vault.small.open.\(label)", unit: "s", values: [openSeconds],
                                 operations: [1], bytes: [0], seconds: [openSeconds], note: note))
    }

    /// Bytes allocated on disk (st_blocks) under the volume directories.
    private func diskBytes(_ paths: [String]) -> Int {
        var total = 0
        for path in paths {
            guard let walker = FileManager.default.enumerator(atPath: path) else { continue }
            for case let name as String in walker {
                var info = stat()
                if lstat(path + "/" + name, &info) == 0 { total += Int(info.st_blocks) * 512 }
            }
        }
        return total
    }
}
