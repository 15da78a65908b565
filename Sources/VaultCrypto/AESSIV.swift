// AES-SIV (RFC 5297): deterministic authenticated encryption. The same plaintext and
// associated data always give the same ciphertext, which is what lets the Vault look a name
// up by encrypting it.
//
// Output layout is the RFC's: V (16-byte synthetic IV / tag) ‖ C.
//
// Built from reusable parts rather than OpenSSL's "AES-*-SIV" cipher: that context is
// single-use, and copying a keyed template per message cost 18 mallocs inside OpenSSL.
// Here each pooled slot holds two keyed AES block functions (AESBlockFunction.swift), one
// for CMAC (AESCMAC.swift) and one for the counter mode below; a message re-initialises
// nothing, and all scratch is on the stack, so steady-state seal and open do not allocate.
//
//   S2V(K1, S1…Sn):  D = CMAC(0^128)                    (fixed per key: computed at init)
//                    D = dbl(D) ⊕ CMAC(Si)              for each associated-data component
//                    T = Sn xorend D        if |Sn| ≥ 16
//                    T = dbl(D) ⊕ pad(Sn)   otherwise
//                    V = CMAC(T)
//   C = AES-CTR(K2, IV = V with bits 31 and 63 cleared, plaintext)
//       (the 128-bit counter is incremented big-endian, as OpenSSL's CTR mode does)

import CLibCrypto
import CSodium

final class AESSIV: Sendable {
    static let tagSize = 16

    /// Key bytes: 32 (AES-128-SIV), 48 (AES-192-SIV) or 64 (AES-256-SIV). The first half is
    /// the S2V (CMAC) key, the second the CTR key.
    let keySize: Int
    private let cmac: AESCMAC
    private let ctrCipher: FetchedCipher
    private let ctrKey: SecureBytes
    /// CMAC(K1, 0^128), S2V's starting value; it depends only on the key.
    private let zeroTag: SecureBytes
    private let slots: ContextPool<Slot>

    /// Counter blocks encrypted per call in CTR mode: a whole name (at most 255 bytes) in one.
    private static let counterBlocksPerCall = 16

    /// One thread's pair of keyed contexts.
    private struct Slot: Sendable {
        let cmac: CipherContextHandle
        let ctr: CipherContextHandle

        static let free: @Sendable (Slot) -> Void = {
            CipherContextHandle.free($0.cmac)
            CipherContextHandle.free($0.ctr)
        }
    }

    init(key: UnsafeRawBufferPointer) throws(CryptoError) {
        precondition([32, 48, 64].contains(key.count), "AES-SIV keys are 32, 48 or 64 bytes, got \(key.count)")
        CryptoLibraries.ensureReady()
        let half = key.count / 2
        let cmac = try AESCMAC(key: UnsafeRawBufferPointer(rebasing: key[..<half]))
        let ctrCipher = try FetchedCipher(AESBlockFunction.cipherName(keyBytes: half))
        let ctrKey = try SecureBytes(copying: UnsafeRawBufferPointer(rebasing: key[half...]))
        let slots = ContextPool<Slot>(release: Slot.free)
        // The first slot is made here, so it both computes the zero tag and is ready in the
        // pool for the first message.
        let zeroTag = try SecureBytes(count: Self.tagSize)
        try slots.withItem(make: { () throws(CryptoError) -> Slot in
            try Self.makeSlot(cmac: cmac, ctrCipher: ctrCipher, ctrKey: ctrKey)
        }) { (slot) throws(CryptoError) in
            try zeroTag.withUnsafeMutableBytes { (tag) throws(CryptoError) in
                try withUnsafeTemporaryAllocation(byteCount: Self.tagSize, alignment: 16) { (zero) throws(CryptoError) in
                    zero.initializeMemory(as: UInt8.self, repeating: 0)
                    try cmac.authenticate(UnsafeRawBufferPointer(zero), context: slot.cmac.pointer, tag: tag.baseAddress!)
                }
            }
        }
        self.keySize = key.count
        self.cmac = cmac
        self.ctrCipher = ctrCipher
        self.ctrKey = ctrKey
        self.zeroTag = zeroTag
        self.slots = slots
    }

    /// Encrypts into `output` as V ‖ C; returns plaintext.count + 16. Each element of
    /// `associatedData` is one S2V component, in order. Empty components and an empty
    /// plaintext are refused: RFC 5297 allows them, but OpenSSL's SIV (which wrote the
    /// vault's earlier names) skips them, so the two would silently disagree.
    /// `output` must not overlap the inputs.
    func seal(
        _ plaintext: UnsafeRawBufferPointer,
        associatedData: UnsafeBufferPointer<UnsafeRawBufferPointer>,
        into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int {
        precondition(!plaintext.isEmpty && associatedData.allSatisfy { !$0.isEmpty })
        let total = plaintext.count + Self.tagSize
        guard output.count >= total else { throw .bufferTooSmall(needed: total, available: output.count) }
        let tag = output.baseAddress!
        try slots.withItem(make: makeSlot) { (slot) throws(CryptoError) in
            try s2v(associatedData, plaintext, slot: slot, into: tag)
            try ctr(plaintext, tag: UnsafeRawPointer(tag), slot: slot, into: tag + Self.tagSize)
        }
        return total
    }

    /// Decrypts V ‖ C into `output`; returns the plaintext length, or nil when the input is
    /// too short or fails authentication (output is then wiped). `output` must not overlap
    /// the inputs.
    func open(
        _ sealed: UnsafeRawBufferPointer,
        associatedData: UnsafeBufferPointer<UnsafeRawBufferPointer>,
        into output: UnsafeMutableRawBufferPointer
    ) throws(CryptoError) -> Int? {
        precondition(associatedData.allSatisfy { !$0.isEmpty })
        guard sealed.count > Self.tagSize else { return nil }
        let plaintextCount = sealed.count - Self.tagSize
        guard output.count >= plaintextCount else { throw .bufferTooSmall(needed: plaintextCount, available: output.count) }
        let received = sealed.baseAddress!
        let plaintext = UnsafeMutableRawBufferPointer(rebasing: output[..<plaintextCount])
        let authentic = try slots.withItem(make: makeSlot) { (slot) throws(CryptoError) -> Bool in
            // SIV's CTR IV is the tag, so decryption comes first and S2V checks its result.
            try ctr(UnsafeRawBufferPointer(rebasing: sealed[Self.tagSize...]), tag: received, slot: slot,
                    into: plaintext.baseAddress!)
            return try withUnsafeTemporaryAllocation(byteCount: Self.tagSize, alignment: 16) {
                (expected) throws(CryptoError) -> Bool in
                try s2v(associatedData, UnsafeRawBufferPointer(plaintext), slot: slot, into: expected.baseAddress!)
                return CryptoLibraries.constantTimeEqual(expected.baseAddress!, received, count: Self.tagSize)
            }
        }
        guard authentic else {
            // Never leave unauthenticated plaintext where a caller might use it.
            sodium_memzero(plaintext.baseAddress!, plaintextCount)
            return nil
        }
        return plaintextCount
    }

    // MARK: - S2V and CTR

    /// S2V over the associated-data components then the plaintext; writes V (16 bytes).
    private func s2v(
        _ components: UnsafeBufferPointer<UnsafeRawBufferPointer>,
        _ plaintext: UnsafeRawBufferPointer,
        slot: Slot,
        into v: UnsafeMutableRawPointer
    ) throws(CryptoError) {
        let context = slot.cmac.pointer
        try withUnsafeTemporaryAllocation(byteCount: 2 * Self.tagSize, alignment: 16) { (scratch) throws(CryptoError) in
            let d = scratch.baseAddress!
            let mac = d + Self.tagSize
            defer { sodium_memzero(d, scratch.count) }
            zeroTag.withUnsafeBytes { d.copyMemory(from: $0.baseAddress!, byteCount: Self.tagSize) }
            for component in components {
                Block128.double(d)
                try cmac.authenticate(component, context: context, tag: mac)
                Block128.xor(d, mac)
            }
            if plaintext.count >= Self.tagSize {
                try cmac.authenticate(plaintext, xorEnd: d, context: context, tag: v)
            } else {
                // T = dbl(D) ⊕ pad(Sn), built in place in D: one whole block.
                Block128.double(d)
                for index in 0 ..< plaintext.count {
                    d.storeBytes(of: d.load(fromByteOffset: index, as: UInt8.self) ^ plaintext[index],
                                 toByteOffset: index, as: UInt8.self)
                }
                d.storeBytes(of: d.load(fromByteOffset: plaintext.count, as: UInt8.self) ^ 0x80,
                             toByteOffset: plaintext.count, as: UInt8.self)
                try cmac.authenticate(UnsafeRawBufferPointer(start: d, count: Self.tagSize), context: context, tag: v)
            }
        }
    }

    /// AES-CTR with the tag as IV, bits 31 and 63 cleared (RFC 5297 §2.6) so that 32- and
    /// 64-bit counter implementations agree with 128-bit ones. Encrypts and decrypts alike.
    /// The key stream is the AES of successive counter blocks, made a call's worth at a time.
    private func ctr(
        _ input: UnsafeRawBufferPointer,
        tag: UnsafeRawPointer,
        slot: Slot,
        into output: UnsafeMutableRawPointer
    ) throws(CryptoError) {
        guard !input.isEmpty else { return }
        let context = slot.ctr.pointer
        let chunk = Self.counterBlocksPerCall * Self.tagSize
        // The counter as two big-endian halves; bit 63 and bit 31, counting from the right of
        // the block, are the top bits of the low half and of its low 32 bits. With its top bit
        // clear, the low half cannot carry into the high one for any input below 2^67 bytes.
        let high = tag.loadUnaligned(as: UInt64.self)
        var low = UInt64(bigEndian: tag.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) & ~(1 << 63 | 1 << 31)
        try withUnsafeTemporaryAllocation(byteCount: chunk, alignment: 16) { (stream) throws(CryptoError) in
            let keyStream = stream.baseAddress!
            defer { sodium_memzero(keyStream, chunk) }
            var done = 0
            while done < input.count {
                let piece = min(input.count - done, chunk)
                let blocks = (piece + Self.tagSize - 1) / Self.tagSize
                for index in 0 ..< blocks {
                    keyStream.storeBytes(of: high, toByteOffset: index * Self.tagSize, as: UInt64.self)
                    keyStream.storeBytes(of: low.bigEndian, toByteOffset: index * Self.tagSize + 8, as: UInt64.self)
                    low += 1
                }
                try AESBlockFunction.encrypt(context, keyStream, count: blocks * Self.tagSize, into: keyStream)
                for index in 0 ..< piece {
                    output.storeBytes(of: input[done + index] ^ keyStream.load(fromByteOffset: index, as: UInt8.self),
                                      toByteOffset: done + index, as: UInt8.self)
                }
                done += piece
            }
        }
    }

    // MARK: - Slots

    private func makeSlot() throws(CryptoError) -> Slot {
        try Self.makeSlot(cmac: cmac, ctrCipher: ctrCipher, ctrKey: ctrKey)
    }

    private static func makeSlot(cmac: AESCMAC, ctrCipher: FetchedCipher, ctrKey: borrowing SecureBytes) throws(CryptoError) -> Slot {
        let mac = try cmac.makeContext()
        do {
            let ctr = try ctrKey.withUnsafeBytes { (key) throws(CryptoError) -> CipherContextHandle in
                try AESBlockFunction.makeContext(cipher: ctrCipher, key: key)
            }
            return Slot(cmac: mac, ctr: ctr)
        } catch {
            CipherContextHandle.free(mac)
            throw error
        }
    }
}
