import Foundation
import Glibc
import Testing

/// The fsx-style exerciser (RandomIOExerciser) against a real mount, with remounts in the
/// middle and at the end so what the daemon stored, not only what it cached, is checked.
///
/// A fresh seed each run (printed, and named in every failure); replay one with
/// `SHARDVAULT_FSX_SEED=N`. `SHARDVAULT_FSX_OPERATIONS` changes the length of the run.
@Suite(.serialized)
struct RandomIOTests {
    static let environment = ProcessInfo.processInfo.environment
    static let seed: UInt64 = environment["SHARDVAULT_FSX_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0 ... .max)
    static let operations = environment["SHARDVAULT_FSX_OPERATIONS"].flatMap { Int($0) } ?? 50_000
    /// Remount after this many operations, and at the end.
    static let remountEvery = 25_000

    @Test func randomIOMatchesTheReferenceAcrossRemounts() throws {
        let vault = try MountedVault(inMemory: true)
        defer { vault.stop() }
        print("fsx: seed \(Self.seed), \(Self.operations) operations (replay: SHARDVAULT_FSX_SEED=\(Self.seed))")
        let exerciser = try RandomIOExerciser(path: vault.path("fsx-file"), seed: Self.seed)
        defer { exerciser.closeFile() }
        let started = Date()
        do {
            while exerciser.operationNumber < Self.operations {
                try exerciser.run(min(Self.remountEvery, Self.operations - exerciser.operationNumber))
                try exerciser.verifyWholeFile("whole file before remount")
                exerciser.closeFile()
                let status = vault.unmountBySignal()
                try #require(status == 0, "seed \(Self.seed): daemon exit status \(String(describing: status)); log: \(vault.log())")
                try vault.mount()
                try exerciser.reopenFile()
                try exerciser.verifyWholeFile("whole file after remount")
            }
        } catch let failure as RandomIOExerciser.Failure {
            Issue.record("\(failure)\ndaemon log: \(vault.log().suffix(2000))")
            return
        }
        let coverage = exerciser.coverage
        print("fsx: \(exerciser.operationNumber) operations in \(Int(Date().timeIntervalSince(started))) s; "
            + RandomIOExerciser.Kind.allCases.map { "\($0.rawValue) \(coverage.counts[$0, default: 0]) (\(String(format: "%.1f", coverage.seconds[$0, default: 0])) s)" }.joined(separator: ", ")
            + "; holes \(coverage.holesCreated), inline crossings \(coverage.inlineCrossings), "
            + "writes across blocks \(coverage.writesAcrossBlocks), operations above one block \(coverage.operationsAboveOneBlock)")
        // A run that never crossed the thresholds would prove little; with 50,000 operations
        // every seed crosses each of them many times.
        if Self.operations >= 50_000 {
            #expect(coverage.holesCreated > 100, "seed \(Self.seed)")
            #expect(coverage.inlineCrossings > 100, "seed \(Self.seed)")
            #expect(coverage.writesAcrossBlocks > 5, "seed \(Self.seed)")
            #expect(coverage.operationsAboveOneBlock > 500, "seed \(Self.seed)")
            #expect(RandomIOExerciser.Kind.allCases.allSatisfy { coverage.counts[$0, default: 0] > 50 }, "seed \(Self.seed)")
        }
    }
}
