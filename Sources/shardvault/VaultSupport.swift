import ArgumentParser
import Foundation
import Vault
import VaultCrypto
import VolumePool

/// Helpers shared by the vault commands (`init`, `passwd`, `fsck`, and the vault part of `status`).
enum VaultSupport {
    /// `--kdf interactive|moderate|sensitive|test`.
    static func strength(_ text: String) throws -> KDFStrength {
        guard let strength = KDFStrength(rawValue: text) else {
            throw CLIFailure.usage("invalid --kdf '\(text)': expected one of "
                + KDFStrength.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return strength
    }

    static let kdfHelp = ArgumentHelp(
        "Argon2id cost: interactive (64 MiB), moderate (256 MiB), sensitive (1 GiB), or test (insecure, for test suites only).",
        valueName: "strength")

    /// Printed whenever a vault is given the `test` KDF.
    static func warnIfInsecure(_ strength: KDFStrength) {
        if strength.isInsecure {
            Output.error("warning: --kdf test makes the password trivial to brute-force; use it only for tests "
                + "(change it later with `shardvault passwd --kdf moderate`)")
        }
    }

    /// One-shot commands open the vault without the pool's background healer.
    static var oneShotOptions: Vault.Options {
        var options = Vault.Options()
        options.pool.healsInBackground = false
        return options
    }

    /// "Argon2id moderate (3 passes, 256 MiB)", with the insecure flag spelled out.
    static func kdfSummary(_ file: KeyFile) -> String {
        let base = "Argon2id \(file.strength.rawValue) (\(file.kdf.opsLimit) pass\(file.kdf.opsLimit == 1 ? "" : "es"), "
            + "\(Output.bytes(Int(file.kdf.memLimit))))"
        return file.isInsecure ? base + " — INSECURE: made with --kdf test, for tests only" : base
    }

    /// `init`'s checks of the volume paths before asking for a password, so a refusal does not
    /// come after typing it twice. `VolumePool.create` repeats them and stays authoritative.
    static func preflightCreate(paths: [String], dataShards k: Int, parityShards m: Int) throws {
        guard (1 ... 16).contains(k), (0 ... 8).contains(m) else {
            throw PoolError.invalidGeometry("data shards must be 1…16 and parity shards 0…8, got \(k)+\(m)")
        }
        guard paths.count == k + m else {
            throw PoolError.wrongVolumeCount(given: paths.count, dataShards: k, parityShards: m)
        }
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            guard isDirectory.boolValue else {
                throw PoolError.volumeNotEmpty(path: path, reason: "it is a file, not a directory")
            }
            let formatFile = URL(fileURLWithPath: path).appendingPathComponent(VolumeFormat.fileName)
            if let data = try? Data(contentsOf: formatFile),
               let existing = try? JSONDecoder().decode(VolumeFormat.self, from: data) {
                throw PoolError.volumeNotEmpty(path: path, reason: "it already belongs to vault \(existing.vaultID)")
            }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            let unexpected = entries.filter { $0 != "lost+found" }.sorted()
            guard unexpected.isEmpty else {
                throw PoolError.volumeNotEmpty(path: path, reason: "it is not empty (\(unexpected.prefix(3).joined(separator: ", "))…)")
            }
        }
    }
}

extension VaultError {
    /// The key file is intact but the password does not open it (see `VaultError(CryptoError)`).
    var isWrongPassword: Bool { code == .accessDenied && context.hasPrefix("wrong password") }
}
