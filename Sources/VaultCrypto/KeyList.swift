// The plaintext that the key file wraps: a list of master keys, built and parsed entirely in
// locked memory.
//
//     count (2, LE) ‖ count × [ purpose (2, LE) ‖ length (2, LE) ‖ key bytes ]

extension MasterKeys {
    /// The key list in locked memory, ready to be wrapped.
    func serializedKeyList() throws(CryptoError) -> SecureBytes {
        let size = 2 + entries.reduce(0) { $0 + 4 + $1.length }
        let list = try SecureBytes(count: size)
        try withAllKeyBytes { (keys) throws(CryptoError) in
            list.withUnsafeMutableBytes { out in
                out.storeBytes(of: UInt16(entries.count).littleEndian, toByteOffset: 0, as: UInt16.self)
                var offset = 2
                for entry in entries {
                    out.storeBytes(of: entry.purpose.rawValue.littleEndian, toByteOffset: offset, as: UInt16.self)
                    out.storeBytes(of: UInt16(entry.length).littleEndian, toByteOffset: offset + 2, as: UInt16.self)
                    (out.baseAddress! + offset + 4).copyMemory(from: keys.baseAddress! + entry.offset, byteCount: entry.length)
                    offset += 4 + entry.length
                }
            }
        }
        return list
    }

    /// Master keys from an unwrapped (so authenticated) key list. Every standard purpose
    /// must be present with its length; unknown purposes are kept as they are.
    static func parse(keyList: UnsafeRawBufferPointer) throws(CryptoError) -> MasterKeys {
        func malformed(_ reason: String) -> CryptoError {
            .damagedKeyFile(reason: "the unwrapped key list is malformed: \(reason)")
        }
        guard keyList.count >= 2 else { throw malformed("no entry count") }
        let count = Int(UInt16(littleEndian: keyList.loadUnaligned(fromByteOffset: 0, as: UInt16.self)))
        var entries: [Entry] = []
        var offset = 2
        var keyBytes = 0
        for _ in 0..<count {
            guard offset + 4 <= keyList.count else { throw malformed("entry header past the end") }
            let purpose = KeyPurpose(rawValue: UInt16(littleEndian: keyList.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            let length = Int(UInt16(littleEndian: keyList.loadUnaligned(fromByteOffset: offset + 2, as: UInt16.self)))
            guard offset + 4 + length <= keyList.count else { throw malformed("\(purpose) key past the end") }
            guard !entries.contains(where: { $0.purpose == purpose }) else { throw malformed("\(purpose) key twice") }
            if let required = purpose.requiredLength, required != length {
                throw malformed("\(purpose) key is \(length) bytes, expected \(required)")
            }
            entries.append(Entry(purpose: purpose, offset: keyBytes, length: length))
            keyBytes += length
            offset += 4 + length
        }
        guard offset == keyList.count else { throw malformed("\(keyList.count - offset) trailing bytes") }
        for (purpose, _) in KeyPurpose.standard where !entries.contains(where: { $0.purpose == purpose }) {
            throw .missingKey(purpose: purpose.description)
        }

        let storage = try SecureBytes(count: keyBytes)
        storage.withUnsafeMutableBytes { out in
            var source = 2
            for entry in entries {
                (out.baseAddress! + entry.offset).copyMemory(from: keyList.baseAddress! + source + 4, byteCount: entry.length)
                source += 4 + entry.length
            }
        }
        return MasterKeys(entries: entries, storage: storage)
    }
}
