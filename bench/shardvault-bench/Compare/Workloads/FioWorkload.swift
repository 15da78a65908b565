import Foundation

/// fio jobs in the target directory: sequential or random writes then reads at 4 KiB and 1 MiB,
/// one job and four. Buffered (direct=0, ioengine=psync); writes end with fsync (end_fsync=1) and
/// carry crc32c verify headers that fio reads back (do_verify=1); the reads, after a cache drop,
/// check every block's header and crc again, so wrong data fails the job. Each job's figure is
/// fio's own (group_reporting): MB/s for 1 MiB blocks, IOPS for 4 KiB.
struct FioWorkload: Workload {
    enum Pattern: String { case sequential = "seq", random = "rand" }

    struct Scale: Equatable {
        var bytesPerJob: Int
        var blockSizes = [4 << 10, 1 << 20]
        var jobCounts = [1, 4]

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(bytesPerJob: 256 << 20)
            case .medium: return Scale(bytesPerJob: 64 << 20)
            case .tiny: return Scale(bytesPerJob: 4 << 20)
            }
        }
    }

    struct Job: Equatable {
        var write: Bool
        var blockBytes: Int
        var jobs: Int
        var name: String { "\(write ? "write" : "read")-\(sizeLabel(blockBytes).lowercased().replacingOccurrences(of: "ib", with: ""))-j\(jobs)" }
    }

    let pattern: Pattern
    let scale: Scale
    var name: String { "fio-" + pattern.rawValue }

    init(scale: BenchScale, pattern: Pattern) {
        self.scale = Scale.of(scale)
        self.pattern = pattern
    }

    /// Write then read for every block size and job count (the read needs the written files).
    var jobs: [Job] {
        scale.blockSizes.flatMap { block in
            scale.jobCounts.flatMap { count in [Job(write: true, blockBytes: block, jobs: count), Job(write: false, blockBytes: block, jobs: count)] }
        }
    }

    var phases: [WorkloadPhase] {
        jobs.map { job in
            let rw = (pattern == .random ? "rand" : "") + (job.write ? "write" : "read")
            let unit: PhaseUnit = job.blockBytes >= 1 << 20 ? .megabytesPerSecond : .operationsPerSecond
            let verify = job.write ? "end_fsync=1, verify=crc32c with do_verify=1 (fio reads back and checks)"
                : "after drop_caches; verify=crc32c checks every block read"
            return WorkloadPhase(name: job.name, title: "\(pattern.rawValue) \(job.write ? "write" : "read") \(sizeLabel(job.blockBytes)) ×\(job.jobs)",
                                 unit: unit,
                                 method: "fio rw=\(rw) bs=\(sizeLabel(job.blockBytes)) size=\(humanBytes(scale.bytesPerJob)) numjobs=\(job.jobs) ioengine=psync direct=0, \(verify); fio's \(unit == .megabytesPerSecond ? "bandwidth" : "IOPS")",
                                 requires: job.write ? [] : [Job(write: true, blockBytes: job.blockBytes, jobs: job.jobs).name])
        }
    }

    var summary: String { "fio \(pattern.rawValue) 4k/1m, 1 and 4 jobs, \(humanBytes(scale.bytesPerJob)) per job" }

    /// One direction of fio's JSON report (group_reporting: one job entry).
    struct Result: Equatable {
        var ioBytes: Int
        var bandwidthBytes: Double
        var iops: Double
        var runtimeMilliseconds: Int
        var operations: Int
    }

    /// Parses `fio --output-format=json` output (warnings printed before the JSON are skipped);
    /// throws unless it holds a job whose error is 0. Returns (read, write).
    static func parse(_ output: String) throws -> (read: Result, write: Result) {
        guard let start = output.firstIndex(of: "{"),
              let object = try? JSONSerialization.jsonObject(with: Data(output[start...].utf8)) as? [String: Any],
              let job = (object["jobs"] as? [[String: Any]])?.first else {
            throw BenchError.wrongResult("fio printed no JSON report: " + String(output.prefix(300)))
        }
        if let error = job["error"] as? Int, error != 0 {
            throw BenchError.wrongResult("fio job \(job["jobname"] ?? "?") ended with error \(error) (\(String(cString: strerror(Int32(error)))))")
        }
        func direction(_ key: String) throws -> Result {
            guard let stats = job[key] as? [String: Any] else { throw BenchError.wrongResult("fio report has no \(key) statistics") }
            func number(_ name: String) -> Double { (stats[name] as? NSNumber)?.doubleValue ?? 0 }
            return Result(ioBytes: Int(number("io_bytes")), bandwidthBytes: number("bw_bytes"), iops: number("iops"),
                          runtimeMilliseconds: Int(number("runtime")), operations: Int(number("total_ios")))
        }
        return (try direction("read"), try direction("write"))
    }

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        try WorkloadTool.require("fio", install: "apt install fio")
        let recorder = PhaseRecorder(phases: phases, context: context)
        let log = context.logDirectory + "/\(name).log"
        for job in jobs {
            let files = (0 ..< job.jobs).map { directory + "/fio.\($0).0" }
            let rw = (pattern == .random ? "rand" : "") + (job.write ? "write" : "read")
            var arguments = ["--output-format=json", "--name=\(name)-\(job.name)", "--directory=\(directory)", "--rw=\(rw)",
                             "--bs=\(job.blockBytes)", "--size=\(scale.bytesPerJob)", "--numjobs=\(job.jobs)",
                             "--ioengine=psync", "--direct=0", "--group_reporting", "--filename_format=fio.$jobnum.$filenum",
                             "--verify=crc32c", "--verify_state_save=0"]
            if job.write {
                sync()
                arguments += ["--end_fsync=1", "--do_verify=1"]
            } else {
                try context.willVerify(files)
                try recorder.dropCaches()
            }
            let (termination, output) = try WorkloadTool.capture("fio", arguments, in: context.logDirectory, log: log)
            guard termination.succeeded else {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                let verifyFailed = text.split(separator: "\n").contains { !$0.hasPrefix("$ ") && $0.contains("verify") }
                let what = verifyFailed ? "data read back differs from what was written (crc32c verify)" : "failed"
                throw BenchError.wrongResult("fio \(job.name) in \(directory) \(what) (\(termination)); log \(log):\n" + Command.tail(of: log))
            }
            let report = try Self.parse(output)
            let result = job.write ? report.write : report.read
            let expectedBytes = scale.bytesPerJob * job.jobs
            guard result.ioBytes == expectedBytes else {
                throw BenchError.wrongResult("fio \(job.name) moved \(result.ioBytes) bytes, expected \(expectedBytes)")
            }
            let measured = job.blockBytes >= 1 << 20 ? result.bandwidthBytes / 1e6 : result.iops
            recorder.record(job.name, seconds: Double(result.runtimeMilliseconds) / 1e3, bytes: result.ioBytes,
                            operations: result.operations, measured: measured)
            if !job.write {
                for file in files { guard unlink(file) == 0 else { throw BenchError.io("unlink \(file)", errno) } }
            }
        }
        try WorkloadFiles.removeContents(of: directory)
        return recorder.samples
    }
}
