import Foundation
import Testing

@Suite struct VaultCommandTests {
    @Test func initThenStatusShowsTheKDFWithoutAPassword() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let volumes = scratch.volumes(6)
        let file = try scratch.passwordFile("pw", "hunter2 but longer")
        let created = try VaultCLI.run(["init", "--kdf", "test", "--password-file", file] + volumes, in: scratch)
        #expect(created.status == 0, "\(created.transcript)")
        #expect(created.out.hasPrefix("created vault "), "\(created.out)")
        #expect(created.out.contains("geometry: 4+2"), "the default geometry is 4+2: \(created.out)")
        #expect(created.out.contains("key derivation: Argon2id test") && created.out.contains("INSECURE"), "\(created.out)")
        #expect(created.stderr.contains("warning: --kdf test"), "--kdf test is never silent: \(created.stderr)")
        for volume in volumes { #expect(FileManager.default.fileExists(atPath: volume + "/format.json")) }

        let json = try VaultCLI.run(["status", "--json"] + volumes, in: scratch)
        #expect(json.status == 0, "\(json.transcript)")
        let report = try json.json()
        #expect(report["dataShards"] as? Int == 4 && report["parityShards"] as? Int == 2)
        #expect(report["onlineVolumes"] as? Int == 6)
        let vault = try #require(report["vault"] as? [String: Any], "\(json.out)")
        #expect(vault["kdf"] as? String == "test")
        #expect(vault["insecure"] as? Bool == true)
        #expect(vault["id"] as? String == report["vaultID"] as? String)
        #expect(created.out.contains(try #require(vault["id"] as? String)))
        #expect(vault["problem"] == nil)

        let text = try VaultCLI.run(["status"] + volumes, in: scratch)
        #expect(text.status == 0, "\(text.transcript)")
        #expect(text.out.contains("vault \(vault["id"] as? String ?? "?")"), "\(text.out)")
        #expect(text.out.contains("key derivation: Argon2id test") && text.out.contains("INSECURE"), "\(text.out)")
        #expect(text.out.contains("INDEX") && text.out.contains("all 6 online"), "what status showed before stays: \(text.out)")

        // One volume and no --data/--parity: 1+0. A bare pool shows no vault section.
        let single = [scratch.path("single")]
        let one = try VaultCLI.run(["init", "--kdf", "test", "--password-file", file] + single, in: scratch)
        #expect(one.status == 0 && one.out.contains("geometry: 1+0"), "\(one.transcript)")
        let pool = scratch.volumes(3, prefix: "p")
        #expect(try CLI.run(["pool", "create", "--data", "2", "--parity", "1"] + pool, in: scratch).status == 0)
        let bare = try VaultCLI.run(["status", "--json"] + pool, in: scratch)
        let bareReport = try bare.json()
        #expect(bare.status == 0 && bareReport["vault"] == nil, "\(bare.transcript)")
        #expect(!(try VaultCLI.run(["status"] + pool, in: scratch)).out.contains("key derivation"))
    }

    @Test func initRefusesNonEmptyDirectoriesAndBadGeometryBeforeAskingForAPassword() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        // No password source at all: every refusal below must come first.
        let volumes = scratch.volumes(6)
        try FileManager.default.createDirectory(atPath: volumes[2], withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: URL(fileURLWithPath: volumes[2] + "/notes.txt"))
        let notEmpty = try VaultCLI.run(["init", "--kdf", "test"] + volumes, in: scratch)
        #expect(notEmpty.status == 2, "\(notEmpty.transcript)")
        #expect(notEmpty.stderr == "shardvault: volume \(volumes[2]) cannot be initialised: it is not empty (notes.txt…)\n")
        #expect(try String(contentsOfFile: volumes[2] + "/notes.txt", encoding: .utf8) == "precious")
        #expect(!FileManager.default.fileExists(atPath: volumes[0]), "nothing was created")

        let five = try VaultCLI.run(["init"] + scratch.volumes(5, prefix: "f"), in: scratch)
        #expect(five.status == 2 && five.stderr == "shardvault: a 4+2 pool needs 6 volumes, 5 given\n", "\(five.transcript)")
        let geometry = try VaultCLI.run(["init", "--data", "20"] + scratch.volumes(22, prefix: "g"), in: scratch)
        #expect(geometry.status == 2 && geometry.stderr.contains("invalid pool geometry"), "\(geometry.transcript)")
        let kdf = try VaultCLI.run(["init", "--kdf", "weak"] + scratch.volumes(6, prefix: "k"), in: scratch)
        #expect(kdf.status == 64 && kdf.stderr.contains("invalid --kdf 'weak'") && kdf.stderr.contains("moderate"),
                "\(kdf.transcript)")
        for prefix in ["f", "g", "k"] { #expect(!FileManager.default.fileExists(atPath: scratch.path("\(prefix)0"))) }

        // Over an existing vault: refused, and the vault still opens.
        let (vault, file) = try scratch.createVault(prefix: "e")
        let again = try VaultCLI.run(["init", "--kdf", "test", "--password-file", file] + vault, in: scratch)
        #expect(again.status == 2 && again.stderr.contains("already belongs to vault"), "\(again.transcript)")
        let check = try VaultCLI.run(["fsck", "--password-file", file] + vault, in: scratch)
        #expect(check.status == 0, "\(check.transcript)")
    }

    @Test func passwordFromFileEnvironmentOrNowhere() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        // Environment.
        let volumes = scratch.volumes(3)
        let fromEnvironment = try VaultCLI.run(["init", "--kdf", "test", "--data", "2", "--parity", "1"] + volumes,
                                               environment: ["SHARDVAULT_PASSWORD": "from the environment"], in: scratch)
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.transcript)")
        let opens = try VaultCLI.run(["fsck"] + volumes, environment: ["SHARDVAULT_PASSWORD": "from the environment"], in: scratch)
        #expect(opens.status == 0 && opens.out.contains("result: CLEAN"), "\(opens.transcript)")
        // The file wins over the environment; its trailing newline is not part of the password.
        let file = try scratch.passwordFile("pw", "from the environment")
        let fileWins = try VaultCLI.run(["fsck", "--password-file", file] + volumes,
                                        environment: ["SHARDVAULT_PASSWORD": "something else"], in: scratch)
        #expect(fileWins.status == 0, "\(fileWins.transcript)")
        let wrong = try VaultCLI.run(["fsck"] + volumes, environment: ["SHARDVAULT_PASSWORD": "something else"], in: scratch)
        #expect(wrong.status == 2 && wrong.stderr == "shardvault: wrong password\n", "\(wrong.transcript)")

        // No source and no terminal: a clear error, and nothing created.
        let none = scratch.volumes(3, prefix: "n")
        let nowhere = try VaultCLI.run(["init", "--kdf", "test", "--data", "2", "--parity", "1"] + none, in: scratch)
        #expect(nowhere.status == 64, "\(nowhere.transcript)")
        #expect(nowhere.stderr.hasSuffix("shardvault: no new password given and no terminal to ask on: "
            + "use --password-file FILE, or set SHARDVAULT_PASSWORD\n"), "\(nowhere.stderr)")
        #expect(nowhere.stderr.contains("--password-file FILE") && nowhere.stderr.contains("SHARDVAULT_PASSWORD"))
        #expect(nowhere.out.isEmpty)
        for path in none { #expect(!FileManager.default.fileExists(atPath: path), "nothing created at \(path)") }
        let fsckNowhere = try VaultCLI.run(["fsck"] + volumes, in: scratch)
        #expect(fsckNowhere.status == 64 && fsckNowhere.stderr.contains("no password given"), "\(fsckNowhere.transcript)")

        // Unreadable and empty password files.
        let missing = try VaultCLI.run(["init", "--kdf", "test", "--data", "2", "--parity", "1", "--password-file", scratch.path("absent")] + none, in: scratch)
        #expect(missing.status == 2 && missing.stderr.contains("cannot read the password from file \(scratch.path("absent"))"),
                "\(missing.transcript)")
        let empty = try scratch.passwordFile("empty", "")
        let emptyInit = try VaultCLI.run(["init", "--kdf", "test", "--data", "2", "--parity", "1", "--password-file", empty] + none, in: scratch)
        #expect(emptyInit.status == 64 && emptyInit.stderr.contains("password is empty"), "\(emptyInit.transcript)")
        for path in none { #expect(!FileManager.default.fileExists(atPath: path)) }
    }

    @Test func passwdThenTheOldPasswordFails() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (volumes, old) = try scratch.createVault(password: "old secret")
        let new = try scratch.passwordFile("new", "new secret")

        let wrongOld = try VaultCLI.run(["passwd", "--password-file", new, "--new-password-file", new] + volumes, in: scratch)
        #expect(wrongOld.status == 2 && wrongOld.stderr == "shardvault: wrong password\n", "\(wrongOld.transcript)")
        let noNew = try VaultCLI.run(["passwd", "--password-file", old] + volumes, in: scratch)
        #expect(noNew.status == 64 && noNew.stderr.contains("--new-password-file FILE")
                && noNew.stderr.contains("SHARDVAULT_NEW_PASSWORD"), "\(noNew.transcript)")

        let changed = try VaultCLI.run(["passwd", "--password-file", old, "--new-password-file", new] + volumes, in: scratch)
        #expect(changed.status == 0 && changed.out.contains("password changed"), "\(changed.transcript)")
        let oldFails = try VaultCLI.run(["fsck", "--password-file", old] + volumes, in: scratch)
        #expect(oldFails.status == 2 && oldFails.stderr == "shardvault: wrong password\n", "\(oldFails.transcript)")
        let newWorks = try VaultCLI.run(["fsck", "--password-file", new] + volumes, in: scratch)
        #expect(newWorks.status == 0 && newWorks.out.contains("result: CLEAN"), "\(newWorks.transcript)")
        let status = try VaultCLI.run(["status", "--json"] + volumes, in: scratch)
        #expect((try status.json()["vault"] as? [String: Any])?["kdf"] as? String == "test", "the strength is kept: \(status.out)")

        // Again, the new password from the environment, and a real KDF this time.
        let third = try VaultCLI.run(["passwd", "--password-file", new, "--kdf", "interactive"] + volumes,
                                     environment: ["SHARDVAULT_NEW_PASSWORD": "third secret"], in: scratch)
        #expect(third.status == 0 && third.out.contains("Argon2id interactive"), "\(third.transcript)")
        let previous = try VaultCLI.run(["fsck", "--password-file", new] + volumes, in: scratch)
        #expect(previous.status == 2 && previous.stderr == "shardvault: wrong password\n", "\(previous.transcript)")
        let latest = try VaultCLI.run(["fsck"] + volumes, environment: ["SHARDVAULT_PASSWORD": "third secret"], in: scratch)
        #expect(latest.status == 0, "\(latest.transcript)")
        let vault = try #require(try VaultCLI.run(["status", "--json"] + volumes, in: scratch).json()["vault"] as? [String: Any])
        #expect(vault["kdf"] as? String == "interactive" && vault["insecure"] as? Bool == false, "\(vault)")
    }

    @Test func fsckOnAFreshVaultIsClean() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (volumes, file) = try scratch.createVault()
        let text = try VaultCLI.run(["fsck", "--password-file", file] + volumes, in: scratch)
        #expect(text.status == 0, "\(text.transcript)")
        for line in ["inodes:            1", "referenced blocks: 0", "orphan blocks:     0 found, 0 removed",
                     "missing blocks:    0", "unreadable blocks: 0", "namespace:         ok", "result: CLEAN"] {
            #expect(text.out.contains(line), "\(line) in \(text.out)")
        }
        let json = try VaultCLI.run(["fsck", "--json", "--password-file", file] + volumes, in: scratch)
        #expect(json.status == 0, "\(json.transcript)")
        let report = try json.json()
        #expect(report["clean"] as? Bool == true && report["inodes"] as? Int == 1)
        #expect((report["metadataObjects"] as? Int ?? 0) >= 3, "superblock, checkpoint and key file: \(json.out)")
        #expect((report["orphanBlocks"] as? [String])?.isEmpty == true)
    }

    @Test func fsckRepairRemovesAnOrphanBlock() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (volumes, file) = try scratch.createVault()
        let (input, _) = try scratch.randomFile("orphan", count: 100_000, seed: 9)
        let put = try CLI.run(["pool", "put", "--file", input] + volumes, in: scratch)
        #expect(put.status == 0, "\(put.transcript)")
        let id = String(put.out.prefix(32))

        let found = try VaultCLI.run(["fsck", "--password-file", file] + volumes, in: scratch)
        #expect(found.status == 1, "an orphan is a problem that remains: \(found.transcript)")
        #expect(found.out.contains("orphan blocks:     1 found, 0 removed") && found.out.contains("orphan \(id)"), "\(found.out)")
        #expect(found.out.contains("result: PROBLEMS") && found.out.contains("fsck --repair"), "\(found.out)")
        #expect(try CLI.run(["pool", "head", id] + volumes, in: scratch).status == 0, "fsck without --repair removes nothing")

        let repaired = try VaultCLI.run(["fsck", "--repair", "--password-file", file] + volumes, in: scratch)
        #expect(repaired.status == 0, "\(repaired.transcript)")
        #expect(repaired.out.contains("orphan blocks:     1 found, 1 removed") && repaired.out.contains("result: CLEAN"), "\(repaired.out)")
        let gone = try CLI.run(["pool", "head", id] + volumes, in: scratch)
        #expect(gone.status == 2 && gone.stderr.contains("not found"), "\(gone.transcript)")
        let after = try VaultCLI.run(["fsck", "--password-file", file] + volumes, in: scratch)
        #expect(after.status == 0 && after.out.contains("0 found, 0 removed"), "\(after.transcript)")
    }

    @Test func keyFileDamagedOnTwoVolumesStillOpensThreeVolumesGoneIsAClearError() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (volumes, file) = try scratch.createVault()
        for volume in volumes { #expect(KeyFileShards.files(on: volume).count == 1, "one key-file shard on \(volume)") }
        #expect(try KeyFileShards.corrupt(on: volumes[0]) == 1)
        #expect(try KeyFileShards.corrupt(on: volumes[3]) == 1)

        let opens = try VaultCLI.run(["fsck", "--password-file", file] + volumes, in: scratch)
        #expect(opens.status == 0 && opens.out.contains("result: CLEAN"), "\(opens.transcript)")
        let status = try VaultCLI.run(["status", "--json"] + volumes, in: scratch)
        #expect((try status.json()["vault"] as? [String: Any])?["kdf"] as? String == "test", "\(status.transcript)")
        let wrong = try VaultCLI.run(["fsck"] + volumes, environment: ["SHARDVAULT_PASSWORD": "nope"], in: scratch)
        #expect(wrong.status == 2 && wrong.stderr == "shardvault: wrong password\n",
                "a damaged but recoverable key file still tells a wrong password apart: \(wrong.transcript)")

        // A third damaged copy: no key file can be read, and the message says so (not "wrong password").
        try KeyFileShards.corrupt(on: volumes[5])
        let damaged = try VaultCLI.run(["fsck", "--password-file", file] + volumes, in: scratch)
        #expect(damaged.status == 2 && damaged.stderr.contains("key file") && !damaged.stderr.contains("wrong password"),
                "\(damaged.transcript)")
        let damagedStatus = try VaultCLI.run(["status", "--json"] + volumes, in: scratch)
        #expect(damagedStatus.status == 0, "status still works on the pool: \(damagedStatus.transcript)")
        #expect(((try damagedStatus.json()["vault"] as? [String: Any])?["problem"] as? String)?.contains("key file") == true,
                "\(damagedStatus.out)")

        // Three volumes gone.
        let (others, otherFile) = try scratch.createVault(prefix: "w")
        for index in [1, 2, 4] { try scratch.removeVolume(others[index]) }
        let gone = try VaultCLI.run(["fsck", "--password-file", otherFile] + others, in: scratch)
        #expect(gone.status == 2, "\(gone.transcript)")
        #expect(gone.stderr.hasPrefix("shardvault: only 3 usable volumes, 4 needed"), "\(gone.stderr)")
        #expect(!gone.stderr.contains("wrong password") && !gone.stderr.contains("Fatal error"))
        let passwd = try VaultCLI.run(["passwd", "--password-file", otherFile, "--new-password-file", otherFile] + others, in: scratch)
        #expect(passwd.status == 2 && passwd.stderr.hasPrefix("shardvault: only 3 usable volumes, 4 needed"), "\(passwd.transcript)")
    }

    @Test func fsckWithTwoOfSixVolumesGone() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (volumes, file) = try scratch.createVault()
        try scratch.removeVolume(volumes[1])
        let oneGone = try VaultCLI.run(["fsck", "--password-file", file] + volumes, in: scratch)
        #expect(oneGone.status == 0 && oneGone.out.contains("5 volume(s) online, 1 missing"), "\(oneGone.transcript)")

        try scratch.removeVolume(volumes[4])
        let twoGone = try VaultCLI.run(["fsck", "--password-file", file] + volumes, in: scratch)
        // The check itself runs and its report is printed either way.
        #expect(twoGone.out.contains("4 volume(s) online, 2 missing") && twoGone.out.contains("result: CLEAN"), "\(twoGone.transcript)")
        #expect(!twoGone.stderr.contains("wrong password"))
        // With only k volumes the vault is read-only, and closing it writes nothing.
        #expect(twoGone.status == 0, "\(twoGone.transcript)")
    }
}
