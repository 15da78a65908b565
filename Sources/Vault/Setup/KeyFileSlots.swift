import VaultCrypto
import VolumePool

/// The key file lives in the pool, erasure-coded like everything else (so a damaged copy on
/// up to m volumes does not matter), under two fixed, unkeyed ids: it must be found before
/// any key is known. A password change writes the other slot and only then removes the old
/// one, so a crash in between never leaves the vault without a readable key file.
struct KeyFileSlots {
    static let slotIDs = [ObjectID(high: 0x5356_4B45_5946_494C, low: 0),  // "SVKEYFIL"
                          ObjectID(high: 0x5356_4B45_5946_494C, low: 1)]

    let pool: VolumePool

    struct Stored {
        var file: KeyFile
        var slot: Int
        var generation: UInt64
    }

    /// Every readable key file, newest first.
    func load() throws(VaultError) -> [Stored] {
        var stored: [Stored] = []
        var problems: [String] = []
        for (slot, id) in Self.slotIDs.enumerated() {
            do {
                let info = try pool.head(id)
                let file = try KeyFile(parsing: try pool.get(id))
                stored.append(Stored(file: file, slot: slot, generation: info.generation))
            } catch PoolError.objectNotFound {
                continue
            } catch {
                problems.append("key file slot \(slot): \(error)")
            }
        }
        guard !stored.isEmpty else {
            if problems.isEmpty {
                throw VaultError(.notFound, "these volumes hold a storage pool but no vault key file (was `shardvault init` run?)")
            }
            throw VaultError(.io, "no readable key file: " + problems.joined(separator: "; "))
        }
        return stored.sorted { $0.generation > $1.generation }
    }

    /// Unlocks with the newest key file the password opens.
    func unlock(password: borrowing SecureBytes) throws(VaultError) -> (Stored, MasterKeys) {
        try firstOpening { (file) throws(CryptoError) in try file.unlock(password: password) }
    }

    /// Runs `open` on each readable key file, newest first, and returns the first success. A
    /// wrong password moves on to the older slot; any other failure stops there.
    func firstOpening<Result>(_ open: (KeyFile) throws(CryptoError) -> Result) throws(VaultError) -> (Stored, Result) {
        var lastError: CryptoError = .wrongPassword
        for candidate in try load() {
            do {
                return (candidate, try open(candidate.file))
            } catch {
                lastError = error
                if case .wrongPassword = error { continue }
                break
            }
        }
        throw VaultError(lastError)
    }

    /// Stores `file` in the slot not used by `current` (slot 0 for a new vault), then
    /// removes the other slot.
    func replace(_ current: Stored?, with file: KeyFile) throws(VaultError) {
        let slot = current.map { 1 - $0.slot } ?? 0
        do {
            try pool.put(Self.slotIDs[slot], bytes: file.serialized(), durable: true)
        } catch {
            throw VaultError(poolFailure: error, context: "writing the key file")
        }
        try? pool.delete(Self.slotIDs[1 - slot])
    }
}

extension VaultError {
    /// The one place crypto failures become vault errors.
    init(_ error: CryptoError) {
        switch error {
        case .wrongPassword:
            self.init(.accessDenied, "wrong password")
        case .nameTooLong:
            self.init(.nameTooLong, "\(error)")
        case .invalidName:
            self.init(.invalidArgument, "\(error)")
        default:
            self.init(.io, "\(error)")
        }
    }
}
