import Foundation
import Testing

/// Command-line S3 clients against a real daemon: the aws cli (mb, cp, sync both ways, ls,
/// mv, s3api, presign, rm, rb; also at 500 files and 200 MiB), rclone (copy and MD5-verified
/// check both ways), s3cmd, and an s3fs-fuse mount.
@Suite(.serialized)
struct S3AwsCliTests {
    static let awsAvailable = available("aws")
    static let rcloneAndS3cmdAvailable = available("rclone") && available("s3cmd")
    static let s3fsAvailable = available("s3fs")

    static func available(_ tool: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool, "--version"]
        process.standardOutput = Foundation.FileHandle.nullDevice
        process.standardError = Foundation.FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    @Test(.enabled(if: S3AwsCliTests.awsAvailable))
    func awsCliSmokeTest() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.start()
        let result = try daemon.script("s3_awscli.sh")
        #expect(result.status == 0, "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }

    /// 500 files through `s3 sync`, 200 MiB through a multipart `s3 cp` and `s3 mv`, a
    /// presigned GET with curl, `s3 rm --recursive` — against a `mount -o s3=` daemon, each
    /// result also checked through its FUSE mount.
    @Test(.enabled(if: S3AwsCliTests.awsAvailable && Tools.fuseAvailable && S3AwsCliTests.available("curl")))
    func awsCliAtScaleThroughBothDoors() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.startMounted()
        let result = try daemon.script("s3_awscli_scale.sh")
        #expect(result.status == 0, "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }

    /// An s3fs-fuse mount of the endpoint used for an untar of 240 files; the tree is then
    /// checked through s3fs and through the daemon's own mount.
    @Test(.enabled(if: S3AwsCliTests.s3fsAvailable && Tools.fuseAvailable && Tools.boto3Available))
    func s3fsMountOfTheEndpointUntarsATree() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        // The script unmounts s3fs itself; this covers a script killed by its deadline.
        defer { _ = try? S3Daemon.runTool("/usr/bin/fusermount3", ["-u", "-z", daemon.root + "/s3fs/mnt"]) }
        try daemon.startMounted()
        let result = try daemon.script("s3fs_untar.sh")
        #expect(result.status == 0, "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }

    @Test(.enabled(if: S3AwsCliTests.rcloneAndS3cmdAvailable))
    func rcloneAndS3cmd() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.start()
        let result = try daemon.script("s3_tools.sh")
        #expect(result.status == 0, "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }
}
