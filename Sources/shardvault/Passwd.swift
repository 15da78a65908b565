import ArgumentParser
import Vault
import VaultCrypto

/// `shardvault passwd [--password-file OLD] [--new-password-file NEW] [--kdf STRENGTH] VOLUME...`
struct Passwd: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Change the vault's password (re-wraps the master keys; no data is re-encrypted).",
        discussion: """
            The current password comes from --password-file, else $SHARDVAULT_PASSWORD, else the \
            terminal; the new one from --new-password-file, else $SHARDVAULT_NEW_PASSWORD, else the \
            terminal (asked twice). --kdf changes the Argon2id cost too; without it the current \
            cost is kept. Afterwards the old password fails with "wrong password".
            """)

    @Option(help: ArgumentHelp("Read the current password from this file.", valueName: "file"))
    var passwordFile: String?

    @Option(help: ArgumentHelp("Read the new password from this file.", valueName: "file"))
    var newPasswordFile: String?

    @Option(help: VaultSupport.kdfHelp)
    var kdf: String?

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        let strength = try kdf.map(VaultSupport.strength)
        if let strength { VaultSupport.warnIfInsecure(strength) }
        let old = try Passwords.existing(file: passwordFile)
        let new = try Passwords.new(file: newPasswordFile, fileOption: "--new-password-file",
                                    environment: Passwords.newEnvironmentVariable, prompt: "New vault password: ")
        let options = VaultSupport.oneShotOptions.pool
        let keyFile = try Vault.changePassword(volumePaths: pool.volumes, old: old, new: new, strength: strength, poolOptions: options)
        print("password changed; key derivation: \(VaultSupport.kdfSummary(keyFile))")
    }
}
