import Foundation

/// An application database: Python's sqlite3 in WAL mode (synchronous=FULL, sqlite's default:
/// every commit fsyncs the WAL) builds an orders/customers schema, then runs point lookups,
/// joins, range scans, and inserts and updates in transactions of 100. Each phase is timed inside
/// Python (`time.perf_counter` around the statements only) and reported as JSON on stdout. Rows
/// follow formulas, so the bench computes every expected sum itself; a second Python run (after
/// `willVerify` and a cache drop) checks `PRAGMA integrity_check`, the file's SHA-256 against the
/// one taken when the first run closed the database, and counts, sums and a digest of every row.
struct DatabaseWorkload: Workload {
    struct Scale: Equatable {
        var rows: Int
        var lookups: Int
        var joins: Int
        var ranges: Int
        var inserts: Int
        var updates: Int

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(rows: 50_000, lookups: 20_000, joins: 2000, ranges: 500, inserts: 10_000, updates: 10_000)
            case .medium: return Scale(rows: 20_000, lookups: 5000, joins: 1000, ranges: 200, inserts: 2000, updates: 2000)
            case .tiny: return Scale(rows: 1000, lookups: 1000, joins: 200, ranges: 50, inserts: 500, updates: 500)
            }
        }

        var customers: Int { max(10, rows / 10) }
        static let rangeWidth = 500
    }

    let name = "database"
    let scale: Scale

    init(scale: BenchScale) { self.scale = Scale.of(scale) }

    var phases: [WorkloadPhase] {
        [
            WorkloadPhase(name: "build", title: "build \(countLabel(scale.rows)) rows", unit: .operationsPerSecond,
                          method: "create tables, insert \(scale.customers) customers and \(scale.rows) orders in one transaction, create 2 indexes, commit (rows/s)"),
            WorkloadPhase(name: "lookup", title: "point lookups", unit: .operationsPerSecond,
                          method: "\(scale.lookups) SELECT by primary key; sum of amounts compared", requires: ["build"]),
            WorkloadPhase(name: "join", title: "joins", unit: .operationsPerSecond,
                          method: "\(scale.joins) orders⋈customers aggregates for one customer each; counts and sums compared", requires: ["build"]),
            WorkloadPhase(name: "range", title: "range scans", unit: .operationsPerSecond,
                          method: "\(scale.ranges) COUNT/SUM over \(Scale.rangeWidth) consecutive dates (index range); compared", requires: ["build"]),
            WorkloadPhase(name: "insert", title: "inserts", unit: .operationsPerSecond,
                          method: "\(scale.inserts) INSERTs in transactions of 100 (each commit fsyncs the WAL)", requires: ["build"]),
            WorkloadPhase(name: "update", title: "updates", unit: .operationsPerSecond,
                          method: "\(scale.updates) UPDATEs by key in transactions of 100; then checkpoint(TRUNCATE), close. Verified after: integrity_check, file SHA-256, counts, sums, digest of every row",
                          requires: ["insert"]),
        ]
    }

    var summary: String { "sqlite3 WAL, \(scale.rows) orders, \(scale.customers) customers" }

    // Row formulas, shared with the script (keep both in step).
    private static func customer(_ id: Int, customers: Int) -> Int { (id * 7) % customers + 1 }
    private static func amount(_ id: Int) -> Int { (id * 7919) % 10007 }
    private static func note(_ id: Int) -> String { String(repeating: String(format: "note %08d ", id), count: 4) }
    private func lookupId(_ k: Int) -> Int { (k * 104_729) % scale.rows + 1 }
    private func joinCustomer(_ k: Int) -> Int { (k * 31) % scale.customers + 1 }
    private func rangeStart(_ k: Int) -> Int { (k * 7727) % max(1, scale.rows - Scale.rangeWidth) + 1 }
    private func updateId(_ k: Int) -> Int { (k * 15_485_863) % (scale.rows + scale.inserts) + 1 }

    /// What the script must report, computed here from the formulas.
    private func expectations() -> [String: Int] {
        let all = scale.rows + scale.inserts
        var amounts = [0] + (1 ... all).map(Self.amount)
        var perCustomer = [Int](repeating: 0, count: scale.customers + 1)
        var ordersOf = [Int](repeating: 0, count: scale.customers + 1)
        for id in 1 ... scale.rows {
            perCustomer[Self.customer(id, customers: scale.customers)] += amounts[id]
            ordersOf[Self.customer(id, customers: scale.customers)] += 1
        }
        var prefix = [0]
        for id in 1 ... scale.rows { prefix.append(prefix.last! + amounts[id]) }
        var result: [String: Int] = [:]
        result["lookup"] = (0 ..< scale.lookups).reduce(0) { $0 + amounts[lookupId($1)] }
        result["join"] = (0 ..< scale.joins).reduce(0) { $0 + perCustomer[joinCustomer($1)] + ordersOf[joinCustomer($1)] }
        result["range"] = (0 ..< scale.ranges).reduce(0) {
            let start = rangeStart($1)
            let end = min(scale.rows, start + Scale.rangeWidth - 1)
            return $0 + (prefix[end] - prefix[start - 1]) + (end - start + 1)
        }
        for k in 0 ..< scale.updates { amounts[updateId(k)] += 1 }
        result["orders"] = all
        result["customers"] = scale.customers
        result["amount_sum"] = amounts.reduce(0, +)
        return result
    }

    /// SHA-256 (hex) of every order row as the verify script serializes it, in id order.
    private func rowDigest() -> String {
        let all = scale.rows + scale.inserts
        var amounts = [0] + (1 ... all).map(Self.amount)
        for k in 0 ..< scale.updates { amounts[updateId(k)] += 1 }
        let hasher = Sha256()
        for id in 1 ... all {
            hasher.update(Array("\(id)|\(Self.customer(id, customers: scale.customers))|\(amounts[id])|\(id)|\(Self.note(id))\n".utf8))
        }
        return Sha256.hex(hasher.finish())
    }

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        try WorkloadTool.require("python3", install: "apt install python3")
        let recorder = PhaseRecorder(phases: phases, context: context)
        let script = context.logDirectory + "/" + DatabaseScript.fileName
        try WorkloadFiles.write(script, Array(DatabaseScript.source.utf8))
        let log = context.logDirectory + "/database.log"
        let database = directory + "/bench.db"
        let parameters = [scale.rows, scale.customers, scale.lookups, scale.joins, scale.ranges, Scale.rangeWidth,
                          scale.inserts, scale.updates].map(String.init)

        let run = try python(script, ["run", database] + parameters, log: log)
        let expected = expectations()
        guard let timings = run["phases"] as? [[String: Any]], let results = run["results"] as? [String: Int],
              let fileDigest = run["file_sha256"] as? String else {
            throw BenchError.wrongResult("database script reported no phases/results: \(run)")
        }
        for key in ["lookup", "join", "range"] where results[key] != expected[key] {
            throw BenchError.wrongResult("\(database): \(key) queries returned checksum \(results[key].map(String.init) ?? "none"), expected \(expected[key]!)")
        }
        try context.willVerify([database])
        try recorder.dropCaches()
        let check = try python(script, ["verify", database], log: log)
        guard check["integrity"] as? String == "ok" else {
            throw BenchError.wrongResult("\(database): PRAGMA integrity_check says \(check["integrity"] ?? "nothing")")
        }
        guard check["file_sha256"] as? String == fileDigest else {
            throw BenchError.wrongResult("\(database): SHA-256 of the file read back (\(check["file_sha256"] ?? "?")) differs from when it was closed (\(fileDigest))")
        }
        for key in ["orders", "customers", "amount_sum"] where check[key] as? Int != expected[key] {
            throw BenchError.wrongResult("\(database): \(key) is \(check[key] ?? "missing"), expected \(expected[key]!)")
        }
        let digest = rowDigest()
        guard check["rows_sha256"] as? String == digest else {
            throw BenchError.wrongResult("\(database): the orders rows differ from what was written (row digest \(check["rows_sha256"] ?? "?"), expected \(digest))")
        }
        for timing in timings {
            guard let phase = timing["name"] as? String, let seconds = timing["seconds"] as? Double,
                  let operations = timing["operations"] as? Int else { continue }
            recorder.record(phase, seconds: seconds, operations: operations)
        }
        let missing = Set(phases.map(\.name)).subtracting(recorder.samples.map(\.phase))
        guard missing.isEmpty else { throw BenchError.wrongResult("database script did not time \(missing.sorted())") }

        try WorkloadFiles.removeContents(of: directory)
        return recorder.samples
    }

    /// Runs the script; its stdout is one JSON object (an "error" key means it failed).
    private func python(_ script: String, _ arguments: [String], log: String) throws -> [String: Any] {
        let (termination, output) = try WorkloadTool.capture("python3", [script] + arguments, in: "/", log: log)
        let object = (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any]
        if let error = object?["error"] as? String { throw BenchError.wrongResult("database script: \(error)") }
        guard termination.succeeded, let object else {
            throw BenchError.wrongResult("python3 \(arguments.first ?? "") failed (\(termination)); log \(log):\n" + Command.tail(of: log))
        }
        return object
    }
}
