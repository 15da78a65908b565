// OpenSSL cipher contexts are expensive to create (a provider fetch and several mallocs) but
// cheap to reuse, and a context cannot be used by two threads at once. Each cipher keeps a
// small stack of idle, already-keyed contexts: a thread pops one, uses it without holding
// any lock, and pushes it back. The lock covers two pointer moves, so it is uncontended in
// practice, and with the array's capacity reserved up front neither push nor pop mallocs.

import CLibCrypto
import Synchronization

/// A stack of idle reusable items (cipher contexts), bounded; extra items are released.
final class ContextPool<Item: Sendable>: Sendable {
    private let idle: Mutex<[Item]>
    private let maximumIdle: Int
    private let release: @Sendable (Item) -> Void

    init(maximumIdle: Int = 32, release: @escaping @Sendable (Item) -> Void) {
        var storage: [Item] = []
        storage.reserveCapacity(maximumIdle)
        self.idle = Mutex(storage)
        self.maximumIdle = maximumIdle
        self.release = release
    }

    deinit {
        let leftovers = idle.withLock { items in
            defer { items.removeAll() }
            return items
        }
        leftovers.forEach(release)
    }

    /// Runs `body` with an idle item, or one made by `make` when none is idle. An item whose
    /// use threw is released instead of reused: its internal state is unknown.
    func withItem<Value>(
        make: () throws(CryptoError) -> Item,
        _ body: (Item) throws(CryptoError) -> Value
    ) throws(CryptoError) -> Value {
        let idleItem = idle.withLock { $0.popLast() }
        let item: Item
        if let idleItem {
            item = idleItem
        } else {
            item = try make()
        }
        let value: Value
        do {
            value = try body(item)
        } catch {
            release(item)
            throw error
        }
        let kept = idle.withLock { items -> Bool in
            guard items.count < maximumIdle else { return false }
            items.append(item)
            return true
        }
        if !kept { release(item) }
        return value
    }

    var idleCount: Int {
        idle.withLock { $0.count }
    }
}

/// An `EVP_CIPHER_CTX *` as a Sendable value. Carried as an address because OpaquePointer is
/// not Sendable; ownership is managed by `ContextPool`, never by copies of this value.
struct CipherContextHandle: Sendable {
    private let address: UInt

    init(_ pointer: OpaquePointer) {
        address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(pointer)))
    }

    var pointer: OpaquePointer {
        OpaquePointer(bitPattern: address)!
    }

    /// Frees the context; OpenSSL's cipher implementations cleanse their key schedules.
    static let free: @Sendable (CipherContextHandle) -> Void = { EVP_CIPHER_CTX_free($0.pointer) }
}

/// An `EVP_CIPHER *` fetched once per cipher instance and freed with it.
final class FetchedCipher: Sendable {
    private let address: UInt
    let name: String

    init(_ name: String) throws(CryptoError) {
        guard let cipher = EVP_CIPHER_fetch(nil, name, nil) else {
            ERR_clear_error()
            throw .algorithmUnavailable(name: name)
        }
        self.name = name
        self.address = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(cipher)))
    }

    var pointer: OpaquePointer {
        OpaquePointer(bitPattern: address)!
    }

    deinit {
        EVP_CIPHER_free(pointer)
    }

    /// A new context keyed for encryption with this cipher.
    func makeContext(key: UnsafeRawBufferPointer) throws(CryptoError) -> CipherContextHandle {
        guard let context = EVP_CIPHER_CTX_new() else {
            throw CryptoLibraries.openSSLFailure("EVP_CIPHER_CTX_new")
        }
        let keyed = EVP_EncryptInit_ex2(context, pointer, key.baseAddress?.assumingMemoryBound(to: UInt8.self), nil, nil)
        guard keyed == 1 else {
            EVP_CIPHER_CTX_free(context)
            throw CryptoLibraries.openSSLFailure("EVP_EncryptInit_ex2(\(name))")
        }
        return CipherContextHandle(context)
    }
}
