import Foundation
import Testing

/// M2–M4: object and bucket operations, listings, aws-chunked uploads, and the aws cli,
/// each script against its own daemon; afterwards the daemon must still be serving and stop
/// cleanly on SIGTERM.
@Suite(.serialized, .enabled(if: Tools.boto3Available, "python3 with boto3 and requests is needed (make setup)"))
struct S3OperationTests {
    private func runScript(_ name: String) throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.start()
        let result = try daemon.script(name)
        #expect(result.status == 0, "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.isRunning, "the daemon died: \(daemon.log)")
        #expect(daemon.stop() == 0, "SIGTERM should end the daemon cleanly: \(daemon.log)")
    }

    @Test func bucketsObjectsCopiesAndDirectories() throws { try runScript("s3_objects.py") }

    @Test func listingsInUTF8ByteOrder() throws { try runScript("s3_listing.py") }

    @Test func awsChunkedUploadsWithSignaturesAndTrailers() throws { try runScript("s3_chunked.py") }

    @Test func multipartUploads() throws { try runScript("s3_multipart.py") }

    /// 1 GiB through one PUT and one GET; the daemon's RSS may grow by at most 64 MiB.
    @Test func largeObjectStreamsInBoundedMemory() throws {
        let daemon = try S3Daemon()
        defer { daemon.remove() }
        try daemon.start()
        let result = try daemon.script("s3_large.py", environment: ["S3_DAEMON_PID": String(daemon.process!.processIdentifier)])
        #expect(result.status == 0, "\(result.output)\n--- daemon log\n\(daemon.log)")
        #expect(daemon.stop() == 0, "\(daemon.log)")
    }
}
