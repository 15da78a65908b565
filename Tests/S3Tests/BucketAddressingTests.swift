import Testing
@testable import S3Server

/// Where the bucket comes from: the path, or the Host header under a configured base domain
/// (BucketAddressing, the one place requests are resolved).
@Suite struct BucketAddressingTests {
    static let addressing = try! BucketAddressing(domains: ["localhost", "S3.Example.Test.", "example.test", "localhost"])

    private func resolve(_ host: String, _ path: String, _ addressing: BucketAddressing = addressing) -> String {
        let (bucket, key, virtual) = addressing.resolve(host: host, path: path)
        return "\(virtual ? "vhost" : "path") \(bucket)|\(key ?? "-")"
    }

    @Test func domainsAreNormalisedLongestFirst() {
        #expect(Self.addressing.domains == ["s3.example.test", "example.test", "localhost"])
        #expect(Self.addressing.allowsVirtualHosts && !BucketAddressing.pathStyleOnly.allowsVirtualHosts)
    }

    @Test func hostsUnderADomainNameTheBucket() {
        #expect(resolve("bucket.localhost:9000", "/a/b/c.txt") == "vhost bucket|a/b/c.txt")
        #expect(resolve("bucket.localhost", "/") == "vhost bucket|-")
        #expect(resolve("Bucket.LOCALHOST.:9000", "/dir/") == "vhost bucket|dir/")
        #expect(resolve("my.dotted.bucket.localhost:80", "/k") == "vhost my.dotted.bucket|k")
        // The longest domain wins: "s3" is part of the domain, not of the bucket.
        #expect(resolve("b.s3.example.test:9000", "/k") == "vhost b|k")
        #expect(resolve("s3.example.test:9000", "/b/k") == "path b|k", "a configured domain itself is path style")
        #expect(resolve("b.example.test", "/k") == "vhost b|k")
        // The path is the key as it stands, a leading "/bucket" included.
        #expect(resolve("b.localhost", "/b/k") == "vhost b|b/k")
    }

    @Test func bareDomainsIPsAndOtherHostsArePathStyle() {
        for host in ["localhost:9000", "LOCALHOST", "localhost.", "example.test", "s3.example.test", "127.0.0.1:9000",
                     "10.1.2.3", "[::1]:9000", "[fe80::1]", "bucket.elsewhere.test:9000", "notlocalhost:9000", ""] {
            #expect(resolve(host, "/bucket/key/x") == "path bucket|key/x", "\(host)")
            #expect(resolve(host, "/bucket") == "path bucket|-", "\(host)")
            #expect(resolve(host, "/") == "path |-", "\(host)")
        }
        #expect(resolve("bucket.localhost:9000", "/b/k", .pathStyleOnly) == "path b|k")
    }

    @Test func unusableDomainsAreRefused() {
        for bad in ["", ".", "127.0.0.1", "10.0.0.1.", "localhost:9000", "http://localhost", "a..b", "-a.test", "a-.test",
                    "under_score.test", "sp ace.test", "x.123", String(repeating: "a", count: 64) + ".test"] {
            #expect(throws: BucketAddressingError.self, "\(bad)") { try BucketAddressing(domains: [bad]) }
        }
        #expect(throws: Never.self) { try BucketAddressing(domains: ["a-b.c0.test", "123.example", "x"]) }
    }
}
