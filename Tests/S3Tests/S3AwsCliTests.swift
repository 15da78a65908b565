import Foundation
import Testing

/// The aws cli against a real daemon: mb, cp, sync both ways, ls, mv, s3api, rm, rb.
@Suite(.serialized)
struct S3AwsCliTests {
    static let awsAvailable: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["aws", "--version"]
        process.standardOutput = Foundation.FileHandle.nullDevice
        process.standardError = Foundation.FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    @Test(.enabled(if: S3AwsCliTests.awsAvailable))
    func awsCliSmokeTest() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.start()
        let result = try daemon.script("s3_awscli.sh")
        #expect(result.status == 0, "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }
}
