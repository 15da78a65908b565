import Foundation
import Testing

/// Command-line S3 clients against a real daemon: the aws cli (mb, cp, sync both ways, ls,
/// mv, s3api, rm, rb), rclone (copy and MD5-verified check both ways) and s3cmd.
@Suite(.serialized)
struct S3AwsCliTests {
    static let awsAvailable = available("aws")
    static let rcloneAndS3cmdAvailable = available("rclone") && available("s3cmd")

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
