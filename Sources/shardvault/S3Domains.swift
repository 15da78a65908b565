import Foundation
import S3Server

/// The base domains of virtual-host-style S3 requests (`Host: BUCKET.DOMAIN`, docs/S3.md
/// "Addressing"), as MinIO's MINIO_DOMAIN: `serve --s3-domain D[,D…]` (repeatable),
/// `mount -o s3_domain=D` (repeatable), else `$SHARDVAULT_S3_DOMAIN` (comma-separated).
/// None: path style only.
enum S3Domains {
    static let environmentVariable = "SHARDVAULT_S3_DOMAIN"

    /// `given` as the command line had them (each may hold a comma-separated list), else the
    /// environment's; `option` names the command-line spelling for messages.
    static func addressing(given: [String], option: String,
                           environment: [String: String] = ProcessInfo.processInfo.environment) throws(CLIFailure) -> BucketAddressing {
        let source = given.isEmpty ? environment[environmentVariable].flatMap { $0.isEmpty ? nil : [$0] } ?? [] : given
        let domains = source.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { String($0.trimmingCharacters(in: .whitespaces)) }
        do {
            return try BucketAddressing(domains: domains)
        } catch {
            throw CLIFailure.usage("\(given.isEmpty ? "$" + environmentVariable : option): \(error)")
        }
    }
}
