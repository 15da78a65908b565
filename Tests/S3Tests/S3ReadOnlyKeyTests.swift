import Foundation
import Testing

/// Read-only key pairs (`s3-keys add-readonly`) against a real daemon: they read and list,
/// every change they sign is AccessDenied and leaves the vault as it was (s3_readonly_keys.py),
/// and a removed pair stops working.
@Suite(.serialized, .enabled(if: Tools.boto3Available, "python3 with boto3 and requests is needed (make setup)"))
struct S3ReadOnlyKeyTests {
    /// The read-only pair `s3-keys add-readonly` printed.
    static func addReadOnly(_ daemon: S3Daemon) throws -> (access: String, secret: String) {
        let added = try S3Daemon.run(["s3-keys", "add-readonly", "--password-file", daemon.passwordFile] + daemon.volumes)
        guard added.status == 0 else { throw HarnessError("s3-keys add-readonly failed: \(added.output)") }
        let lines = added.output.split(separator: "\n")
        guard let access = lines.first(where: { $0.hasPrefix("read-only access key: ") })?.dropFirst("read-only access key: ".count),
              let secret = lines.first(where: { $0.hasPrefix("read-only secret key: ") })?.dropFirst("read-only secret key: ".count) else {
            throw HarnessError("no read-only pair in: \(added.output)")
        }
        return (String(access), String(secret))
    }

    /// The daemon serves the environment's read-write pair and the vault's read-only one.
    @Test func readOnlyPairReadsAndIsDeniedEveryChange() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        let readOnly = try Self.addReadOnly(daemon)
        try daemon.start()
        let result = try daemon.script("s3_readonly_keys.py",
                                       environment: ["S3_RO_ACCESS_KEY": readOnly.access, "S3_RO_SECRET_KEY": readOnly.secret])
        #expect(result.status == 0 && result.output.contains("7 passed, 0 failed"), "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.isRunning, "the daemon died: \(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }

    /// With the vault's own keys: both kinds work until the read-only pair is removed.
    @Test func removedReadOnlyPairStopsWorking() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        let readOnly = try Self.addReadOnly(daemon)
        let asReadOnly = ["S3_ACCESS_KEY": readOnly.access, "S3_SECRET_KEY": readOnly.secret]
        try daemon.start(useStoredKeys: true)
        #expect(try daemon.script("s3_ping.py").status == 0, "\(daemon.log)")
        let listed = try daemon.script("s3_ping.py", environment: asReadOnly)
        #expect(listed.status == 0, "the read-only pair lists buckets: \(listed.output)")
        daemon.stop()

        let removed = try S3Daemon.run(["s3-keys", "remove-readonly", readOnly.access, "--password-file", daemon.passwordFile] + daemon.volumes)
        #expect(removed.status == 0, "\(removed.output)")
        try daemon.start(useStoredKeys: true)
        #expect(try daemon.script("s3_ping.py").status == 0, "\(daemon.log)")
        let refused = try daemon.script("s3_ping.py", environment: asReadOnly)
        #expect(refused.status == 1 && refused.output.contains("InvalidAccessKeyId"), "\(refused.output)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }

    /// `mount -o s3=`: the mount daemon's S3 door serves the read-only pairs too.
    @Test(.enabled(if: Tools.fuseAvailable))
    func mountDaemonServesReadOnlyPairs() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        let readOnly = try Self.addReadOnly(daemon)
        try daemon.startMounted()
        let result = try daemon.script("s3_readonly_keys.py",
                                       environment: ["S3_RO_ACCESS_KEY": readOnly.access, "S3_RO_SECRET_KEY": readOnly.secret])
        #expect(result.status == 0 && result.output.contains("7 passed, 0 failed"), "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }
}
