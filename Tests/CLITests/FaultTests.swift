import Foundation
import Testing

@Suite struct FaultTests {
    @Test func degradedReadsThenUnreadableWithThreeMissing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let volumes = try createPool(scratch)
        let (file, bytes) = try scratch.randomFile("input", count: 2 * (1 << 20) + 999, seed: 3)
        let id = try put(file, volumes, in: scratch)

        // Placement is per object: the note appears only if a lost volume held a data shard.
        let lostDataShard = try [volumes[1], volumes[4]].contains { try shardIndex(of: id, on: $0) < 4 }
        try scratch.removeVolume(volumes[1])
        try scratch.removeVolume(volumes[4])
        let degraded = try CLI.run(["pool", "get", id] + volumes, in: scratch)
        #expect(degraded.status == 0, "\(degraded.transcript)")
        #expect(degraded.stdout == bytes, "a read with 2 of 6 volumes gone must return identical bytes")
        #expect(degraded.stderr.contains("degraded read") == lostDataShard, "\(degraded.stderr)")

        let ranged = try CLI.run(["pool", "get", id, "--range", "1048570-1048600"] + volumes, in: scratch)
        #expect(ranged.status == 0 && ranged.stdout == bytes.subdata(in: 1_048_570 ..< 1_048_601), "\(ranged.transcript)")

        let status = try CLI.run(["status", "--json"] + volumes, in: scratch)
        #expect(status.status == 0, "\(status.transcript)")
        let json = try status.json()
        #expect(json["onlineVolumes"] as? Int == 4)
        #expect(json["missingVolumes"] as? Int == 2)
        let entries = try #require(json["volumes"] as? [[String: Any]])
        let missing = entries.filter { $0["state"] as? String == "missing" }
        #expect(missing.compactMap { $0["index"] as? Int } == [1, 4])
        #expect(missing.allSatisfy { ($0["problem"] as? String)?.contains("was given or readable") == true })
        let unrecognised = try #require(json["unrecognisedPaths"] as? [[String: Any]])
        #expect(unrecognised.compactMap { $0["path"] as? String } == [volumes[1], volumes[4]])

        let table = try CLI.run(["status"] + volumes, in: scratch)
        #expect(table.status == 0)
        #expect(table.out.contains("4 online, 2 missing"), "\(table.out)")

        let scrub = try CLI.run(["scrub"] + volumes, in: scratch)
        #expect(scrub.status == 1, "scrub exits 1 when it finds damage: \(scrub.transcript)")
        #expect(scrub.out.contains("damaged:     1 object(s), 2 bad or missing shard(s)"), "\(scrub.out)")
        #expect(scrub.out.contains("result: DAMAGED"))

        let heal = try CLI.run(["heal"] + volumes, in: scratch)
        #expect(heal.status == 1, "heal cannot restore redundancy while volumes are missing: \(heal.transcript)")
        #expect(heal.out.contains("result: INCOMPLETE"), "\(heal.out)")

        try scratch.removeVolume(volumes[2])
        let unreadable = try CLI.run(["pool", "get", id] + volumes, in: scratch)
        #expect(unreadable.status == 2, "\(unreadable.transcript)")
        #expect(unreadable.stdout.isEmpty, "no bytes when the object cannot be read")
        #expect(unreadable.stderr.hasPrefix("shardvault: only 3 usable volumes, 4 needed: "), "\(unreadable.stderr)")
        for lost in [volumes[1], volumes[2], volumes[4]] {
            #expect(unreadable.stderr.contains("\(lost): missing"), "the message names every lost volume")
        }
        #expect(!unreadable.stderr.contains("Fatal error") && !unreadable.stderr.contains("backtrace"))
        let statusThree = try CLI.run(["status"] + volumes, in: scratch)
        #expect(statusThree.status == 2 && statusThree.stderr.contains("only 3 usable volumes"), "\(statusThree.transcript)")
    }

    @Test func replaceAndHealRestoreFullRedundancy() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let volumes = try createPool(scratch)
        var objects: [(String, Data)] = []
        for (n, size) in [0, 1, 4095, 1 << 20, 3 * (1 << 20) + 7].enumerated() {
            let (file, bytes) = try scratch.randomFile("input\(n)", count: size, seed: UInt64(n + 10))
            objects.append((try put(file, volumes, in: scratch), bytes))
        }
        try scratch.removeVolume(volumes[0])
        try scratch.removeVolume(volumes[3])

        let ambiguous = try CLI.run(["pool", "replace", scratch.path("new0")] + volumes, in: scratch)
        #expect(ambiguous.status == 2, "\(ambiguous.transcript)")
        #expect(ambiguous.stderr.contains("volumes [0, 3] are missing; say which one with --index"), "\(ambiguous.stderr)")

        let present = try CLI.run(["pool", "replace", "--index", "1", scratch.path("new0")] + volumes, in: scratch)
        #expect(present.status == 2 && present.stderr.contains("volume 1 is present and healthy"), "\(present.transcript)")

        let first = try CLI.run(["pool", "replace", "--index", "0", scratch.path("new0")] + volumes, in: scratch)
        #expect(first.status == 0, "\(first.transcript)")
        #expect(first.out.contains("volume 0 "), "\(first.out)")
        #expect(first.out.contains("still missing"), "\(first.out)")
        #expect(first.out.contains("shardvault heal "), "replace says what to run next: \(first.out)")

        // With one missing the index may be left out.
        var current = volumes + [scratch.path("new0")]
        let second = try CLI.run(["pool", "replace", scratch.path("new3")] + current, in: scratch)
        #expect(second.status == 0 && second.out.contains("volume 3 "), "\(second.transcript)")
        current.append(scratch.path("new3"))

        let heal = try CLI.run(["heal"] + current, in: scratch)
        #expect(heal.status == 0, "\(heal.transcript)")
        #expect(heal.out.contains("heal: 5 object(s) checked"), "\(heal.out)")
        #expect(heal.out.contains("result: healthy"), "\(heal.out)")

        let scrub = try CLI.run(["scrub", "--json"] + current, in: scratch)
        #expect(scrub.status == 0, "\(scrub.transcript)")
        let report = try scrub.json()
        #expect(report["healthy"] as? Bool == true)
        #expect(report["objects"] as? Int == 5)
        #expect(report["healthyObjects"] as? Int == 5)
        #expect(report["badShards"] as? Int == 0)
        let scrubText = try CLI.run(["scrub"] + current, in: scratch)
        #expect(scrubText.status == 0 && scrubText.out.contains("result: healthy"), "\(scrubText.transcript)")

        // Reads no longer reconstruct, even with two *other* volumes gone.
        for (id, bytes) in objects {
            let got = try CLI.run(["pool", "get", id] + current, in: scratch)
            #expect(got.status == 0 && got.stdout == bytes && got.stderr.isEmpty, "\(got.transcript)")
        }
        try scratch.removeVolume(volumes[1])
        try scratch.removeVolume(volumes[5])
        for (id, bytes) in objects {
            let got = try CLI.run(["pool", "get", id] + current, in: scratch)
            #expect(got.status == 0 && got.stdout == bytes, "rebuilt shards serve reads: \(got.transcript)")
        }
    }
}

/// The shard index recorded in the trailer of `id`'s shard file on `volume` (byte 10 of the
/// 64-byte trailer, docs/FORMAT-pool.md).
func shardIndex(of id: String, on volume: String) throws -> Int {
    let data = try Data(contentsOf: URL(fileURLWithPath: volume + "/objects/" + id.prefix(2) + "/" + id))
    return Int(data[data.count - 64 + 10])
}
