import Foundation
import Testing

/// Virtual-host-style addressing (`Host: BUCKET.DOMAIN`) against real daemons: boto3 in
/// virtual style (a presigned GET and PUT included) mixed with path style on one daemon, the
/// domain from `--s3-domain`, `$SHARDVAULT_S3_DOMAIN` and `mount -o s3_domain=`, and no
/// domain meaning path style only (s3_virtual_host.py; names resolve through a resolver in
/// the script, since glibc does not resolve "bucket.localhost").
@Suite(.serialized, .enabled(if: Tools.boto3Available, "python3 with boto3 and requests is needed (make setup)"))
struct S3VirtualHostTests {
    static let domains = "localhost,s3.example.test,example.test"

    @Test func virtualHostAndPathStyleOnOneDaemon() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.start(extraArguments: ["--s3-domain", "localhost", "--s3-domain", "S3.Example.Test,example.test."],
                         environment: ["SHARDVAULT_S3_DOMAIN": "ignored.test"])
        let result = try daemon.script("s3_virtual_host.py", environment: ["S3_DOMAINS": Self.domains])
        #expect(result.status == 0, "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(result.output.contains("6 passed, 0 failed"), "\(result.output)")
        #expect(daemon.isRunning, "the daemon died: \(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }

    /// The environment names the domains when no option does; without either a bucket-looking
    /// host changes nothing.
    @Test func domainFromTheEnvironmentAndNoDomainMeansPathStyle() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.start(environment: ["SHARDVAULT_S3_DOMAIN": Self.domains])
        let quick = try daemon.script("s3_virtual_host.py", environment: ["S3_DOMAINS": Self.domains, "S3_VHOST_QUICK": "1"])
        #expect(quick.status == 0 && quick.output.contains("1 passed, 0 failed"), "\(quick.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")

        try daemon.start(environment: ["SHARDVAULT_S3_DOMAIN": ""])
        let none = try daemon.script("s3_virtual_host.py", environment: ["S3_DOMAINS": ""])
        #expect(none.status == 0 && none.output.contains("1 passed, 0 failed"), "\(none.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }

    @Test func unusableDomainsAreRefusedBeforeServing() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        let serve = ["serve", "--s3", "127.0.0.1:0", "--password-file", daemon.passwordFile]
        for bad in ["127.0.0.1", "localhost:9000", "http://localhost", "bad_domain", "-x.test", "a..b"] {
            let refused = try S3Daemon.run(serve + ["--s3-domain=\(bad)"] + daemon.volumes)
            #expect(refused.status == 64, "\(bad): \(refused.output)")
            #expect(refused.output.contains("--s3-domain") && refused.output.contains("not a usable S3 domain"), "\(refused.output)")
        }
        let fromEnvironment = try S3Daemon.runTool(Binary.path, serve + daemon.volumes,
                                                   environment: ProcessInfo.processInfo.environment.merging(
                                                       ["SHARDVAULT_S3_DOMAIN": "localhost,10.0.0.1"]) { _, new in new })
        #expect(fromEnvironment.status == 64 && fromEnvironment.output.contains("$SHARDVAULT_S3_DOMAIN"), "\(fromEnvironment.output)")
    }

    /// `mount -o s3=…,s3_domain=…`: the mount daemon's S3 door routes virtual hosts too.
    @Test(.enabled(if: Tools.fuseAvailable))
    func mountOptionSetsTheDomain() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.startMounted(options: ["s3_domain=localhost", "s3_domain=s3.example.test"])
        let result = try daemon.script("s3_virtual_host.py", environment: ["S3_DOMAINS": "localhost,s3.example.test", "S3_VHOST_QUICK": "1"])
        #expect(result.status == 0 && result.output.contains("1 passed, 0 failed"), "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(FileManager.default.fileExists(atPath: daemon.mountpoint + "/vhost-bucket/dir/sub/nested.txt"),
                "what virtual-host requests wrote shows through the mount")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }
}
