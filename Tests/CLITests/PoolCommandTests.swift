import Foundation
import Testing

/// Creates a 4+2 pool on six fresh directories and returns their paths.
func createPool(_ scratch: Scratch, prefix: String = "v", extra: [String] = []) throws -> [String] {
    let volumes = scratch.volumes(6, prefix: prefix)
    let result = try CLI.run(["pool", "create", "--data", "4", "--parity", "2"] + extra + volumes, in: scratch)
    #expect(result.status == 0, "\(result.transcript)")
    return volumes
}

/// Stores `file` with `pool put --file` and returns the printed id.
func put(_ file: String, _ volumes: [String], in scratch: Scratch) throws -> String {
    let result = try CLI.run(["pool", "put", "--file", file] + volumes, in: scratch)
    #expect(result.status == 0, "\(result.transcript)")
    let fields = result.out.split(whereSeparator: \.isWhitespace)
    #expect(fields.count == 2, "put prints `ID LENGTH`: \(result.transcript)")
    return fields.first.map(String.init) ?? ""
}

@Suite struct PoolCommandTests {
    @Test func createPutGetRoundTrip() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let volumes = scratch.volumes(6)
        let created = try CLI.run(["pool", "create", "--data", "4", "--parity", "2"] + volumes, in: scratch)
        #expect(created.status == 0, "\(created.transcript)")
        #expect(created.out.contains("created pool "))
        #expect(created.out.contains("4+2"))
        for (index, volume) in volumes.enumerated() {
            #expect(created.out.contains(volume), "create lists every volume")
            #expect(created.out.contains("\n\(index) "), "create lists volume index \(index)")
        }

        // From --file (length known) and from stdin (streamed, length unknown).
        let (file, bytes) = try scratch.randomFile("input", count: 3 * (1 << 20) + 12345)
        let putFile = try CLI.run(["pool", "put", "--file", file] + volumes, in: scratch)
        #expect(putFile.status == 0, "\(putFile.transcript)")
        let fields = putFile.out.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(fields.count == 2 && fields[0].count == 32 && fields[1] == "\(bytes.count)", "\(putFile.transcript)")
        let id = fields[0]

        let putStdin = try CLI.run(["pool", "put", "--id", "00112233445566778899aabbccddeeff"] + volumes,
                                   stdinFile: file, in: scratch)
        #expect(putStdin.status == 0, "\(putStdin.transcript)")
        #expect(putStdin.out == "00112233445566778899aabbccddeeff \(bytes.count)\n")

        for object in [id, "00112233445566778899aabbccddeeff"] {
            let got = try CLI.run(["pool", "get", object] + volumes, in: scratch)
            #expect(got.status == 0, "\(got.transcript)")
            #expect(got.stdout == bytes, "bytes read back differ from bytes stored")
            #expect(got.stderr.isEmpty, "a healthy read is silent: \(got.stderr)")
        }

        let output = scratch.path("copy")
        let toFile = try CLI.run(["pool", "get", id, "--output", output] + volumes, in: scratch)
        #expect(toFile.status == 0, "\(toFile.transcript)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == bytes)

        let head = try CLI.run(["pool", "head", id] + volumes, in: scratch)
        #expect(head.status == 0, "\(head.transcript)")
        #expect(head.out.contains("length: \(bytes.count)\n"))

        let list = try CLI.run(["pool", "list"] + volumes, in: scratch)
        #expect(list.status == 0, "\(list.transcript)")
        #expect(list.out.split(separator: "\n").map(String.init).sorted() == [id, "00112233445566778899aabbccddeeff"].sorted())

        // An empty object.
        let empty = scratch.path("empty")
        _ = FileManager.default.createFile(atPath: empty, contents: nil)
        let emptyID = try put(empty, volumes, in: scratch)
        let gotEmpty = try CLI.run(["pool", "get", emptyID] + volumes, in: scratch)
        #expect(gotEmpty.status == 0 && gotEmpty.stdout.isEmpty, "\(gotEmpty.transcript)")

        let deleted = try CLI.run(["pool", "delete", id] + volumes, in: scratch)
        #expect(deleted.status == 0 && deleted.out == "deleted \(id)\n", "\(deleted.transcript)")
        let gone = try CLI.run(["pool", "get", id] + volumes, in: scratch)
        #expect(gone.status == 2, "\(gone.transcript)")
        #expect(gone.stderr == "shardvault: object \(id) not found\n")
        let deletedAgain = try CLI.run(["pool", "delete", id] + volumes, in: scratch)
        #expect(deletedAgain.status == 2 && deletedAgain.stderr.contains("not found"), "\(deletedAgain.transcript)")
    }

    @Test func rangedGet() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let volumes = try createPool(scratch, extra: ["--stripe-size", "64K"])
        let (file, bytes) = try scratch.randomFile("input", count: 300_001, seed: 7)
        let id = try put(file, volumes, in: scratch)

        // Inclusive START-END, across stripe boundaries (64 KiB stripes), at odd offsets, and START-.
        let cases: [(String, Range<Int>)] = [
            ("0-0", 0 ..< 1), ("1-4095", 1 ..< 4096), ("65535-65536", 65535 ..< 65537),
            ("12345-200000", 12345 ..< 200_001), ("299999-300000", 299_999 ..< 300_001),
            ("131000-", 131_000 ..< 300_001), ("0-300000", 0 ..< 300_001),
        ]
        for (text, range) in cases {
            let got = try CLI.run(["pool", "get", id, "--range", text] + volumes, in: scratch)
            #expect(got.status == 0, "--range \(text): \(got.transcript)")
            #expect(got.stdout == bytes.subdata(in: range), "--range \(text) returned the wrong bytes")
        }

        let outside = try CLI.run(["pool", "get", id, "--range", "300000-300001"] + volumes, in: scratch)
        #expect(outside.status == 2, "\(outside.transcript)")
        #expect(outside.stderr.contains("range 300000-300001 lies outside object \(id) of 300001 bytes"), "\(outside.stderr)")
        #expect(outside.stdout.isEmpty)

        for bad in ["10-5", "abc", "-5", "5", "1-2-3", "x-9"] {
            let refused = try CLI.run(["pool", "get", id, "--range=\(bad)"] + volumes, in: scratch)
            #expect(refused.status == 64, "--range \(bad): \(refused.transcript)")
            #expect(refused.stderr.hasPrefix("shardvault: invalid range '\(bad)'"), "\(refused.stderr)")
        }
    }

    @Test func statusJSONShowsSixOnlineVolumes() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let volumes = try createPool(scratch)
        let (file, _) = try scratch.randomFile("input", count: 10_000)
        _ = try put(file, volumes, in: scratch)

        let status = try CLI.run(["status", "--json"] + volumes.reversed(), in: scratch)
        #expect(status.status == 0, "\(status.transcript)")
        let json = try status.json()
        #expect(json["dataShards"] as? Int == 4)
        #expect(json["parityShards"] as? Int == 2)
        #expect(json["writeQuorum"] as? Int == 5)
        #expect(json["onlineVolumes"] as? Int == 6)
        #expect(json["missingVolumes"] as? Int == 0)
        #expect(json["objects"] as? Int == 1)
        #expect(json["repairQueue"] as? Int == 0)
        #expect((json["vaultID"] as? String)?.count == 36)
        let entries = try #require(json["volumes"] as? [[String: Any]])
        #expect(entries.count == 6)
        for (index, entry) in entries.enumerated() {
            #expect(entry["index"] as? Int == index)
            #expect(entry["state"] as? String == "online")
            #expect(entry["location"] as? String == volumes[index], "volumes are recognised by their format file, whatever order they are given in")
            #expect((entry["totalBytes"] as? Int ?? 0) > 0)
            #expect(entry["availableBytes"] is Int)
        }

        let table = try CLI.run(["status"] + volumes, in: scratch)
        #expect(table.status == 0, "\(table.transcript)")
        #expect(table.out.contains("volumes: all 6 online"))
        #expect(table.out.contains("objects: 1"))
        #expect(table.out.components(separatedBy: " online ").count - 1 == 6, "\(table.out)")
    }
}
