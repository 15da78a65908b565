import Foundation

/// Several workloads run one after the other on the same target instance, each in its own empty
/// subdirectory: what `--suite` and `--workload` measure. The suite's phases are its members'
/// phases qualified by the member's name ("ide.edit"), so results are named
/// `<workload>.<phase>.<target>` whichever suite they were measured in, and runs can be diffed.
struct WorkloadSuite: Workload {
    /// The suite as asked for: "canonical", "workloads", "ide,tree", "all".
    let name: String
    let members: [Workload]

    var phases: [WorkloadPhase] {
        members.flatMap { member in
            member.phases.map { phase in
                var qualified = phase
                qualified.name = member.name + "." + phase.name
                // Titles carry the workload's name only where several share a table.
                if members.count > 1 { qualified.title = member.name + ": " + phase.title }
                qualified.requires = phase.requires.map { member.name + "." + $0 }
                return qualified
            }
        }
    }

    var summary: String { members.map { "\($0.name): \($0.summary)" }.joined(separator: "; ") }

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        var samples: [PhaseSample] = []
        var failures: [WorkloadFailures.Failure] = []
        for member in members {
            let place = directory + "/" + member.name
            guard mkdir(place, 0o755) == 0 else { throw BenchError.io("mkdir \(place)", errno) }
            var memberContext = context
            memberContext.progress = { phase, sample in
                var qualified = phase
                qualified.name = member.name + "." + phase.name
                var renamed = sample
                renamed.phase = qualified.name
                context.progress(qualified, renamed)
            }
            do {
                for var sample in try member.run(in: place, context: memberContext) {
                    sample.phase = member.name + "." + sample.phase
                    samples.append(sample)
                }
            } catch {
                // One workload's wrong result costs that workload's numbers, not the others'.
                failures.append(.init(workload: member.name, reason: "\(error)"))
                if members.count == 1 { throw error }
                print("\n  FAILED \(member.name): \(error)", terminator: "")
            }
            // Untimed: whatever a member left behind must not slow the next one down.
            sync()
            try? FileManager.default.removeItem(atPath: place)
        }
        guard failures.isEmpty else { throw WorkloadFailures(samples: samples, failures: failures) }
        return samples
    }
}

/// Some workloads of a suite failed on a target: the samples of those that passed still count
/// (`CompareRunner` keeps them), the failed ones' phases have none in this run.
struct WorkloadFailures: Error, CustomStringConvertible {
    struct Failure: Codable {
        var workload: String
        var reason: String
    }

    var samples: [PhaseSample]
    var failures: [Failure]

    var description: String { failures.map { "\($0.workload): \($0.reason)" }.joined(separator: "; ") }
}

/// The workloads `--workload` and `--suite` can name, each made at a scale. Canonical is made by
/// `CompareCommand` (it needs the kernel subset and `--phases`); every other workload is listed
/// here with its suite.
enum WorkloadCatalog {
    typealias Maker = @Sendable (BenchScale) throws -> Workload

    /// The "workloads" suite, in run order (modelled on the oxbench realistic suite).
    static let realistic: [(name: String, make: Maker)] = [
        ("ide", { IdeWorkload(scale: $0) }),
        ("working-set", { WorkingSetWorkload(scale: $0) }),
        ("tree", { TreeWorkload(scale: $0) }),
        ("concurrent", { ConcurrentWorkload(scale: $0) }),
        ("backup", { BackupWorkload(scale: $0) }),
        ("coldstart", { ColdStartWorkload(scale: $0) }),
        ("media", { MediaWorkload(scale: $0) }),
        ("photo", { PhotoWorkload(scale: $0) }),
        ("database", { DatabaseWorkload(scale: $0) }),
        ("git", { GitWorkload(scale: $0) }),
        ("archive", { ArchiveWorkload(scale: $0) }),
    ]

    /// The "fio" suite.
    static let fio: [(name: String, make: Maker)] = [
        ("fio-seq", { FioWorkload(scale: $0, pattern: .sequential) }),
        ("fio-rand", { FioWorkload(scale: $0, pattern: .random) }),
    ]

    static let suites = ["canonical", "workloads", "fio", "s3", "micro", "all"]

    /// Every workload name `--workload` accepts.
    static var workloadNames: [String] { ["canonical"] + (realistic + fio).map(\.name) }

    static func make(_ name: String, scale: BenchScale) throws -> Workload {
        guard let entry = (realistic + fio).first(where: { $0.name == name }) else {
            throw BenchError.setup("unknown workload \(name) (workloads: \(workloadNames.joined(separator: ", ")))")
        }
        return try entry.make(scale)
    }
}
