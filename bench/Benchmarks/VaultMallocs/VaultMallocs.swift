// Mallocs per call of the Vault's metadata hot paths in steady state (docs/BENCHMARKS.md,
// goal: 0 per lookup): `lookup` of an existing name, `attributes` (getattr) of an existing
// inode, and for comparison a `readdir` page and a `lookup` of a missing name.
//
// One call per iteration, so mallocCountTotal is mallocs per call. The vault is built once
// (4+2, KDF test, in a temporary directory) and every benchmark warms up on the running thread
// before measuring, so lazily created per-thread state (cipher contexts, arenas) is not counted.

import Benchmark
import Foundation
import Vault
import VaultCrypto

/// A 4+2 vault with one directory of 100 files, built once, removed at teardown.
final class VaultFixture: @unchecked Sendable {
    static let shared = try! VaultFixture()
    static let password = Array("vault-mallocs".utf8)

    let root: String
    let vault: Vault
    let directory: InodeNumber
    let names: [String]
    let inodes: [InodeNumber]

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/vault-mallocs.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        let base = String(cString: made)
        root = base
        let paths = (0 ..< 6).map { "\(base)/volume\($0)" }
        try Vault.create(volumePaths: paths, dataShards: 4, parityShards: 2,
                         password: SecureBytes(copying: Self.password), strength: .test)
        var options = Vault.Options()
        options.pool.healsInBackground = false
        let vault = try Vault(volumePaths: paths, password: SecureBytes(copying: Self.password), options: options)
        let directory = try vault.mkdir(Namespace.rootInode, "photos", permissions: 0o755, uid: 0, gid: 0).0
        let names = (0 ..< 100).map { "holiday-photo-\(1000 + $0).jpeg" }
        inodes = try names.map { try vault.mknod(directory, $0, kind: .regular, permissions: 0o644, uid: 0, gid: 0).0 }
        try vault.sync()
        self.vault = vault
        self.directory = directory
        self.names = names
    }

    func removeAll() {
        try? vault.close()
        try? FileManager.default.removeItem(atPath: root)
    }
}

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.mallocCountTotal, .wallClock],
        warmupIterations: 100,
        maxDuration: .seconds(5),
        maxIterations: 10_000)
    Benchmark.teardown = { VaultFixture.shared.removeAll() }

    Benchmark("vault.lookup existing name", configuration: configuration) { benchmark in
        let fixture = VaultFixture.shared
        let name = fixture.names[42]
        benchmark.startMeasurement()
        let (inode, attributes) = try fixture.vault.lookup(fixture.directory, name)
        benchmark.stopMeasurement()
        precondition(inode == fixture.inodes[42])
        blackHole(attributes)
    }

    Benchmark("vault.attributes existing inode", configuration: configuration) { benchmark in
        let fixture = VaultFixture.shared
        let inode = fixture.inodes[42]
        benchmark.startMeasurement()
        let attributes = try fixture.vault.attributes(inode)
        benchmark.stopMeasurement()
        blackHole(attributes)
    }

    Benchmark("vault.lookup missing name", configuration: configuration) { benchmark in
        let fixture = VaultFixture.shared
        benchmark.startMeasurement()
        let found = try? fixture.vault.lookup(fixture.directory, "not-there.jpeg")
        benchmark.stopMeasurement()
        precondition(found == nil)
    }

    Benchmark("vault.readdir 100 entries", configuration: configuration) { benchmark in
        let fixture = VaultFixture.shared
        benchmark.startMeasurement()
        let entries = try fixture.vault.readdir(fixture.directory, after: 0)
        benchmark.stopMeasurement()
        precondition(entries.count == 100)
        blackHole(entries)
    }
}
