import ArgumentParser
import Foundation

struct S3Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3",
        abstract: "S3 throughput and request rates: ShardVault's S3 door vs a JuiceFS S3 gateway, with nginx as a GET ceiling.",
        discussion: """
            Starts each target in a fresh directory under --dir: ShardVault (a 4+2 vault over 6 \
            directories, init --kdf test, serve --s3 127.0.0.1:0), a JuiceFS gateway (file storage, \
            SQLite metadata) and nginx serving the same bodies as static files. One Python driver \
            (boto3; http.client for nginx) sends every target the same requests: PUT/GET of each size \
            from one client, PUT/GET/HEAD of 4 KiB objects from 1 and 16 clients, and LIST of 1000 keys. \
            Every body read back is checked against the SHA-256 of the body written. A target whose \
            tool is missing is skipped with the reason; servers are stopped by PID at the end, on an \
            error and on Ctrl-C.
            """)

    @OptionGroup var common: BenchRunOptions

    @Option(name: .long, help: ArgumentHelp("Object sizes for PUT/GET throughput (default 4KiB,1MiB,64MiB,1GiB; quick 4KiB,1MiB,16MiB).",
                                            valueName: "size,size,…"))
    var sizes: String?

    @Option(name: .long, parsing: .upToNextOption, help: "Targets to measure (default: all three).")
    var targets: [S3TargetKind] = S3TargetKind.allCases

    @Option(name: .long, help: ArgumentHelp("Requests per PUT/GET/HEAD rate sample (default 400; quick 64).", valueName: "n"))
    var ops: Int?

    @Option(name: .long, help: ArgumentHelp("Also write the comparison tables as Markdown to this file.", valueName: "file"))
    var markdown: String?

    @Option(name: .long, help: ArgumentHelp("The shardvault binary (default: next to this executable, then PATH).", valueName: "path"))
    var shardvault: String?

    @Option(name: .long, help: ArgumentHelp("Python with boto3 for the driver.", valueName: "path"))
    var python = "python3"

    func validate() throws {
        if let sizes { _ = try S3Settings.parseSizes(sizes) }
        if let ops, ops < 1 { throw ValidationError("--ops must be at least 1") }
        if targets.isEmpty { throw ValidationError("--targets needs at least one target") }
    }

    func run() throws {
        var settings = common.quick ? S3Settings.quickRun : S3Settings.full
        if let samples = common.samples { settings.samples = samples }
        if let sizes { settings.sizes = try S3Settings.parseSizes(sizes) }
        if let ops { settings.opsPerSample = ops }

        S3Teardown.shared.installSignalHandlers()
        let measured = try common.withScratchRoot(prefix: "shardvault-bench-s3") { root in
            S3Teardown.shared.removeOnSignal(common.keep ? nil : root)
            defer {
                S3Teardown.shared.finish()
                S3Teardown.shared.removeOnSignal(nil)
            }
            return try measure(settings: settings, root: root)
        }
        if !measured { throw ExitCode(1) }
    }

    /// The shardvault executable: --shardvault, else the one built next to this bench, else PATH.
    private func shardvaultBinary() -> String? {
        if let shardvault { return S3Tools.find(shardvault) }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let sibling = me.deletingLastPathComponent().appendingPathComponent("shardvault").path
        return FileManager.default.isExecutableFile(atPath: sibling) ? sibling : S3Tools.find("shardvault")
    }

    /// Returns false when a target failed (the report is still written).
    private func measure(settings: S3Settings, root: String) throws -> Bool {
        let started = monotonicNanoseconds()
        let host = HostInfo.probe(directory: root)
        let commandLine = (["shardvault-bench"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let configuration = S3Report.Configuration(
            settings: settings,
            objectsPerSample: Dictionary(settings.sizes.map { (humanBytes($0), settings.objectsPerSample(size: $0)) }) { $1 },
            command: commandLine,
            client: "one Python process: boto3 (path-style, UNSIGNED-PAYLOAD, no checksums, thread pool; GET bodies ≥ 1 MiB read in 8 MiB pieces into memory made before timing) for S3; http.client for nginx",
            clientVersions: [:])
        let reporter = BenchReporter(report: S3Report(startedAt: ISO8601DateFormatter().string(from: Date()), host: host,
                                                      configuration: configuration),
                                     rateLabel: "ops/s")

        print("shardvault-bench \(BenchVersion.string) s3\(settings.quick ? " --quick" : "")")
        print("host: \(host.hostname), \(host.cores) cores, \(host.memoryBytes >> 20) MiB, kernel \(host.kernel), "
              + "\(host.cpuModel ?? "unknown CPU"); load \(host.loadAverageAtStart ?? "?")")
        print("scratch: \(host.filesystem) at \(root); sizes \(settings.sizes.map(humanBytes).joined(separator: ", ")); "
              + "\(settings.samples) iterations")

        let binary = shardvaultBinary()
        var servers: [S3RunningServer] = []
        for kind in S3TargetKind.allCases where targets.contains(kind) {
            if let reason = S3Servers.unavailableReason(kind, shardvaultBinary: binary) {
                print("skip \(kind.rawValue): \(reason)")
                reporter.report.targets.append(.init(name: kind, status: "skipped: " + reason))
                continue
            }
            do {
                let server = try S3Servers.start(kind, root: root + "/" + kind.rawValue, shardvaultBinary: binary)
                print("\(kind.rawValue): \(server.description), pid \(server.process.pid), port \(server.port)")
                servers.append(server)
            } catch {
                print("skip \(kind.rawValue): it did not start: \(error)")
                reporter.report.targets.append(.init(name: kind, status: "failed to start: \(error)"))
            }
        }
        print("")
        if servers.isEmpty {
            // Nothing to start the driver for; the reports still record why.
            print("nothing to measure: every target was skipped")
            try common.writeJSON(of: reporter)
            return true
        }

        let driver = try S3Driver(python: python, directory: root)
        defer { driver.close() }
        reporter.report.configuration.clientVersions = try driver.send(S3DriverCommand("hello")).versions ?? [:]
        let workload = S3Workload(settings: settings, driver: driver, reporter: reporter, servers: servers)
        try workload.run()

        for server in servers {
            let failure = workload.failures[server.kind]
            reporter.report.targets.append(.init(name: server.kind, status: failure.map { "failed: " + $0 } ?? "measured",
                                                 description: server.description))
        }
        reporter.addS3Ratios(goal: 1.5)
        reporter.printS3Ratios()

        reporter.report.host.loadAverageAtEnd = HostInfo.loadAverage()
        reporter.report.durationSeconds = Double(monotonicNanoseconds() - started) / 1e9
        print("")
        print(String(format: "finished in %.1f s", reporter.report.durationSeconds)
              + "; load average \(reporter.report.host.loadAverageAtEnd ?? "?")")
        try common.writeJSON(of: reporter)
        if let markdown {
            try S3Markdown.render(reporter.report).write(toFile: markdown, atomically: true, encoding: .utf8)
            print("wrote \(markdown)")
        }
        return workload.failures.isEmpty
    }
}
