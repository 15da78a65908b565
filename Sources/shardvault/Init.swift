import ArgumentParser
import Vault
import VaultCrypto
import VolumePool

/// `shardvault init [--data K] [--parity M] [--kdf STRENGTH] [--password-file F] VOLUME...`
struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a new encrypted vault over empty (or not yet existing) directories.",
        discussion: """
            Default geometry 4+2 (1+0 when exactly one volume is given and neither --data nor \
            --parity). The password comes from --password-file, else $SHARDVAULT_PASSWORD, else it \
            is asked twice on the terminal (without echo); with none of these the command fails \
            with status 64 and creates nothing. Default --kdf: \(Init.defaultKDF.rawValue).
            """)

    /// Chosen in docs/CLI.md ("Choosing --kdf"), from measurements on the development machine.
    static let defaultKDF = KDFStrength.moderate

    @Option(name: .customLong("data"), help: ArgumentHelp("Data shards per object (k, 1…16). Default 4.", valueName: "K"))
    var dataShards: Int?

    @Option(name: .customLong("parity"), help: ArgumentHelp("Parity shards per object (m, 0…8): volumes that may be lost. Default 2.", valueName: "M"))
    var parityShards: Int?

    @Option(help: VaultSupport.kdfHelp)
    var kdf = Init.defaultKDF.rawValue

    @Option(help: ArgumentHelp("Read the password from this file (one trailing newline is ignored).", valueName: "file"))
    var passwordFile: String?

    @OptionGroup var pool: VolumeArguments

    func run() throws {
        let strength = try VaultSupport.strength(kdf)
        let single = pool.volumes.count == 1 && dataShards == nil && parityShards == nil
        let k = dataShards ?? (single ? 1 : 4)
        let m = parityShards ?? (single ? 0 : 2)
        // Everything that can be refused is refused before the password is asked for.
        try VaultSupport.preflightCreate(paths: pool.volumes, dataShards: k, parityShards: m)
        VaultSupport.warnIfInsecure(strength)
        let password = try Passwords.new(file: passwordFile, fileOption: "--password-file",
                                         environment: Passwords.environmentVariable, prompt: "New vault password: ")
        try Vault.create(volumePaths: pool.volumes, dataShards: k, parityShards: m, password: password, strength: strength)
        let (vaultID, volumes, keyFile) = try pool.withPool { pool in
            (pool.vaultID, pool.volumeStatus(), try Vault.storedKeyFile(in: pool))
        }
        let quorum = m == 0 ? k : k + 1
        print("created vault \(vaultID)")
        print("geometry: \(k)+\(m) (\(k) data + \(m) parity shards), write quorum \(quorum), survives the loss of \(m) volume(s)")
        if let keyFile {
            print("key derivation: \(VaultSupport.kdfSummary(keyFile)); content cipher \(keyFile.contentAlgorithm)")
        }
        print(Output.table([["INDEX", "VOLUME ID", "LOCATION"]]
            + volumes.map { ["\($0.index)", $0.volumeID, $0.location ?? "-"] }))
    }
}
