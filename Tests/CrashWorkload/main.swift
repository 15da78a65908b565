// The child process of the crash test (Tests/VaultTests/CrashTests.swift): opens a vault,
// churns its namespace, and writes files it then fsyncs. After each fsync returns it appends
// "ACK <name> <size> <seed>" to the log and fsyncs the log, so the parent knows exactly what
// must survive the SIGKILL it sends at a random moment. Acknowledged files are never touched
// again; everything else happens in "scratch/".
import Foundation
import Vault
import VaultCrypto
import SeededRandom

let arguments = CommandLine.arguments
guard arguments.count == 5, let seed = UInt64(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: crash-workload VOLUMES(colon-separated) LOG SEED PASSWORD\n".utf8))
    exit(64)
}
let volumes = arguments[1].split(separator: ":").map(String.init)
let log = open(arguments[2], O_WRONLY | O_APPEND | O_CREAT, 0o644)
var random = SplitMix64(seed: seed)

func content(size: Int, seed: UInt64) -> [UInt8] {
    var generator = SplitMix64(seed: seed)
    return (0 ..< size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
}

do {
    var options = Vault.Options()
    options.pool.healsInBackground = false
    options.commitInterval = 0.01
    options.checkpointInterval = 16
    let vault = try Vault(volumePaths: volumes, password: SecureBytes(copying: Array(arguments[4].utf8)), options: options)
    let root = Namespace.rootInode
    func directory(_ name: String) throws -> InodeNumber {
        if let found = try? vault.lookup(root, name) { return found.0 }
        return try vault.mkdir(root, name, permissions: 0o755, uid: 0, gid: 0).0
    }
    let acked = try directory("acked")
    let scratch = try directory("scratch")
    var counter = 0
    while true {
        counter += 1
        let roll = Int.random(in: 0 ..< 10, using: &random)
        let name = "s\(seed)-\(counter)"
        if roll < 4 {
            let size = Int.random(in: 0 ..< 5, using: &random) > 0 ? Int.random(in: 0 ..< 20_000, using: &random)
                : Int.random(in: 0 ..< 5_000_000, using: &random)
            let fileSeed = random.next()
            let (inode, _) = try vault.mknod(acked, name, kind: .regular, permissions: 0o644, uid: 0, gid: 0)
            let handle = try vault.open(inode)
            let bytes = content(size: size, seed: fileSeed)
            try bytes.withUnsafeBytes { raw in try vault.write(handle, at: 0, raw) }
            try vault.fsync(handle)
            try vault.release(handle)
            let line = "ACK \(name) \(size) \(fileSeed)\n"
            _ = line.withCString { write(log, $0, strlen($0)) }
            fsync(log)
        } else if roll < 7 {
            let (inode, _) = try vault.mknod(scratch, name, kind: .regular, permissions: 0o644, uid: 0, gid: 0)
            let handle = try vault.open(inode)
            let bytes = content(size: Int.random(in: 0 ..< 300_000, using: &random), seed: random.next())
            try bytes.withUnsafeBytes { raw in try vault.write(handle, at: 0, raw) }
            try vault.release(handle)
        } else {
            let entries = try vault.readdir(scratch, after: 0)
            guard let victim = entries.randomElement(using: &random) else { continue }
            if Bool.random(using: &random) {
                try vault.unlink(scratch, victim.name)
            } else {
                try vault.rename(scratch, victim.name, to: scratch, victim.name + "r")
            }
        }
    }
} catch {
    FileHandle.standardError.write(Data("crash-workload: \(error)\n".utf8))
    exit(2)
}
