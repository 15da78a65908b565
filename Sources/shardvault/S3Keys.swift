import ArgumentParser
import S3Server
import Vault

/// `shardvault s3-keys show|rotate [--password-file F] VOLUME...`
struct S3Keys: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "s3-keys",
        abstract: "Show or rotate the S3 key pair kept (encrypted) in the vault.",
        subcommands: [S3KeysShow.self, S3KeysRotate.self])

    /// Opens the vault, gets a key pair from it with `credentials`, closes it (also on
    /// failure) and prints the pair.
    static func printCredentials(pool: VolumeArguments, passwordFile: String?,
                                 _ credentials: (Vault) throws -> S3Credentials) throws {
        let vault = try Vault(volumePaths: pool.volumes, password: try Passwords.existing(file: passwordFile),
                              options: VaultSupport.oneShotOptions)
        let pair: S3Credentials
        do {
            pair = try credentials(vault)
        } catch {
            try? vault.close()
            throw error
        }
        try vault.close()
        print("access key: \(pair.accessKeyID)")
        print("secret key: \(pair.secretAccessKey)")
    }
}

struct S3KeysShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the vault's S3 access key and secret key (made now if the vault has none yet).")

    @Option(help: ArgumentHelp("Read the password from this file.", valueName: "file"))
    var passwordFile: String?

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        try S3Keys.printCredentials(pool: pool, passwordFile: passwordFile, S3CredentialStore.loadOrCreate)
    }
}

struct S3KeysRotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Replace the vault's S3 key pair with a new one and print it; the old pair stops working.",
        discussion: "The vault must not be served meanwhile (its volumes are locked by the serving daemon).")

    @Option(help: ArgumentHelp("Read the password from this file.", valueName: "file"))
    var passwordFile: String?

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        try S3Keys.printCredentials(pool: pool, passwordFile: passwordFile, S3CredentialStore.rotate)
    }
}
