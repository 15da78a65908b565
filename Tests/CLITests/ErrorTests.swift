import Foundation
import Testing

@Suite struct ErrorTests {
    @Test func createRefusesWrongCountAndNonEmptyDirectories() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let five = try CLI.run(["pool", "create", "--data", "4", "--parity", "2"] + scratch.volumes(5), in: scratch)
        #expect(five.status == 2, "\(five.transcript)")
        #expect(five.stderr == "shardvault: a 4+2 pool needs 6 volumes, 5 given\n")
        #expect(five.out.isEmpty)

        let volumes = scratch.volumes(6)
        try FileManager.default.createDirectory(atPath: volumes[2], withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: URL(fileURLWithPath: volumes[2] + "/notes.txt"))
        let notEmpty = try CLI.run(["pool", "create"] + volumes, in: scratch)
        #expect(notEmpty.status == 2, "\(notEmpty.transcript)")
        #expect(notEmpty.stderr == "shardvault: volume \(volumes[2]) cannot be initialised: it is not empty (notes.txt…)\n")
        #expect(try String(contentsOfFile: volumes[2] + "/notes.txt", encoding: .utf8) == "precious")
        #expect(!FileManager.default.fileExists(atPath: volumes[0] + "/format.json"), "nothing was initialised")

        let geometry = try CLI.run(["pool", "create", "--data", "20"] + scratch.volumes(22, prefix: "g"), in: scratch)
        #expect(geometry.status == 2 && geometry.stderr.contains("invalid pool geometry"), "\(geometry.transcript)")
        let stripe = try CLI.run(["pool", "create", "--stripe-size", "lots"] + scratch.volumes(6, prefix: "s"), in: scratch)
        #expect(stripe.status == 64 && stripe.stderr.contains("invalid stripe size 'lots'"), "\(stripe.transcript)")
    }

    @Test func createOverAnExistingPoolDamagesNothing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let volumes = try createPool(scratch)
        let (file, bytes) = try scratch.randomFile("input", count: 100_000)
        let id = try put(file, volumes, in: scratch)

        let again = try CLI.run(["pool", "create"] + volumes, in: scratch)
        #expect(again.status == 2, "\(again.transcript)")
        #expect(again.stderr.contains("volume \(volumes[0]) cannot be initialised: it already belongs to vault"), "\(again.stderr)")
        let got = try CLI.run(["pool", "get", id] + volumes, in: scratch)
        #expect(got.status == 0 && got.stdout == bytes, "\(got.transcript)")
    }

    @Test func badCommandLines() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let volumes = try createPool(scratch)

        for bad in ["xyz", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdeg",
                    "+123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef0"] {
            let get = try CLI.run(["pool", "get", bad] + volumes, in: scratch)
            #expect(get.status == 64, "\(get.transcript)")
            #expect(get.stderr.hasPrefix("shardvault: invalid object id '\(bad)': expected 32 hex digits"), "\(get.stderr)")
            let put = try CLI.run(["pool", "put", "--id", bad] + volumes, stdinFile: "/dev/null", in: scratch)
            #expect(put.status == 64 && put.stderr.hasPrefix("shardvault: invalid object id"), "\(put.transcript)")
        }

        let noVolumes = try CLI.run(["pool", "get", "00112233445566778899aabbccddeeff"], in: scratch)
        #expect(noVolumes.status == 64, "\(noVolumes.transcript)")
        #expect(noVolumes.stderr.hasPrefix("shardvault: Missing expected argument '<volume> ...'"), "\(noVolumes.stderr)")
        let noStatusVolumes = try CLI.run(["status"], in: scratch)
        #expect(noStatusVolumes.status == 64 && noStatusVolumes.stderr.contains("<volume>"), "\(noStatusVolumes.transcript)")

        let unknown = try CLI.run(["pool", "frobnicate"] + volumes, in: scratch)
        #expect(unknown.status == 64 && unknown.stderr.hasPrefix("shardvault: "), "\(unknown.transcript)")

        let missingObject = try CLI.run(["pool", "head", "00112233445566778899aabbccddeeff"] + volumes, in: scratch)
        #expect(missingObject.status == 2, "\(missingObject.transcript)")
        #expect(missingObject.stderr == "shardvault: object 00112233445566778899aabbccddeeff not found\n")

        let noFile = try CLI.run(["pool", "put", "--file", scratch.path("nope")] + volumes, in: scratch)
        #expect(noFile.status == 2 && noFile.stderr.contains("cannot open \(scratch.path("nope")): No such file or directory"),
                "\(noFile.transcript)")

        let notAPool = try CLI.run(["status", scratch.path("nowhere1"), scratch.path("nowhere2")], in: scratch)
        #expect(notAPool.status == 2, "\(notAPool.transcript)")
        #expect(notAPool.stderr.contains("\(scratch.path("nowhere1")): missing"), "\(notAPool.stderr)")

        let help = try CLI.run(["pool", "get", "--help"], in: scratch)
        #expect(help.status == 0 && help.out.contains("USAGE: shardvault pool get <id>"), "\(help.transcript)")

        // A failed read never clobbers an existing --output file.
        let keep = scratch.path("keep")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: keep))
        let failed = try CLI.run(["pool", "get", "00112233445566778899aabbccddeeff", "-o", keep] + volumes, in: scratch)
        #expect(failed.status == 2, "\(failed.transcript)")
        #expect(try String(contentsOfFile: keep, encoding: .utf8) == "keep me")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.root).filter { $0.hasPrefix("keep.") }
        #expect(leftovers.isEmpty, "no temporary output left behind: \(leftovers)")
    }

    @Test func foreignVolumeIsRefusedAndNothingIsDamaged() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let ours = try createPool(scratch, prefix: "ours")
        let theirs = try createPool(scratch, prefix: "theirs")
        let (file, bytes) = try scratch.randomFile("input", count: 1_500_000, seed: 5)
        let id = try put(file, ours, in: scratch)
        let theirID = try put(file, theirs, in: scratch)
        let ourVault = try #require(try CLI.run(["status", "--json"] + ours, in: scratch).json()["vaultID"] as? String)
        let theirVault = try #require(try CLI.run(["status", "--json"] + theirs, in: scratch).json()["vaultID"] as? String)

        // One of their volumes in place of one of ours.
        let mixed = Array(ours[0 ..< 5]) + [theirs[5]]
        for command in [["pool", "get", id], ["status"], ["heal"], ["scrub"],
                        ["pool", "put", "--file", file], ["pool", "delete", id]] {
            let result = try CLI.run(command + mixed, in: scratch)
            #expect(result.status == 2, "\(command): \(result.transcript)")
            #expect(result.stderr == "shardvault: volume \(theirs[5]) belongs to vault \(theirVault), not to vault \(ourVault) like the others\n",
                    "\(command): \(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
        let replace = try CLI.run(["pool", "replace", "--index", "5", scratch.path("fresh")] + mixed, in: scratch)
        #expect(replace.status == 2 && replace.stderr.contains("belongs to vault \(theirVault)"), "\(replace.transcript)")

        // Both pools are untouched: full reads without reconstruction, and clean scrubs.
        for (volumes, object) in [(ours, id), (theirs, theirID)] {
            let got = try CLI.run(["pool", "get", object] + volumes, in: scratch)
            #expect(got.status == 0 && got.stdout == bytes && got.stderr.isEmpty, "\(got.transcript)")
            let scrub = try CLI.run(["scrub"] + volumes, in: scratch)
            #expect(scrub.status == 0 && scrub.out.contains("result: healthy"), "\(scrub.transcript)")
            let list = try CLI.run(["pool", "list"] + volumes, in: scratch)
            #expect(list.out == "\(object)\n", "\(list.transcript)")
        }

        let duplicate = try CLI.run(["status"] + ours + [ours[0]], in: scratch)
        #expect(duplicate.status == 2 && duplicate.stderr.contains("each volume may be given once"), "\(duplicate.transcript)")
    }
}
