// Mallocs and latency per operation through a real FUSE mount (docs/BENCHMARKS.md, "FUSE
// fast paths"). The vault is mounted inside this process, so the malloc interposer counts
// what the daemon side does for each system call the benchmark makes (the calls themselves
// allocate nothing: fstat, fstatat, getdents64, pread, pwrite on prepared buffers).
//
// Attribute and entry timeouts are 0, so every stat reaches the daemon; reads and writes use
// O_DIRECT, so each 1 MiB call is one FUSE request of 1 MiB instead of page-cache traffic,
// and the vault keeps no decrypted chunks, so each read decrypts 32 chunks.
// Switch fast paths off with SHARDVAULT_FUSE_DISABLE=inline|arena|pools|all (FastPaths.swift),
// and FUSE over io_uring with SHARDVAULT_FUSE_RINGS=off (the mount's noio_uring), and compare
// runs.

import Benchmark
import CLinuxShims
import Foundation
import FuseDriver
import Glibc
import Vault
import VaultCrypto

/// A 4+2 vault mounted in-process on a temporary directory, with one directory of 100 files
/// and a 16 MiB file; unmounted and removed at teardown.
final class MountedVaultFixture: @unchecked Sendable {
    static let shared = try! MountedVaultFixture()
    static let password = Array("fuse-mallocs".utf8)
    static let mebibyte = 1 << 20
    static let fileSize = 16 * mebibyte
    static let directWrite: Int32 = 0o40000  // O_DIRECT on x86_64 and arm64 Linux

    let root: String
    let mountpoint: String
    let vault: Vault
    let fastPaths: FastPaths
    private let server: Thread
    let directory: Int32
    let statTarget: Int32
    let reader: Int32
    let writer: Int32
    let names: [UnsafeMutablePointer<CChar>]
    let ioBuffer: UnsafeMutableRawBufferPointer
    let direntBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/fuse-mallocs.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        let root = String(cString: made)
        let mountpoint = root + "/mnt"
        self.root = root
        self.mountpoint = mountpoint
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: false)
        let paths = (0 ..< 6).map { "\(root)/volume\($0)" }
        try Vault.create(volumePaths: paths, dataShards: 4, parityShards: 2,
                         password: SecureBytes(copying: Self.password), strength: .test)
        let fastPaths = try FastPaths(environment: ProcessInfo.processInfo.environment)
        self.fastPaths = fastPaths
        var vaultOptions = Vault.Options()
        vaultOptions.pool.healsInBackground = false
        vaultOptions.pooledChunkBuffers = fastPaths.bufferPools
        // No decrypted-chunk cache: every read authenticates and decrypts its chunks, which is
        // the path the chunk pool serves (the volumes' files stay in the page cache).
        vaultOptions.cacheBytes = 0
        let vault = try Vault(volumePaths: paths, password: SecureBytes(copying: Self.password), options: vaultOptions)
        var mountOptions = MountOptions()
        mountOptions.attributeTimeout = 0
        mountOptions.entryTimeout = 0
        mountOptions.usesIOUring = ProcessInfo.processInfo.environment["SHARDVAULT_FUSE_RINGS"] != "off"
        let mount = FuseMount(vault: vault, mountpoint: mountpoint, options: mountOptions, fastPaths: fastPaths)
        let server = Thread { try? mount.serve() }
        server.start()
        let deadline = Date().addingTimeInterval(20)
        while !Unmounter.isMounted(mountpoint) {
            guard Date() < deadline else { throw POSIXError(.ETIMEDOUT) }
            usleep(10_000)
        }
        FileHandle.standardError.write(Data("FuseMallocs: \(fastPaths), io_uring \(mountOptions.usesIOUring ? "on" : "off")\n".utf8))

        let photos = mountpoint + "/photos"
        try FileManager.default.createDirectory(atPath: photos, withIntermediateDirectories: false)
        let plainNames = (0 ..< 100).map { "holiday-photo-\(1000 + $0).jpeg" }
        for name in plainNames {
            guard FileManager.default.createFile(atPath: photos + "/" + name, contents: Data(count: 100)) else {
                throw POSIXError(.EIO)
            }
        }
        let movie = mountpoint + "/movie.bin"
        let writer = open(movie, O_RDWR | O_CREAT | Self.directWrite, 0o644)
        let ioBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.mebibyte, alignment: 4096)
        memset(ioBuffer.baseAddress!, 0x5a, ioBuffer.count)
        for offset in stride(from: 0, to: Self.fileSize, by: Self.mebibyte) {
            guard pwrite(writer, ioBuffer.baseAddress, ioBuffer.count, off_t(offset)) == ioBuffer.count else { throw POSIXError(.EIO) }
        }
        fsync(writer)
        self.vault = vault
        self.server = server
        self.ioBuffer = ioBuffer
        self.writer = writer
        names = plainNames.map { strdup($0)! }
        directory = open(photos, O_RDONLY | O_DIRECTORY)
        statTarget = open(photos + "/" + plainNames[42], O_RDONLY)
        reader = open(movie, O_RDONLY | Self.directWrite)
        guard directory >= 0, statTarget >= 0, writer >= 0, reader >= 0 else { throw POSIXError(.EIO) }
    }

    func removeAll() {
        for descriptor in [directory, statTarget, reader, writer] { close(descriptor) }
        if !Unmounter.unmount(mountpoint, lazy: false) { Unmounter.unmount(mountpoint, lazy: true) }
        let deadline = Date().addingTimeInterval(20)
        while !server.isFinished && Date() < deadline { usleep(10_000) }
        try? vault.close()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A rotating 1 MiB-aligned offset inside the 16 MiB file.
    func offset(_ iteration: Int) -> off_t {
        off_t((iteration * Self.mebibyte) % Self.fileSize)
    }
}

let benchmarks: @Sendable () -> Void = {
    let metadata = Benchmark.Configuration(
        metrics: [.mallocCountTotal, .wallClock],
        warmupIterations: 200,
        maxDuration: .seconds(5),
        maxIterations: 20_000)
    let data = Benchmark.Configuration(
        metrics: [.mallocCountTotal, .wallClock, .throughput],
        warmupIterations: 16,
        maxDuration: .seconds(5),
        maxIterations: 2_000)
    Benchmark.teardown = { MountedVaultFixture.shared.removeAll() }

    Benchmark("fuse.getattr (fstat)", configuration: metadata) { benchmark in
        let fixture = MountedVaultFixture.shared
        var status = stat()
        benchmark.startMeasurement()
        let result = fstat(fixture.statTarget, &status)
        benchmark.stopMeasurement()
        precondition(result == 0 && status.st_size == 100)
    }

    Benchmark("fuse.lookup+getattr (fstatat)", configuration: metadata) { benchmark in
        let fixture = MountedVaultFixture.shared
        var status = stat()
        let name = fixture.names[42]
        benchmark.startMeasurement()
        let result = fstatat(fixture.directory, name, &status, 0)
        benchmark.stopMeasurement()
        precondition(result == 0)
    }

    Benchmark("fuse.readdir 100 entries (getdents64)", configuration: metadata) { benchmark in
        let fixture = MountedVaultFixture.shared
        var total = 0
        benchmark.startMeasurement()
        lseek(fixture.directory, 0, SEEK_SET)
        while true {
            let count = shardvault_getdents64(fixture.directory, fixture.direntBuffer.baseAddress, fixture.direntBuffer.count)
            if count <= 0 { break }
            total += count
        }
        benchmark.stopMeasurement()
        precondition(total > 100 * 24)
    }

    Benchmark("fuse.read 1 MiB (O_DIRECT)", configuration: data) { benchmark in
        let fixture = MountedVaultFixture.shared
        for iteration in benchmark.scaledIterations {
            let count = pread(fixture.reader, fixture.ioBuffer.baseAddress, fixture.ioBuffer.count, fixture.offset(iteration))
            precondition(count == fixture.ioBuffer.count)
        }
    }

    Benchmark("fuse.write 1 MiB (O_DIRECT)", configuration: data) { benchmark in
        let fixture = MountedVaultFixture.shared
        for iteration in benchmark.scaledIterations {
            let count = pwrite(fixture.writer, fixture.ioBuffer.baseAddress, fixture.ioBuffer.count, fixture.offset(iteration))
            precondition(count == fixture.ioBuffer.count)
        }
    }
}
