import Foundation

/// The measurements of `s3`: the same driver commands against every running target, iteration
/// by iteration, the targets' order rotating so none always goes first on a loaded machine.
final class S3Workload {
    private let settings: S3Settings
    private let driver: S3Driver
    private let reporter: BenchReporter<S3Report>
    /// S3 targets still being measured (a failing one is dropped with a note).
    private var active: [S3RunningServer]
    private let nginx: S3RunningServer?
    private(set) var failures: [S3TargetKind: String] = [:]

    private struct Taken {
        var sample: Sample
        var cpuSeconds: Double
    }
    private var taken: [String: [Taken]] = [:]
    /// Operation keys ("put.1MiB") in the order first measured, for the table's row order.
    private var operations: [String] = []
    private var units: [String: String] = [:]
    /// Peak RSS growth of ShardVault's daemon during a PUT or GET sample, by operation key
    /// ("put.1GiB"), the largest over the iterations; objects from `watchedObjectBytes` on.
    private var residentGrowth: [String: Int] = [:]
    private static let watchedObjectBytes = 64 << 20

    init(settings: S3Settings, driver: S3Driver, reporter: BenchReporter<S3Report>, servers: [S3RunningServer]) {
        self.settings = settings
        self.driver = driver
        self.reporter = reporter
        active = servers.filter { $0.endpoint != nil }
        nginx = servers.first { $0.kind == .nginx }
    }

    func run() throws {
        for server in active {
            guard let endpoint = server.endpoint else { continue }
            var setup = S3DriverCommand("setup", target: server.kind)
            setup.endpoint = endpoint.url
            setup.accessKey = endpoint.accessKey
            setup.secretKey = endpoint.secretKey
            setup.bucket = endpoint.bucket
            try attempt(server.kind, "setup") { try driver.send(setup) }
        }
        try prepareStaticFiles()
        for server in active {
            // The listed keys are written once, untimed, with the most clients.
            try attempt(server.kind, "LIST setup") {
                try driver.send(command("put", server.kind, prefix: "list", size: 0, count: settings.listKeys,
                                        clients: settings.opsClients.max() ?? 1))
            }
        }
        for iteration in 0 ..< settings.samples {
            print("iteration \(iteration + 1)/\(settings.samples)")
            for size in settings.sizes {
                let count = settings.objectsPerSample(size: size)
                for server in rotated(iteration) {
                    let prefix = "object-\(humanBytes(size))/\(iteration)"
                    for operation in ["put", "get"] {
                        let watch = server.kind == .shardvault && size >= Self.watchedObjectBytes
                            ? ResidentMemoryWatch(pid: server.process.pid) : nil
                        try measure(server.kind, S3ResultName.throughput(server.kind, operation, size), unit: "MB/s",
                                    command("\(operation)", server.kind, prefix: prefix, size: size, count: count, clients: 1))
                        if let growth = watch?.stop() {
                            let key = "\(operation).\(humanBytes(size))"
                            residentGrowth[key] = max(residentGrowth[key] ?? 0, growth)
                        }
                    }
                    try attempt(server.kind, "delete") { try driver.send(command("delete", server.kind, prefix: prefix)) }
                }
                try measureNginx(S3ResultName.throughput(.nginx, "get", size), unit: "MB/s",
                                 prefix: "object-\(humanBytes(size))", size: size, count: count, clients: 1)
            }
            let size = settings.opsObjectBytes
            for clients in settings.opsClients {
                for server in rotated(iteration) {
                    let prefix = "ops-c\(clients)/\(iteration)"
                    for operation in ["put", "get", "head"] {
                        try measure(server.kind, S3ResultName.rate(server.kind, operation, size, clients: clients),
                                    unit: "ops/s",
                                    command(operation, server.kind, prefix: prefix, size: size,
                                            count: settings.opsPerSample, clients: clients))
                    }
                    try attempt(server.kind, "delete") { try driver.send(command("delete", server.kind, prefix: prefix)) }
                }
                try measureNginx(S3ResultName.rate(.nginx, "get", size, clients: clients), unit: "ops/s",
                                 prefix: "ops", size: size, count: settings.opsPerSample, clients: clients)
            }
            for server in rotated(iteration) {
                var list = command("list", server.kind, prefix: "list", count: settings.listKeys)
                list.repeatCount = settings.listsPerSample
                try measure(server.kind, S3ResultName.list(server.kind, keys: settings.listKeys), unit: "lists/s", list)
            }
        }
        addMeasurements()
        noteResidentGrowth()
    }

    private func noteResidentGrowth() {
        guard failures[.shardvault] == nil, !residentGrowth.isEmpty else { return }
        let rows = residentGrowth.sorted { $0.key < $1.key }
            .map { "\($0.key) \(($0.value + (1 << 20) - 1) >> 20) MiB" }
        reporter.note("ShardVault daemon's peak RSS growth during each PUT and GET sample (largest over "
                      + "\(settings.samples) iteration(s); the first GETs include the chunk cache filling up to its "
                      + "bound; issue 5's bound: 64 MiB for a 5 GiB PUT or GET): " + rows.joined(separator: ", "))
    }

    /// The same bodies the S3 targets get, as files for nginx (object `i` of a size is file `i`).
    private func prepareStaticFiles() throws {
        guard let nginx, let documentRoot = nginx.documentRoot else { return }
        var files: [(prefix: String, size: Int, count: Int)] = settings.sizes.map {
            ("object-\(humanBytes($0))", $0, settings.objectsPerSample(size: $0))
        }
        files.append(("ops", settings.opsObjectBytes, settings.opsPerSample))
        for (prefix, size, count) in files {
            var write = S3DriverCommand("write_files")
            write.directory = documentRoot
            write.prefix = prefix
            write.size = size
            write.count = count
            try driver.send(write)
        }
    }

    private func rotated(_ iteration: Int) -> [S3RunningServer] {
        guard !active.isEmpty else { return [] }
        let shift = iteration % active.count
        return Array(active[shift...] + active[..<shift])
    }

    private func command(_ name: String, _ target: S3TargetKind, prefix: String, size: Int? = nil, count: Int? = nil,
                         clients: Int? = nil) -> S3DriverCommand {
        var command = S3DriverCommand(name, target: target)
        command.prefix = prefix
        command.size = size
        command.count = count
        command.clients = clients
        return command
    }

    private func measure(_ target: S3TargetKind, _ name: String, unit: String, _ command: S3DriverCommand) throws {
        guard active.contains(where: { $0.kind == target }) else { return }
        startClean()
        try attempt(target, name) {
            let (sample, cpu) = try driver.send(command).timing(name)
            record(name, unit: unit, Taken(sample: sample, cpuSeconds: cpu))
        }
    }

    private func measureNginx(_ name: String, unit: String, prefix: String, size: Int, count: Int, clients: Int) throws {
        guard let nginx, failures[.nginx] == nil else { return }
        startClean()
        var get = S3DriverCommand("http_get")
        get.host = "127.0.0.1"
        get.port = nginx.port
        get.prefix = prefix
        get.size = size
        get.count = count
        get.clients = clients
        do {
            let (sample, cpu) = try driver.send(get).timing(name)
            record(name, unit: unit, Taken(sample: sample, cpuSeconds: cpu))
        } catch let failure as S3DriverFailure {
            failures[.nginx] = "\(name): \(failure)"
            reporter.note("nginx dropped: \(name) failed: \(failure)\n\(nginx.process.logTail())")
        }
    }

    /// Writes back every dirty page of the host, untimed, before a sample: the JuiceFS gateway
    /// acknowledges PUTs without flushing, and a target measured after it found its writes
    /// still dirty, so the first flush it made for its own durability paid for them.
    private func startClean() {
        sync()
    }

    private func record(_ name: String, unit: String, _ value: Taken) {
        let operation = S3ResultName.operation(of: name)
        if !operations.contains(operation) { operations.append(operation) }
        units[name] = unit
        taken[name, default: []].append(value)
        let rate = unit == "MB/s" ? value.sample.megabytesPerSecond : value.sample.operationsPerSecond
        print("  " + name.rightPadded(34) + String(format: "%10.1f ", rate) + unit.rightPadded(8)
              + String(format: "(%d ops, %.2f s, client CPU %.0f%%)", value.sample.operations, value.sample.seconds,
                       100 * value.cpuSeconds / value.sample.seconds))
        fflush(nil)
    }

    /// Runs one step for `target`; a driver failure (an error, or bytes read back that differ
    /// from those written) drops the target with a note. A dead driver still throws.
    private func attempt(_ target: S3TargetKind, _ what: String, _ body: () throws -> Void) throws {
        guard active.contains(where: { $0.kind == target }) else { return }
        do {
            try body()
        } catch let failure as S3DriverFailure {
            let server = active.first { $0.kind == target }
            failures[target] = "\(what): \(failure)"
            active.removeAll { $0.kind == target }
            let alive = server.map { $0.process.isRunning ? "server running" : "server exited" } ?? ""
            reporter.note("\(target.rawValue) dropped: \(what) failed: \(failure) (\(alive))\n"
                          + (server?.process.logTail() ?? ""))
        }
    }

    /// Adds complete measurements to the report: per operation, targets in a fixed order.
    private func addMeasurements() {
        print("")
        for operation in operations {
            for target in S3TargetKind.allCases {
                let name = "\(target.rawValue).\(operation)"
                guard failures[target] == nil, let values = taken[name], values.count == settings.samples else { continue }
                let share = Measurement.median(values.map { $0.cpuSeconds / $0.sample.seconds })
                let note = String(format: "client CPU %.0f%% of wall time (median)", share * 100)
                let unit = units[name] ?? "MB/s"
                let samples = values.map(\.sample)
                reporter.add(unit == "MB/s" ? Measurement(name: name, samples: samples, note: note)
                                            : Measurement(name: name, rateOf: samples, unit: unit, note: note))
            }
        }
    }
}
