import Foundation

/// Which top-level entries of the kernel source tree a run untars: `all`, a list of names, or
/// `all` minus some (`all,-drivers`). Written on the command line as `--kernel-dirs`.
struct KernelSelection: Codable, Equatable, CustomStringConvertible {
    var includesAll: Bool
    var included: [String]
    var excluded: [String]

    init(parsing text: String) throws {
        includesAll = false
        included = []
        excluded = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            if item == "all" {
                includesAll = true
            } else if item.hasPrefix("-") {
                excluded.append(String(item.dropFirst()))
            } else {
                included.append(item)
            }
        }
        let names = included + excluded
        guard names.allSatisfy({ !$0.isEmpty && !$0.contains("/") && !$0.contains("*") }) else {
            throw BenchError.setup("--kernel-dirs takes top-level names: fs,include or all,-drivers")
        }
        guard includesAll || !included.isEmpty else {
            throw BenchError.setup("--kernel-dirs selects nothing: name directories, or all (optionally with -name exclusions)")
        }
        included.sort()
        excluded.sort()
    }

    var description: String {
        includesAll ? (["all"] + excluded.map { "-" + $0 }).joined(separator: ",") : included.joined(separator: ",")
    }

    /// GNU tar arguments that extract exactly this selection from the source tarball. Patterns
    /// are anchored and `*` does not cross `/`, so `*/fs` is the tree's top-level fs/ only
    /// (not tools/…/fs); a matching directory brings its whole subtree.
    var tarArguments: [String] {
        var arguments = ["--wildcards", "--no-wildcards-match-slash", "--anchored"]
        arguments += excluded.map { "--exclude=*/\($0)" }
        if !includesAll { arguments += included.map { "*/\($0)" } }
        return arguments
    }
}

/// An uncompressed tarball of part of the kernel source (from the Debian package
/// linux-source-6.1) with an md5sum manifest of its files, built once and cached: untar measures
/// the target, not xz, and `md5sum -c` proves every byte came back.
struct KernelSubset: Codable {
    /// The tarball it was cut from, and what was taken.
    var source: String
    var selection: String
    /// The single top-level directory inside the tarball (what ls -lR and rm -rf are given).
    var topDirectory: String
    var files: Int
    var directories: Int
    var symlinks: Int
    /// What `ls -lR` shows: entries below the top directory that are not hidden (a dot name or
    /// inside a dot directory) — ls without -a skips those, as gocryptfs's benchmark does.
    var listedFiles: Int
    var listedDirectories: Int
    var listedSymlinks: Int
    /// Apparent bytes of the regular files.
    var fileBytes: Int
    var tarBytes: Int
    var tarPath: String
    var manifestPath: String

    static let defaultSourceGlob = "/usr/src/linux-source-*.tar.xz"

    /// The newest /usr/src/linux-source-*.tar.xz (package linux-source-6.1), or nil.
    static func defaultSource() -> String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/src")) ?? []
        return names.filter { $0.hasPrefix("linux-source-") && $0.hasSuffix(".tar.xz") }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
            .last.map { "/usr/src/" + $0 }
    }

    /// The cached subset for `selection` of `source`, built first when missing (tens of seconds:
    /// the whole xz stream is decompressed once). Builds in a temporary directory and renames it
    /// into place, so an interrupted build leaves no half cache.
    static func prepare(source: String, selection: KernelSelection, cacheRoot: String) throws -> KernelSubset {
        var info = stat()
        guard stat(source, &info) == 0 else {
            throw BenchError.setup("kernel source \(source) not found (apt install linux-source-6.1, or make setup-bench)")
        }
        let key = "\(source)|\(info.st_size)|\(info.st_mtim.tv_sec)|\(selection)"
        let stem = URL(fileURLWithPath: source).lastPathComponent.replacingOccurrences(of: ".tar.xz", with: "")
        let directory = "\(cacheRoot)/\(stem)-\(fnv1a(key))"
        if let cached = try? JSONDecoder().decode(KernelSubset.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/subset.json"))),
           FileManager.default.fileExists(atPath: cached.tarPath), FileManager.default.fileExists(atPath: cached.manifestPath) {
            return cached
        }
        print("building the kernel subset \(selection) from \(source) into \(directory) (once; cached)…")
        fflush(nil)
        let build = try ScratchDirectory(under: cacheRoot, prefix: "build")
        defer { build.finish(keep: false) }
        let log = build.path + "/build.log"
        let tree = build.path + "/tree"
        try TargetSupport.makeDirectories(tree)
        try Command.run("tar", ["-xf", source, "-C", tree, "--no-same-owner"] + selection.tarArguments, log: log)
        let tops = try FileManager.default.contentsOfDirectory(atPath: tree)
        guard tops.count == 1, let top = tops.first else {
            throw BenchError.setup("\(source): expected one top-level directory, found \(tops.count) (selection \(selection))")
        }
        let output = build.path + "/out"
        try TargetSupport.makeDirectories(output)
        var subset = try count(tree + "/" + top)
        subset.source = source
        subset.selection = selection.description
        subset.topDirectory = top
        // Manifest paths are relative to the directory the tarball is extracted in.
        try Command.run("/bin/sh", ["-c", "find \"$1\" -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum > \"$2\"",
                                    "sh", top, output + "/md5sums"], directory: tree, log: log)
        try Command.run("tar", ["-cf", output + "/subset.tar", "--sort=name", "--owner=0", "--group=0",
                                "--numeric-owner", "-C", tree, top], log: log)
        subset.tarPath = directory + "/subset.tar"
        subset.manifestPath = directory + "/md5sums"
        var tarInfo = stat()
        _ = stat(output + "/subset.tar", &tarInfo)
        subset.tarBytes = Int(tarInfo.st_size)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(subset).write(to: URL(fileURLWithPath: output + "/subset.json"))
        try? FileManager.default.removeItem(atPath: directory)
        guard rename(output, directory) == 0 else { throw BenchError.io("rename \(output) to \(directory)", errno) }
        return subset
    }

    /// Files, directories (including `root`), symlinks and file bytes below `root`, all and as
    /// `ls -lR` lists them.
    private static func count(_ root: String) throws -> KernelSubset {
        var subset = KernelSubset(source: "", selection: "", topDirectory: "", files: 0, directories: 1, symlinks: 0,
                                  listedFiles: 0, listedDirectories: 0, listedSymlinks: 0,
                                  fileBytes: 0, tarBytes: 0, tarPath: "", manifestPath: "")
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw BenchError.setup("cannot list \(root)") }
        while let relative = walker.nextObject() as? String {
            var info = stat()
            guard lstat(root + "/" + relative, &info) == 0 else { throw BenchError.io("lstat \(relative)", errno) }
            let listed = !relative.split(separator: "/").contains { $0.hasPrefix(".") }
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                subset.files += 1
                subset.fileBytes += Int(info.st_size)
                if listed { subset.listedFiles += 1 }
            case S_IFDIR:
                subset.directories += 1
                if listed { subset.listedDirectories += 1 }
            case S_IFLNK:
                subset.symlinks += 1
                if listed { subset.listedSymlinks += 1 }
            default: throw BenchError.setup("\(relative): unexpected file type in the kernel tree")
            }
        }
        return subset
    }

    /// A short stable hash for cache directory names.
    private static func fnv1a(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    var summary: String {
        "\(topDirectory) [\(selection)]: \(files) files, \(directories) directories, \(symlinks) symlinks, "
            + String(format: "%.0f MB", Double(fileBytes) / 1e6)
    }
}

/// Named sizes for `--scale`: how much the canonical workload moves.
enum BenchScale: String, CaseIterable, Codable {
    /// The kernel tree without drivers/ (≈50k entries, ≈430 MB — the size class of gocryptfs's
    /// linux-3.0 canonical tarball) and a 512 MiB stream file.
    case full
    /// Core directories (≈12k entries, ≈135 MB) and a 128 MiB stream file.
    case medium
    /// ≈200 entries and an 8 MiB stream file: smoke tests in seconds.
    case tiny

    var kernelSelection: String {
        switch self {
        case .full: return "all,-drivers"
        case .medium: return "block,crypto,fs,include,kernel,lib,mm,net,security"
        case .tiny: return "block,certs,init,ipc,usr,virt"
        }
    }

    var streamBytes: Int {
        switch self {
        case .full: return 512 << 20
        case .medium: return 128 << 20
        case .tiny: return 8 << 20
        }
    }
}

extension KernelSubset {
    /// The files the manifest checks (md5sum lines "HASH  PATH"), as paths under `directory`.
    func manifestFiles(in directory: String) throws -> [String] {
        let text = try String(contentsOfFile: manifestPath, encoding: .utf8)
        return text.split(separator: "\n").compactMap { line in
            line.range(of: "  ").map { directory + "/" + line[$0.upperBound...] }
        }
    }
}
