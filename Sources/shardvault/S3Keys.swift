import ArgumentParser
import S3Server
import Vault

/// `shardvault s3-keys show|rotate|add-readonly|remove-readonly [--password-file F] VOLUME...`
struct S3Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3-keys",
        abstract: "Show, rotate, add or remove the S3 key pairs kept (encrypted) in the vault.",
        discussion: """
            The vault has one read-write key pair (show, rotate) and any number of read-only ones \
            (add-readonly, remove-readonly), which may only GET, HEAD and list. The vault must not be \
            served meanwhile (its volumes are locked by the serving daemon).
            """,
        subcommands: [S3KeysShow.self, S3KeysRotate.self, S3KeysAddReadOnly.self, S3KeysRemoveReadOnly.self])

    /// `access key: …` / `secret key: …`, prefixed `read-only ` for a read-only pair.
    static func print(_ pair: S3Credentials) {
        let prefix = pair.access == .readOnly ? "read-only " : ""
        Swift.print("\(prefix)access key: \(pair.accessKeyID)")
        Swift.print("\(prefix)secret key: \(pair.secretAccessKey)")
    }
}

struct S3KeysShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the vault's S3 key pairs: the read-write one (made now if the vault has none yet), then the read-only ones.")

    @OptionGroup var vault: S3KeysVault

    func run() throws {
        let ring = try vault.with(S3CredentialStore.loadOrCreateKeyRing)
        ring.all.forEach(S3Keys.print)
    }
}

struct S3KeysRotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Replace the vault's read-write S3 key pair with a new one and print it; the old pair stops working.",
        discussion: "Read-only pairs are kept. The vault must not be served meanwhile (its volumes are locked by the serving daemon).")

    @OptionGroup var vault: S3KeysVault

    func run() throws {
        S3Keys.print(try vault.with { try S3CredentialStore.rotate(in: $0) })
    }
}

struct S3KeysAddReadOnly: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-readonly",
        abstract: "Make an extra S3 key pair that may only read (GET, HEAD, listings) and print it.",
        discussion: "Every request it signs that would change the vault is refused with AccessDenied.")

    @OptionGroup var vault: S3KeysVault

    func run() throws {
        S3Keys.print(try vault.with { try S3CredentialStore.addReadOnly(in: $0) })
    }
}

struct S3KeysRemoveReadOnly: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-readonly",
        abstract: "Delete the read-only S3 key pair with this access key; it stops working.")

    @Argument(help: ArgumentHelp("The access key of the read-only pair (as `s3-keys show` prints it).", valueName: "access-key"))
    var accessKey: String

    @OptionGroup var vault: S3KeysVault

    func run() throws {
        try vault.with {
            try S3CredentialStore.removeReadOnly(accessKeyID: accessKey, in: $0)
        }
        print("removed read-only access key: \(accessKey)")
    }
}

/// The password file and volumes every `s3-keys` subcommand takes, and the vault they open.
struct S3KeysVault: ParsableArguments {
    @Option(help: ArgumentHelp("Read the password from this file.", valueName: "file"))
    var passwordFile: String?

    @OptionGroup var pool: VolumeArguments

    /// Opens the vault, runs `body` on it, and closes it (also on failure).
    func with<Result>(_ body: (Vault) throws -> Result) throws -> Result {
        let vault = try Vault(volumePaths: pool.volumes, password: try Passwords.existing(file: passwordFile),
                              options: VaultSupport.oneShotOptions)
        let result: Result
        do {
            result = try body(vault)
        } catch {
            try? vault.close()
            throw error
        }
        try vault.close()
        return result
    }
}
