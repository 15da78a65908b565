import Foundation
import Testing

/// `shardvault s3-keys show|rotate|add-readonly|remove-readonly`: the key pairs kept in the
/// vault, added, listed, rotated and removed through the command line.
@Suite struct S3KeysCommandTests {
    /// The pairs in `output`: (access, secret, read-only) per pair, in order.
    static func pairs(_ output: String) -> [(access: String, secret: String, readOnly: Bool)] {
        var pairs: [(String, String, Bool)] = []
        var pendingAccess: (String, Bool)?
        for line in output.split(separator: "\n").map(String.init) {
            let readOnly = line.hasPrefix("read-only ")
            let text = readOnly ? String(line.dropFirst("read-only ".count)) : line
            if text.hasPrefix("access key: ") {
                pendingAccess = (String(text.dropFirst("access key: ".count)), readOnly)
            } else if text.hasPrefix("secret key: "), let (access, accessReadOnly) = pendingAccess, accessReadOnly == readOnly {
                pairs.append((access, String(text.dropFirst("secret key: ".count)), readOnly))
                pendingAccess = nil
            }
        }
        return pairs
    }

    @Test func addShowRotateAndRemoveReadOnlyPairs() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (volumes, passwordFile) = try scratch.createVault()
        func keys(_ arguments: [String]) throws -> CLI.Result {
            try VaultCLI.run(["s3-keys"] + arguments + ["--password-file", passwordFile] + volumes, in: scratch)
        }

        let shown = try keys(["show"])
        #expect(shown.status == 0, "\(shown.transcript)")
        let main = try #require(Self.pairs(shown.out).first)
        #expect(Self.pairs(shown.out).count == 1 && !main.readOnly, "only the read-write pair: \(shown.out)")

        let first = try keys(["add-readonly"])
        #expect(first.status == 0, "\(first.transcript)")
        let firstPair = try #require(Self.pairs(first.out).first)
        #expect(Self.pairs(first.out).count == 1 && firstPair.readOnly, "\(first.out)")
        #expect(firstPair.access.count == 20 && firstPair.access.hasPrefix("SV") && firstPair.secret.count == 40)
        let secondPair = try #require(Self.pairs(try keys(["add-readonly"]).out).first)
        #expect(secondPair.access != firstPair.access && secondPair.access != main.access)

        let listed = try keys(["show"])
        #expect(listed.status == 0, "\(listed.transcript)")
        #expect(Self.pairs(listed.out).map(\.access) == [main.access, firstPair.access, secondPair.access], "\(listed.out)")
        #expect(Self.pairs(listed.out).map(\.readOnly) == [false, true, true])
        #expect(Self.pairs(listed.out).map(\.secret) == [main.secret, firstPair.secret, secondPair.secret])

        // rotate replaces the read-write pair and keeps the read-only ones.
        let rotated = try keys(["rotate"])
        let newMain = try #require(Self.pairs(rotated.out).first)
        #expect(rotated.status == 0 && !newMain.readOnly && newMain.access != main.access, "\(rotated.transcript)")
        #expect(Self.pairs(try keys(["show"]).out).map(\.access) == [newMain.access, firstPair.access, secondPair.access])

        let removed = try keys(["remove-readonly", firstPair.access])
        #expect(removed.status == 0 && removed.out == "removed read-only access key: \(firstPair.access)\n", "\(removed.transcript)")
        #expect(Self.pairs(try keys(["show"]).out).map(\.access) == [newMain.access, secondPair.access])

        // Refusals change nothing: an unknown (or already removed) id, the read-write pair.
        let again = try keys(["remove-readonly", firstPair.access])
        #expect(again.status == 2 && again.stderr.contains("no read-only S3 key pair with the access key \(firstPair.access)"),
                "\(again.transcript)")
        let mainRefused = try keys(["remove-readonly", newMain.access])
        #expect(mainRefused.status == 2 && mainRefused.stderr.contains("read-write") && mainRefused.stderr.contains("rotate"),
                "\(mainRefused.transcript)")
        let missingArgument = try VaultCLI.run(["s3-keys", "remove-readonly", "--password-file", passwordFile], in: scratch)
        #expect(missingArgument.status == 64, "\(missingArgument.transcript)")
        #expect(Self.pairs(try keys(["show"]).out).map(\.access) == [newMain.access, secondPair.access])

        // fsck counts the stored pairs as metadata; the last removal leaves the read-write pair.
        let fsck = try VaultCLI.run(["fsck", "--repair", "--password-file", passwordFile] + volumes, in: scratch)
        #expect(fsck.status == 0, "\(fsck.transcript)")
        #expect(try keys(["remove-readonly", secondPair.access]).status == 0)
        let last = try keys(["show"])
        #expect(Self.pairs(last.out).map(\.access) == [newMain.access] && Self.pairs(last.out)[0].secret == newMain.secret,
                "\(last.transcript)")
    }

    @Test func wrongPasswordChangesNothing() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (volumes, passwordFile) = try scratch.createVault()
        let wrong = try scratch.passwordFile("wrong", "not the password")
        let refused = try VaultCLI.run(["s3-keys", "add-readonly", "--password-file", wrong] + volumes, in: scratch)
        #expect(refused.status == 2 && refused.stderr == "shardvault: wrong password\n", "\(refused.transcript)")
        let shown = try VaultCLI.run(["s3-keys", "show", "--password-file", passwordFile] + volumes, in: scratch)
        #expect(Self.pairs(shown.out).count == 1, "\(shown.transcript)")
    }
}
