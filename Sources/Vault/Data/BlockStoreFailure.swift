import VaultCrypto
import VolumePool

/// Block-specific wording for failures of block I/O; pool failures otherwise go through
/// `VaultError(poolFailure:)`, crypto failures are named with the block they concern.
///
/// Every message names the operation and the block, so an EIO in a log leads to the object
/// on the volumes. Authentication failures and damaged objects are `.io` (EIO): the data is
/// there but cannot be trusted, and nothing unauthenticated is ever returned.
enum BlockStoreFailure {
    enum Operation: CustomStringConvertible {
        case write, read, delete

        var description: String {
            switch self {
            case .write: return "writing"
            case .read: return "reading"
            case .delete: return "deleting"
            }
        }
    }

    /// Maps whatever `pool.put`/`pool.get` threw. `cryptoFailure` is the typed error the
    /// source or sink kept, because the pool passes their errors on only as text.
    static func vaultError(_ error: any Error, cryptoFailure: CryptoError?, operation: Operation,
                           block: ObjectID) -> VaultError {
        if let cryptoFailure { return vaultError(cryptoFailure, operation: operation, block: block) }
        let subject = "\(operation) block \(block.hex)"
        switch error {
        case let error as CryptoError:
            return vaultError(error, operation: operation, block: block)
        case PoolError.objectNotFound:
            return VaultError(.io, "\(subject): the block's object is missing from every volume (referenced but lost)")
        case let error as PoolError:
            if case .invalidRange = error {
                return VaultError(.io, "\(subject): the stored object is shorter than the block (truncated or replaced): \(error)")
            }
            return VaultError(poolFailure: error, context: subject)
        default:
            return VaultError(poolFailure: error, context: subject)
        }
    }

    static func vaultError(_ error: CryptoError, operation: Operation, block: ObjectID) -> VaultError {
        switch error {
        case .authenticationFailed:
            return VaultError(.io, "\(operation) block \(block.hex): content fails authentication "
                + "(damaged beyond what redundancy repairs, tampered with, or moved from another block): \(error)")
        default:
            return VaultError(.io, "\(operation) block \(block.hex): \(error)")
        }
    }

    /// The stored object's length does not match what the block's metadata says.
    static func lengthMismatch(block: ObjectID, stored: Int, expected: Int, plaintextLength: Int) -> VaultError {
        VaultError(.io, "reading block \(block.hex): its object holds \(stored) bytes but a block of "
            + "\(plaintextLength) plaintext bytes is stored as \(expected) (truncated, extended or replaced)")
    }
}
