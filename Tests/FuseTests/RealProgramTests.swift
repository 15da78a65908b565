import Foundation
import Glibc
import Testing

/// Real programs inside the mount: tar and md5sum over a slice of the kernel source, git,
/// and rsync in and out. (sqlite in WAL mode has its own file: SqliteWalTests.)
@Suite(.serialized)
struct RealProgramTests {
    /// The repository's root, found from this file's path (Tests/FuseTests/…).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    /// Where scripts/kernel-subset.sh caches its tarball between runs.
    static let cacheDirectory = ProcessInfo.processInfo.environment["SHARDVAULT_TEST_CACHE"]
        ?? NSTemporaryDirectory() + "shardvault-test-cache"

    /// One line per entry: type, mode, size (not of directories: file-system specific), ns
    /// mtime, link count, link target, name — sorted, for `diff` between trees.
    static let metadataWalk = """
        find . -mindepth 1 \\( -type d -printf '%y %m - %T@ %n %p\\n' \\) -o -printf '%y %m %s %T@ %n %l %p\\n' | LC_ALL=C sort
        """

    /// The kernel subset (scripts/kernel-subset.sh, shared with the bench) is extracted
    /// natively and checksummed there, then extracted into the mount; after a remount (so
    /// the reads come from the volumes, not from caches) `md5sum -c` passes and names,
    /// types, modes, sizes and mtimes match; `rm -rf` empties the mount.
    @Test func kernelSourceUntarChecksumsAndRemove() throws {
        guard Shell.require("xz", package: "xz-utils") else { return }
        let subset = try Shell.run("\(Shell.quote(Self.repositoryRoot + "/scripts/kernel-subset.sh")) \(Shell.quote(Self.cacheDirectory))",
                                   timeout: 300)
        try #require(subset.succeeded, "kernel-subset.sh: \(subset.tail)")
        let tarball = try #require(subset.output.split(separator: "\n").last.map(String.init))

        let vault = try MountedVault()
        defer { vault.stop() }
        let prepared = try Shell.run("""
            mkdir -p native && tar -xf \(Shell.quote(tarball)) -C native
            cd native && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum > ../sums
            \(Self.metadataWalk) > ../native-listing
            wc -l < ../sums
            """, in: vault.root)
        try #require(prepared.succeeded, "\(prepared.tail)")
        let fileCount = Int(prepared.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(fileCount > 3000, "the subset should hold a few thousand files, has \(fileCount)")

        var started = Date()
        let untarred = try Shell.run("mkdir src && tar -xf \(Shell.quote(tarball)) -C src", in: vault.mountpoint, timeout: 180)
        let untarSeconds = Date().timeIntervalSince(started)
        try #require(untarred.succeeded, "tar -x into the mount: \(untarred.tail)")
        try #require(vault.unmountBySignal() == 0, "daemon log: \(vault.log())")
        // Small files share pack objects (docs/FORMAT-blocks.md): far fewer shard files than files.
        let shardFilesAfterUntar = Self.shardFileCount(vault.volumes[0])
        #expect(shardFilesAfterUntar < fileCount / 8, "\(shardFilesAfterUntar) shard files on a volume for \(fileCount) files")
        try vault.mount()

        started = Date()
        let checked = try Shell.run("md5sum -c --quiet \(Shell.quote(vault.root + "/sums"))", in: vault.path("src"), timeout: 180)
        let checkSeconds = Date().timeIntervalSince(started)
        #expect(checked.succeeded, "md5sum -c in the mount: \(checked.tail)")
        let compared = try Shell.run("cd src && \(Self.metadataWalk) | diff \(Shell.quote(vault.root + "/native-listing")) -",
                                     in: vault.mountpoint)
        #expect(compared.succeeded, "find listings differ (< native, > mount):\n\(compared.tail)")

        started = Date()
        let removed = try Shell.run("rm -rf src", in: vault.mountpoint, timeout: 120)
        let removeSeconds = Date().timeIntervalSince(started)
        #expect(removed.succeeded, "rm -rf: \(removed.tail)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: vault.mountpoint) == [])
        // Deletions run after the commit that made them safe; the unmount waits for them.
        #expect(vault.unmountBySignal() == 0, "daemon log: \(vault.log())")
        let shardFilesAfterRemove = Self.shardFileCount(vault.volumes[0])
        #expect(shardFilesAfterRemove < 50, "\(shardFilesAfterRemove) shard files left after rm -rf: packs not freed")
        print(String(format: "kernel subset: %d files; untar %.1f s, md5sum -c %.1f s, rm -rf %.1f s",
                     fileCount, untarSeconds, checkSeconds, removeSeconds))
    }

    /// Shard files under a volume's objects/ directory.
    static func shardFileCount(_ volume: String) -> Int {
        let names = FileManager.default.enumerator(atPath: volume + "/objects")?.compactMap { $0 as? String } ?? []
        return names.filter { $0.count == 35 }.count
    }

    /// init, add, commit, status, diff, log, fsck and gc on a small tree; a clone out of
    /// the mount has the same files.
    @Test func gitWorkflow() throws {
        guard Shell.require("git", package: "git") else { return }
        let vault = try MountedVault()
        defer { vault.stop() }
        let environment = [
            "HOME": vault.root, "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
        ]
        let built = try Shell.run("""
            git init -q -b main repo && cd repo
            mkdir -p src/deep/er docs
            for i in $(seq 1 40); do seq 1 $((i * 7)) | sed "s/.*/line & of file $i/" > src/deep/file$i.c; done
            seq 1 5000 > docs/numbers.txt
            head -c 300000 /dev/zero | tr '\\0' 'x' > docs/big.txt
            printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod +x run.sh
            ln -s docs/numbers.txt numbers-link
            git add -A && git commit -q -m first
            test -z "$(git status --porcelain)"
            sed -i 's/^line 3 of/LINE THREE of/' src/deep/file9.c
            echo new > src/deep/er/added.txt
            git rm -q docs/big.txt
            git status --porcelain
            """, in: vault.mountpoint, environment: environment)
        try #require(built.succeeded, "\(built.tail)")
        #expect(built.output.split(separator: "\n").sorted() == ["D  docs/big.txt", " M src/deep/file9.c", "?? src/deep/er/"].sorted(),
                "git status --porcelain: \(built.output)")

        let diffed = try Shell.run("git diff --stat && git diff src/deep/file9.c", in: vault.path("repo"), environment: environment)
        #expect(diffed.succeeded && diffed.output.contains("+LINE THREE of file 9") && diffed.output.contains("-line 3 of file 9"),
                "\(diffed.tail)")

        let committed = try Shell.run("""
            git add -A && git commit -q -m second
            test -z "$(git status --porcelain)"
            git log --format=%s
            git fsck --full --strict 2>&1
            git gc -q --aggressive
            git fsck --full 2>&1
            git clone -q . \(Shell.quote(vault.root + "/clone"))
            """, in: vault.path("repo"), environment: environment)
        #expect(committed.succeeded, "\(committed.tail)")
        #expect(committed.output.hasPrefix("second\nfirst\n"), "git log: \(committed.output)")
        let same = try Shell.run("diff -r --no-dereference -x .git repo \(Shell.quote(vault.root + "/clone"))", in: vault.mountpoint)
        #expect(same.succeeded, "a clone out of the mount differs from the work tree: \(same.tail)")
    }

    /// rsync -aH a generated tree (modes, ns mtimes, symlinks, a hard link, holes, empty
    /// files and directories) into the mount and back out: byte-identical and metadata
    /// preserved both ways, and a second rsync finds nothing to do.
    @Test func rsyncInAndOutPreservesBytesModesAndTimes() throws {
        guard Shell.require("rsync", package: "rsync"), Shell.require("python3", package: "python3") else { return }
        let vault = try MountedVault()
        defer { vault.stop() }
        let generated = try Shell.run("python3 -c \(Shell.quote(Self.treeGenerator)) tree", in: vault.root)
        try #require(generated.succeeded, "\(generated.tail)")

        // The metadata walk, then content checksums.
        let walk = """
            \(Self.metadataWalk)
            find . -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum
            """
        let copied = try Shell.run("""
            rsync -aH tree/ mnt/tree/
            (cd tree && \(walk)) > walk-native
            (cd mnt/tree && \(walk)) > walk-mount
            rsync -aH mnt/tree/ back/
            (cd back && \(walk)) > walk-back
            rsync -aHi tree/ mnt/tree/ > second-pass
            """, in: vault.root, timeout: 180)
        try #require(copied.succeeded, "\(copied.tail)")
        let native = try String(contentsOfFile: vault.root + "/walk-native", encoding: .utf8)
        #expect(native.split(separator: "\n").count > 300)
        let inMount = try String(contentsOfFile: vault.root + "/walk-mount", encoding: .utf8)
        let intoMountMatches = inMount == native
        #expect(intoMountMatches, "after rsync into the mount:\n\(Self.firstDifferences(native, inMount))")
        let back = try String(contentsOfFile: vault.root + "/walk-back", encoding: .utf8)
        let outOfMountMatches = back == native
        #expect(outOfMountMatches, "after rsync out of the mount:\n\(Self.firstDifferences(native, back))")
        let secondPass = try String(contentsOfFile: vault.root + "/second-pass", encoding: .utf8)
        #expect(secondPass.isEmpty, "a second rsync should find nothing to change:\n\(secondPass.prefix(2000))")
    }

    /// Makes a tree under argv[1], the same for every run: 400 files of many sizes and
    /// modes in nested directories, symlinks, a hard link, a sparse file, empty ones, and
    /// ns-precision mtimes (set last, directories deepest first, so nothing disturbs them).
    static let treeGenerator = """
        import os, random, sys
        root = sys.argv[1]
        rng = random.Random(20251121)
        sizes = [0, 1, 2047, 2048, 2049, 32767, 32768, 32769, 100000, 4194303, 4194305]
        modes = [0o644, 0o600, 0o755, 0o640, 0o444, 0o700]
        dirs = [root] + [os.path.join(root, *(f"d{i}" if j == 0 else f"s{j}" for j in range(depth)))
                         for i in range(8) for depth in range(1, 4)]
        for d in dirs: os.makedirs(d, exist_ok=True)
        os.makedirs(os.path.join(root, "empty-dir"))
        files = []
        for n in range(400):
            path = os.path.join(rng.choice(dirs), f"file{n}.bin")
            size = rng.choice(sizes) if n < 60 else rng.randrange(0, 20000)
            with open(path, "wb") as f: f.write(rng.randbytes(size))
            os.chmod(path, rng.choice(modes) if n % 3 == 0 else 0o644)
            files.append(path)
        with open(os.path.join(root, "sparse"), "wb") as f:
            f.seek(3_000_000); f.write(b"end")
        links = [os.path.join(root, "dangling-link"), os.path.join(root, "good-link")]
        os.symlink("d0/file-missing", links[0])
        os.symlink(os.path.relpath(files[5], root), links[1])
        # rsync leaves a new link's time alone when it is in the same second as the source.
        for link in links: os.utime(link, ns=(10**17, 10**17 + 123456789), follow_symlinks=False)
        os.link(files[7], os.path.join(root, "hard-link"))
        for path in files + [os.path.join(root, "sparse")]:
            os.utime(path, ns=(rng.randrange(10**18), rng.randrange(10**18)))
        for d in sorted(dirs + [os.path.join(root, "empty-dir")], key=len, reverse=True):
            os.utime(d, ns=(rng.randrange(10**18), rng.randrange(10**18)))
        """

    /// The first few lines that differ between two listings.
    static func firstDifferences(_ expected: String, _ actual: String) -> String {
        let left = expected.split(separator: "\n"), right = actual.split(separator: "\n")
        var lines: [String] = []
        for index in 0 ..< max(left.count, right.count) where lines.count < 20 {
            let l = index < left.count ? String(left[index]) : "<none>"
            let r = index < right.count ? String(right[index]) : "<none>"
            if l != r { lines.append("- \(l)\n+ \(r)") }
        }
        return lines.joined(separator: "\n")
    }
}
