import Foundation
import Testing

/// `make demo`'s script end to end (scripts/demo.sh with the built binary): every step checks
/// itself, and the last one leaves a vault mounted and served over S3, which this test checks
/// through both doors and then stops.
@Suite struct DemoScriptTests {
    @Test func theDemoRunsAndLeavesOneDaemonServingBothDoors() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let demo = scratch.path("demo")
        let mountpoint = demo + "/live/mnt"
        defer { Self.stop(mountpoint) }

        let script = Self.packageRoot.appendingPathComponent("scripts/demo.sh").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, CLI.binary]
        process.environment = ProcessInfo.processInfo.environment.merging(["SHARDVAULT_DEMO_DIR": demo]) { $1 }
        let result = try CLI.capture(process, arguments: [script], in: scratch)
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.out.contains("Demo complete."))

        // Left running: the mount works, and the endpoint the script printed answers.
        #expect(Self.isMounted(mountpoint))
        #expect(FileManager.default.contents(atPath: mountpoint + "/photos/from-s3.bin")?.count == 8 << 20)
        let marker = try #require(result.out.range(of: "served over S3 at "), "no endpoint printed")
        let endpoint = result.out[marker.upperBound...].prefix { $0 != " " && $0 != "\n" }
        let url = try #require(URL(string: String(endpoint)))
        let (status, _) = try Self.httpStatus(url)
        #expect(status == 403, "an unsigned request to the live endpoint should be refused with AccessDenied")

        let unmounted = try CLI.run(["unmount", mountpoint], in: scratch)
        #expect(unmounted.status == 0, "\(unmounted.transcript)")
        #expect(!Self.isMounted(mountpoint))
    }

    private static let packageRoot: URL = {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while root.path != "/" && !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        return root
    }()

    private static func isMounted(_ mountpoint: String) -> Bool {
        ((try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? "").contains(" \(mountpoint) fuse")
    }

    /// Unmounts (lazily if it must) and ends the daemon serving `mountpoint`, whatever the
    /// test left behind.
    private static func stop(_ mountpoint: String) {
        guard isMounted(mountpoint) else { return }
        for arguments in [["-u", mountpoint], ["-u", "-z", mountpoint]] where isMounted(mountpoint) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/fusermount3")
            process.arguments = arguments
            try? process.run()
            process.waitUntilExit()
        }
    }

    /// The status of a plain, unsigned GET of `url`/photos/ (python3's urllib: no client
    /// library beyond what `make test` installs).
    private static func httpStatus(_ url: URL) throws -> (Int, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import sys, urllib.request, urllib.error
            try:
                print(urllib.request.urlopen(sys.argv[1], timeout=10).status)
            except urllib.error.HTTPError as error:
                print(error.code)
            """, url.absoluteString + "/photos/"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1, output)
    }
}
