import Foundation
import Glibc
import Testing

/// Eight processes at once in one mount, each with a fixed amount of seeded work: pwrites
/// into its own region of one shared file (regions not aligned to pages, chunks or blocks,
/// so neighbours share every one of those), writes, truncates and reopens of its own files,
/// and small files created, renamed and deleted in a shared directory. Each process checks
/// what it wrote as it goes and leaves its expected bytes outside the mount; the test then
/// compares every byte, in the mount and again after a remount.
@Suite(.serialized)
struct ProcessConcurrencyTests {
    static let workers = 8
    static let rounds = 250
    /// 8 regions of 700,001 bytes: 5.6 MB, so one region straddles the 4 MiB block boundary.
    static let regionSize = 700_001
    static let privateFiles = 2

    @Test func eightProcessesOnDisjointAndSharedFiles() throws {
        guard Shell.require("python3", package: "python3") else { return }
        // On tmpfs: 8 processes fsyncing would mostly measure the disk.
        let vault = try MountedVault(inMemory: true)
        defer { vault.stop() }
        let script = vault.root + "/worker.py"
        let expected = vault.root + "/expected"
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: expected, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: vault.path("work/small"), withIntermediateDirectories: true)
        let shared = vault.path("work/shared.bin")
        let created = open(shared, O_CREAT | O_WRONLY, 0o644)
        try #require(created >= 0 && ftruncate(created, off_t(Self.workers * Self.regionSize)) == 0)
        close(created)

        let started = Date()
        let processes = try (0 ..< Self.workers).map { worker in
            try Shell.start("python3 \(Shell.quote(script)) \(worker) \(Shell.quote(vault.path("work"))) \(Self.regionSize) \(Self.rounds) \(Self.privateFiles) \(Shell.quote(expected))")
        }
        let results = processes.map { $0.wait(timeout: 240) }
        for (worker, result) in results.enumerated() {
            #expect(result.succeeded, "worker \(worker): \(result.tail)")
        }
        print(String(format: "concurrency: %d processes × %d rounds in %.1f s", Self.workers, Self.rounds, Date().timeIntervalSince(started)))
        guard results.allSatisfy(\.succeeded) else { return }

        try verify(vault, expected: expected, when: "in the mount")
        try #require(vault.unmountBySignal() == 0, "daemon log: \(vault.log())")
        try vault.mount()
        try verify(vault, expected: expected, when: "after a remount")
    }

    /// Every region of the shared file, every private file and the set of small files.
    private func verify(_ vault: MountedVault, expected: String, when: String) throws {
        let shared = try Data(contentsOf: URL(fileURLWithPath: vault.path("work/shared.bin")))
        #expect(shared.count == Self.workers * Self.regionSize, "\(when): shared file size \(shared.count)")
        for worker in 0 ..< Self.workers {
            let region = try Data(contentsOf: URL(fileURLWithPath: "\(expected)/shared-\(worker).bin"))
            let start = worker * Self.regionSize
            let actual = shared.subdata(in: min(start, shared.count) ..< min(start + Self.regionSize, shared.count))
            #expect(actual == region, "\(when): region of worker \(worker) differs\(Self.firstDifference(region, actual))")
            for index in 0 ..< Self.privateFiles {
                let name = "private-\(worker)-\(index).bin"
                let want = try Data(contentsOf: URL(fileURLWithPath: "\(expected)/\(name)"))
                let have = try Data(contentsOf: URL(fileURLWithPath: vault.path("work/\(name)")))
                #expect(have == want, "\(when): \(name) differs (\(have.count) bytes, expected \(want.count))\(Self.firstDifference(want, have))")
            }
        }
        let smallWanted = try String(contentsOfFile: "\(expected)/small.txt", encoding: .utf8)
        let smallNames = try FileManager.default.contentsOfDirectory(atPath: vault.path("work/small")).sorted()
        let listed = smallWanted.split(separator: "\n").map(String.init).sorted()
        #expect(smallNames == listed, "\(when): small files differ")
        for name in listed {
            let content = try String(contentsOfFile: vault.path("work/small/\(name)"), encoding: .utf8)
            #expect(content == "\(name)\n", "\(when): small/\(name) holds \(content.debugDescription)")
        }
    }

    private static func firstDifference(_ expected: Data, _ actual: Data) -> String {
        let want = [UInt8](expected), have = [UInt8](actual)
        let common = min(want.count, have.count)
        guard let index = (0 ..< common).first(where: { want[$0] != have[$0] }) ?? (want.count != have.count ? common : nil) else {
            return ""
        }
        return " from byte \(index)"
    }

    /// worker ROOT REGION ROUNDS PRIVATE_FILES EXPECTED_DIR — exits 1 with a message on the
    /// first wrong byte it reads back.
    static let script = #"""
        import os, random, sys
        worker, root, region, rounds, files, expected = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
        rng = random.Random(7919 * (worker + 1))
        shared = os.open(os.path.join(root, "shared.bin"), os.O_RDWR)
        base = worker * region
        mine = bytearray(region)  # the shared file starts as zeros (ftruncate)
        paths = [os.path.join(root, f"private-{worker}-{k}.bin") for k in range(files)]
        fds = [os.open(p, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644) for p in paths]
        models = [bytearray() for _ in paths]
        small = []

        def check(what, got, want):
            if got != want:
                i = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))
                raise SystemExit(f"worker {worker}: {what}: {len(got)} bytes, expected {len(want)}; first difference at {i}")

        def length():
            return rng.randrange(1, 4096) if rng.random() < 0.8 else rng.randrange(4096, 65536)

        for r in range(rounds):
            # My region of the shared file: neighbours write the bytes right next to these.
            for _ in range(3):
                offset = rng.choice([0, region - 1, rng.randrange(region)])
                data = rng.randbytes(min(length(), region - offset))
                os.pwrite(shared, data, base + offset)
                mine[offset:offset + len(data)] = data
            # My own files: writes (past the end too), the odd truncate and reopen.
            k = rng.randrange(files)
            offset = rng.randrange(len(models[k]) + 70000)
            data = rng.randbytes(length())
            os.pwrite(fds[k], data, offset)
            if offset > len(models[k]):
                models[k].extend(bytes(offset - len(models[k])))
            models[k][offset:offset + len(data)] = data
            if rng.random() < 0.05:
                size = rng.randrange(len(models[k]) + 1)
                os.ftruncate(fds[k], size)
                del models[k][size:]
            if rng.random() < 0.05:
                os.close(fds[k]); fds[k] = os.open(paths[k], os.O_RDWR)
            # Small files in the shared directory: create, rename, sometimes delete.
            name = f"w{worker}-r{r}"
            with open(os.path.join(root, "small", name + ".tmp"), "w") as f:
                f.write(name + "\n")
            os.rename(os.path.join(root, "small", name + ".tmp"), os.path.join(root, "small", name))
            if r % 3 == 0:
                os.unlink(os.path.join(root, "small", name))
            else:
                small.append(name)
            # Read back as we go.
            if r % 10 == 9:
                check("own shared region", os.pread(shared, region, base), bytes(mine))
                check(f"private file {k}", os.pread(fds[k], len(models[k]) + 10, 0), bytes(models[k]))
            if r % 25 == 24:
                # Written back and dropped from the page cache: the next reads (mine and the
                # neighbours') come from the daemon while the others go on writing.
                os.fsync(shared); os.fsync(fds[k])
                os.posix_fadvise(shared, 0, 0, os.POSIX_FADV_DONTNEED)
                os.posix_fadvise(fds[k], 0, 0, os.POSIX_FADV_DONTNEED)

        check("own shared region at the end", os.pread(shared, region, base), bytes(mine))
        for k in range(files):
            check(f"private file {k} at the end", os.pread(fds[k], len(models[k]) + 10, 0), bytes(models[k]))
            os.close(fds[k])
            with open(os.path.join(expected, os.path.basename(paths[k])), "wb") as f:
                f.write(models[k])
        os.close(shared)
        with open(os.path.join(expected, f"shared-{worker}.bin"), "wb") as f:
            f.write(mine)
        with open(os.path.join(expected, "small.txt"), "a") as f:  # O_APPEND: one write per worker
            f.write("".join(n + "\n" for n in small))
        """#
}
