import Foundation
import SeededRandom

/// A developer's git session on a source tree: init, add and commit it; rounds of edits
/// (modify, create, delete) each followed by status, add and commit; then status of the clean
/// tree, log, diff of the whole session and fsck.
struct GitWorkload: Workload {
    struct Scale: Equatable {
        var directories: Int
        var filesPerDirectory: Int
        /// Approximate size of a source file.
        var fileBytes: Int
        var rounds: Int
        var modifiedPerRound: Int
        var createdPerRound: Int
        var deletedPerRound: Int
        var statusRuns: Int

        static func of(_ scale: BenchScale) -> Scale {
            switch scale {
            case .full: return Scale(directories: 50, filesPerDirectory: 40, fileBytes: 6000, rounds: 10,
                                     modifiedPerRound: 20, createdPerRound: 5, deletedPerRound: 2, statusRuns: 10)
            case .medium: return Scale(directories: 20, filesPerDirectory: 25, fileBytes: 6000, rounds: 5,
                                       modifiedPerRound: 10, createdPerRound: 3, deletedPerRound: 1, statusRuns: 5)
            case .tiny: return Scale(directories: 4, filesPerDirectory: 8, fileBytes: 2000, rounds: 2,
                                     modifiedPerRound: 3, createdPerRound: 1, deletedPerRound: 1, statusRuns: 3)
            }
        }

        var files: Int { directories * filesPerDirectory }
    }

    let name = "git"
    let scale: Scale
    static let seed: UInt64 = 0x4749_5457_4C

    init(scale: BenchScale) { self.scale = Scale.of(scale) }

    var phases: [WorkloadPhase] {
        [
            WorkloadPhase(name: "commit", title: "init+add+commit", unit: .seconds,
                          method: "git init, add -A and commit of \(scale.files) source files (written untimed); status --porcelain must be empty"),
            WorkloadPhase(name: "edit", title: "\(scale.rounds) edit rounds", unit: .seconds,
                          method: "per round: modify \(scale.modifiedPerRound), create \(scale.createdPerRound), delete \(scale.deletedPerRound) files, status --porcelain (must list each), add -A, commit (status must be empty after)",
                          requires: ["commit"]),
            WorkloadPhase(name: "status", title: "git status", unit: .milliseconds,
                          method: "median of \(scale.statusRuns) status --porcelain on the clean tree (each must be empty)", requires: ["edit"]),
            WorkloadPhase(name: "log", title: "git log --stat", unit: .seconds,
                          method: "log --stat --format=commit:%H; must show \(scale.rounds + 1) commits", requires: ["edit"]),
            WorkloadPhase(name: "diff", title: "git diff", unit: .seconds,
                          method: "diff --numstat of the first commit against HEAD; must list exactly the paths the rounds touched", requires: ["edit"]),
            WorkloadPhase(name: "fsck", title: "git fsck", unit: .seconds,
                          method: "git fsck --full must exit 0; then every working file's SHA-256 compared with what was written", requires: ["edit"]),
        ]
    }

    var summary: String {
        "\(scale.files) source files (~\(humanBytes(scale.fileBytes))), \(scale.rounds) rounds of \(scale.modifiedPerRound)/\(scale.createdPerRound)/\(scale.deletedPerRound) modified/created/deleted"
    }

    private func original(_ index: Int) -> String {
        String(format: "src/m%02d/file%03d.swift", index / scale.filesPerDirectory, index % scale.filesPerDirectory)
    }

    func run(in directory: String, context: WorkloadContext) throws -> [PhaseSample] {
        try WorkloadTool.require("git", install: "apt install git")
        let recorder = PhaseRecorder(phases: phases, context: context)
        let log = context.logDirectory + "/git.log"
        let environment = ["GIT_CONFIG_NOSYSTEM": "1", "HOME": context.logDirectory, "LC_ALL": "C",
                           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"]
        let config = ["-c", "user.name=shardvault-bench", "-c", "user.email=bench@shardvault.invalid", "-c", "gc.auto=0",
                      "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false"]
        func git(_ arguments: [String]) throws {
            try WorkloadTool.run("git", config + arguments, in: directory, environment: environment, log: log)
        }
        func gitOutput(_ arguments: [String]) throws -> String {
            let (termination, text) = try WorkloadTool.capture("git", config + arguments, in: directory, environment: environment, log: log)
            guard termination.succeeded else {
                throw BenchError.wrongResult("git \(arguments.first ?? "") failed (\(termination)); log \(log):\n" + Command.tail(of: log))
            }
            return text
        }
        func porcelain(_ what: String, expect count: Int) throws -> Double {
            let status = try timed { try gitOutput(["status", "--porcelain"]) }
            let lines = status.result.split(separator: "\n")
            guard lines.count == count else {
                throw BenchError.wrongResult("git status --porcelain \(what) listed \(lines.count) paths, expected \(count): \(lines.prefix(5))")
            }
            return status.seconds
        }

        var digests: [String: [UInt8]] = [:]
        func put(_ path: String, _ content: [UInt8]) throws {
            try WorkloadFiles.write(directory + "/" + path, content)
            digests[path] = Sha256.hash(content)
        }
        try SystemIO.makeDirectory(directory + "/src")
        for dir in 0 ..< scale.directories { try SystemIO.makeDirectory(directory + String(format: "/src/m%02d", dir)) }
        for index in 0 ..< scale.files {
            try put(original(index), WorkloadFiles.sourceText(bytes: scale.fileBytes, seed: Self.seed &+ UInt64(index)))
        }
        sync()

        let commit = try timed {
            try git(["init", "-q"])
            try git(["add", "-A"])
            try git(["commit", "-q", "-m", "initial import"])
        }
        _ = try porcelain("after the first commit", expect: 0)
        recorder.record("commit", seconds: commit.seconds, operations: scale.files)

        // Rounds: modify and delete original files only (never the same file deleted twice, never a
        // deleted file modified), create new ones, so the session's diff is predictable.
        var random = SplitMix64(seed: Self.seed)
        var candidates = Array(0 ..< scale.files)
        candidates.shuffle(using: &random)
        var deleted: [String] = []
        var created: [String] = []
        var touched = Set<String>()
        var editSeconds = 0.0
        for round in 1 ... scale.rounds {
            let deleting = (0 ..< scale.deletedPerRound).map { _ in original(candidates.removeLast()) }
            let modifying = (0 ..< scale.modifiedPerRound).map { _ in original(candidates[Int(random.next() % UInt64(candidates.count))]) }
            let uniqueModified = Array(Set(modifying)).sorted()
            var newFiles: [(String, [UInt8])] = []
            for number in 0 ..< scale.createdPerRound {
                let path = String(format: "src/m%02d/new_r%02d_%02d.swift", number % scale.directories, round, number)
                newFiles.append((path, WorkloadFiles.sourceText(bytes: scale.fileBytes, seed: Self.seed ^ UInt64(round << 8 | number))))
            }
            var edits: [(String, [UInt8])] = []
            for path in uniqueModified {
                edits.append((path, try WorkloadFiles.read(directory + "/" + path) + Array("// edited in round \(round)\n".utf8)))
            }
            let roundTime = try timed {
                for (path, content) in edits { try put(path, content) }
                for (path, content) in newFiles { try put(path, content) }
                for path in deleting {
                    guard unlink(directory + "/" + path) == 0 else { throw BenchError.io("unlink \(path)", errno) }
                    digests[path] = nil
                }
                let changes = try porcelain("in round \(round)", expect: uniqueModified.count + newFiles.count + deleting.count)
                try git(["add", "-A"])
                try git(["commit", "-q", "-m", "round \(round)"])
                _ = changes
            }
            editSeconds += roundTime.seconds
            _ = try porcelain("after committing round \(round)", expect: 0)
            deleted += deleting
            created += newFiles.map(\.0)
            touched.formUnion(uniqueModified)
        }
        recorder.record("edit", seconds: editSeconds,
                        operations: scale.rounds * (scale.modifiedPerRound + scale.createdPerRound + scale.deletedPerRound))

        var statusTimes: [Double] = []
        for _ in 0 ..< scale.statusRuns { statusTimes.append(try porcelain("of the clean tree", expect: 0)) }
        recorder.record("status", seconds: statusTimes.reduce(0, +), operations: scale.statusRuns, measured: medianOf(statusTimes) * 1e3)

        let history = try timed { try gitOutput(["log", "--stat", "--format=commit:%H"]) }
        let commits = history.result.split(separator: "\n").filter { $0.hasPrefix("commit:") }.count
        guard commits == scale.rounds + 1 else {
            throw BenchError.wrongResult("git log shows \(commits) commits; \(scale.rounds + 1) were made")
        }
        recorder.record("log", seconds: history.seconds, operations: commits)

        let diff = try timed { try gitOutput(["diff", "--numstat", "HEAD~\(scale.rounds)", "HEAD"]) }
        let diffPaths = Set(diff.result.split(separator: "\n").compactMap { $0.split(separator: "\t").last.map(String.init) })
        let expectedPaths = touched.union(created).union(deleted)
        guard diffPaths == expectedPaths else {
            throw BenchError.wrongResult("git diff --numstat lists \(diffPaths.count) paths, the rounds touched \(expectedPaths.count); "
                                         + "missing \(expectedPaths.subtracting(diffPaths).sorted().prefix(5)), extra \(diffPaths.subtracting(expectedPaths).sorted().prefix(5))")
        }
        recorder.record("diff", seconds: diff.seconds, operations: diffPaths.count)

        let fsck = try timed { try git(["fsck", "--full", "--no-progress"]) }
        let working = digests.keys.sorted()
        try context.willVerify(working.map { directory + "/" + $0 })
        for path in working { try WorkloadFiles.checkDigest(directory + "/" + path, digests[path]!, what: "git working tree") }
        _ = try porcelain("at the end", expect: 0)
        recorder.record("fsck", seconds: fsck.seconds, operations: working.count)

        try WorkloadFiles.removeContents(of: directory)
        return recorder.samples
    }
}
