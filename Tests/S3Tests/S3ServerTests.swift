import Foundation
import Testing

/// M1: the `serve` command, credentials kept in the vault, SigV4 (header, payload hashes,
/// skew, presigned URLs) and error documents, against a real daemon on loopback.
@Suite(.serialized, .enabled(if: Tools.boto3Available, "python3 with boto3 and requests is needed (make setup)"))
struct S3ServerTests {
    @Test func signatureV4AuthenticationAndErrors() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.start()
        let result = try daemon.script("s3_auth.py")
        #expect(result.status == 0, "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.isRunning, "the daemon died: \(daemon.log)")
        #expect(daemon.stop() == 0, "SIGTERM should end the daemon cleanly: \(daemon.log)")
    }

    @Test func storedKeysServeAndRotateReplacesThem() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        let first = try S3Daemon.run(["s3-keys", "show", "--password-file", daemon.passwordFile] + daemon.volumes)
        let again = try S3Daemon.run(["s3-keys", "show", "--password-file", daemon.passwordFile] + daemon.volumes)
        #expect(first.status == 0 && again.status == 0, "\(first.output)\n\(again.output)")
        let keys = try S3Daemon.parseKeys(first.output)
        #expect(try S3Daemon.parseKeys(again.output) == keys, "show must not change the keys")
        #expect(keys.0.count == 20 && keys.1.count == 40)

        try daemon.start(useStoredKeys: true)
        #expect(try daemon.script("s3_ping.py").status == 0, "\(daemon.log)")
        daemon.stop()

        let rotated = try S3Daemon.run(["s3-keys", "rotate", "--password-file", daemon.passwordFile] + daemon.volumes)
        #expect(rotated.status == 0, "\(rotated.output)")
        let newKeys = try S3Daemon.parseKeys(rotated.output)
        #expect(newKeys != keys)
        try daemon.start(useStoredKeys: true)
        #expect(daemon.accessKey == newKeys.0)
        #expect(try daemon.script("s3_ping.py").status == 0)
        let old = try daemon.script("s3_ping.py", environment: ["S3_ACCESS_KEY": keys.0, "S3_SECRET_KEY": keys.1])
        #expect(old.status == 1 && old.output.contains("InvalidAccessKeyId"), "\(old.output)")

        // fsck must count the credential objects as metadata, not remove them as orphans.
        daemon.stop()
        let fsck = try S3Daemon.run(["fsck", "--repair", "--password-file", daemon.passwordFile] + daemon.volumes)
        #expect(fsck.status == 0, "\(fsck.output)")
        let after = try S3Daemon.run(["s3-keys", "show", "--password-file", daemon.passwordFile] + daemon.volumes)
        #expect(try S3Daemon.parseKeys(after.output) == newKeys)
    }

    @Test func listeningBeyondLoopbackNeedsAllowRemote() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        let refused = try S3Daemon.run(["serve", "--s3", "0.0.0.0:0", "--password-file", daemon.passwordFile] + daemon.volumes)
        #expect(refused.status == 64, "\(refused.output)")
        #expect(refused.output.contains("--allow-remote"))
        let malformed = try S3Daemon.run(["serve", "--s3", "127.0.0.1", "--password-file", daemon.passwordFile] + daemon.volumes)
        #expect(malformed.status == 64, "\(malformed.output)")
    }
}
