// A per-thread object behind a pthread key: the lock-free way the chunk pool and the bump
// arena reach "this thread's" state. Swift has no thread-local storage of its own on Linux
// that runs a destructor at thread exit, and we need the destructor to free the buffers of
// FUSE worker threads that come and go.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One lazily created `Value` per thread, released when that thread exits.
///
/// Meant for `static let`s that live as long as the process: deleting a pthread key does not
/// run destructors, so objects still attached to other threads would leak.
public final class ThreadLocalSlot<Value: AnyObject>: Sendable {
    private let key: pthread_key_t
    private let makeValue: @Sendable () -> Value

    public init(makeValue: @escaping @Sendable () -> Value) {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, releaseThreadLocalObject)
        // Only EAGAIN (out of keys, PTHREAD_KEYS_MAX = 1024) or ENOMEM can happen; both mean
        // the process is already broken.
        precondition(status == 0, "pthread_key_create failed with \(status)")
        self.key = key
        self.makeValue = makeValue
    }

    deinit {
        pthread_key_delete(key)
    }

    /// The calling thread's value, created on first use.
    ///
    /// The result is only safe to use on the calling thread; Value is typically not Sendable.
    public var current: Value {
        if let existing = pthread_getspecific(key) {
            return Unmanaged<Value>.fromOpaque(existing).takeUnretainedValue()
        }
        let value = makeValue()
        // The +1 is owned by the key and given up by `releaseThreadLocalObject` at thread exit.
        let status = pthread_setspecific(key, Unmanaged.passRetained(value).toOpaque())
        precondition(status == 0, "pthread_setspecific failed with \(status)")
        return value
    }

    /// The calling thread's value if it has one, without creating it.
    public var currentIfCreated: Value? {
        pthread_getspecific(key).map { Unmanaged<Value>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// pthread key destructor: a C function pointer cannot capture the generic `Value`, but every
/// slot stores a retained Swift object, and releasing it as AnyObject is exactly right.
/// pthread clears the slot before calling this, so a value whose deinit touches the same
/// slot again gets a fresh value (pthread repeats destructors a few rounds for that case).
#if canImport(Darwin)
private func releaseThreadLocalObject(_ pointer: UnsafeMutableRawPointer) {
    Unmanaged<AnyObject>.fromOpaque(pointer).release()
}
#else
private func releaseThreadLocalObject(_ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    Unmanaged<AnyObject>.fromOpaque(pointer).release()
}
#endif
