import CFuse3
import CFuseRing
import Foundation
import Glibc
import Synchronization

/// libfuse's reads and writes of /dev/fuse, routed through the driver (`fuse_custom_io`):
/// requests are looked at for what libfuse 3.14 does not pass on, the reply to INIT is
/// amended to ask for FUSE_HANDLE_KILLPRIV_V2 and FUSE over io_uring, which this libfuse
/// cannot negotiate, and replies to requests that came over io_uring go back into their
/// ring (RingQueues).
///
/// Why KILLPRIV_V2: without it the kernel asks the filesystem for `security.capability`
/// before every write(2) and reads the attributes back before every chown, to clear
/// set-ID bits itself — two of the fourteen round trips `tar -x` makes per file. With it the
/// kernel asks once per inode and leaves clearing the bits to the filesystem: on chown and
/// truncate through SETATTR's kill flag (FuseFilesystem.setattr), on a write or truncating
/// open by the flag in the request, handled here before libfuse dispatches it.
enum DeviceIO {
    static func install(on session: OpaquePointer) throws(FuseMountError) {
        var io = fuse_custom_io()
        io.read = { device, buffer, capacity, userdata in
            guard let buffer, let userdata else {
                errno = EINVAL
                return -1
            }
            return Unmanaged<FuseFilesystem>.fromOpaque(userdata).takeUnretainedValue().receive(device, buffer, capacity)
        }
        io.writev = { device, vectors, count, userdata in
            guard let userdata, let vectors else { return Glibc.writev(device, vectors, count) }
            return Unmanaged<FuseFilesystem>.fromOpaque(userdata).takeUnretainedValue().send(device, vectors, count)
        }
        let status = fuse_session_custom_io(session, &io, fuse_session_fd(session))
        guard status == 0 else { throw FuseMountError("libfuse refused the device I/O hooks: \(String(cString: strerror(-status)))") }
    }
}

extension FuseFilesystem {
    /// One request from the device (read(2)'s contract), after the driver's own look at it.
    func receive(_ device: Int32, _ buffer: UnsafeMutableRawPointer, _ capacity: Int) -> Int {
        let received = Glibc.read(device, buffer, capacity)
        guard received > 0 else { return received }
        inspect(UnsafeRawBufferPointer(start: buffer, count: received))
        return received
    }

    /// One reply or notification (writev(2)'s contract): a reply to a request that came over
    /// io_uring goes back into its ring, the rest to the device.
    func send(_ device: Int32, _ vectors: UnsafeMutablePointer<iovec>, _ count: Int32) -> Int {
        if let rings, let stored = rings.capture(vectors, count) { return stored }
        let asksForRings = initReply.amend(vectors, count)
        let sent = Glibc.writev(device, vectors, count)
        if asksForRings, sent > 0, let rings {
            rings.start(device: device) { [self] request in
                census?.countOverRing()
                inspect(request)
            }
        }
        return sent
    }

    /// The driver's own look at a request before libfuse decodes it, whichever way it came.
    func inspect(_ bytes: UnsafeRawBufferPointer) {
        let request = KernelRequest(bytes)
        census?.count(request.opcode)
        if request.opcode == Opcode.initialize {
            initReply.expect(request)
        } else if request.dropsSetIDBits {
            // Best effort: should this fail, so will the write or open that follows. The
            // kernel keeps the mode it cached (the writeback cache trusts its attributes), so
            // it is told the mode changed.
            if (try? dropSetIDBits(request.nodeID)) == true { notifier.attributesChangedNow(request.nodeID) }
        }
    }
}

/// Adds to libfuse's reply to INIT what this libfuse cannot ask for, when the kernel offered
/// it: FUSE_HANDLE_KILLPRIV_V2 (see above) and FUSE over io_uring (RingQueues).
final class InitReplyAmendment: Sendable {
    static let killPrivilegesV2: UInt32 = 1 << 28

    private let killsPrivileges: Bool
    private let usesRings: Bool
    private let reports: Bool
    /// The INIT request's unique id while its reply is due; 0 otherwise.
    private let pendingUnique = Atomic<UInt64>(0)
    /// What to add to the reply's flags and flags2.
    private let pendingFlags = Atomic<UInt32>(0)
    private let pendingFlags2 = Atomic<UInt32>(0)

    /// `reports`: say on standard error when the kernel was told (mount option report_init).
    init(killsPrivileges: Bool, usesRings: Bool, reports: Bool) {
        self.killsPrivileges = killsPrivileges
        self.usesRings = usesRings
        self.reports = reports
    }

    func expect(_ request: KernelRequest) {
        let flags = killsPrivileges ? request.offeredFlags & Self.killPrivilegesV2 : 0
        let flags2 = usesRings ? request.offeredFlags2 & UInt32(SHARDVAULT_FUSE_OVER_IO_URING_FLAGS2) : 0
        if usesRings && flags2 == 0 && reports {
            FileHandle.standardError.write(Data("shardvault: the kernel does not offer FUSE over io_uring\n".utf8))
        }
        guard flags != 0 || flags2 != 0 else { return }
        pendingFlags.store(flags | (flags2 != 0 ? UInt32(SHARDVAULT_FUSE_INIT_EXT) : 0), ordering: .relaxed)
        pendingFlags2.store(flags2, ordering: .relaxed)
        pendingUnique.store(request.unique, ordering: .releasing)
    }

    /// Amends the INIT reply if this is it; true if it now asks for io_uring.
    /// libfuse's replies are `fuse_out_header` then the arguments, in that order of vectors.
    func amend(_ vectors: UnsafeMutablePointer<iovec>, _ count: Int32) -> Bool {
        let pending = pendingUnique.load(ordering: .acquiring)
        guard pending != 0, count >= 2, vectors[0].iov_len >= 16, vectors[1].iov_len >= 16,
              let header = vectors[0].iov_base, let arguments = vectors[1].iov_base,
              header.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == pending else { return false }
        pendingUnique.store(0, ordering: .relaxed)
        guard header.loadUnaligned(fromByteOffset: 4, as: Int32.self) == 0 else { return false }
        // fuse_init_out.flags at 12, .flags2 at 32 (in replies of 7.36 and later).
        let added = pendingFlags.load(ordering: .relaxed)
        let flags = arguments.loadUnaligned(fromByteOffset: 12, as: UInt32.self)
        arguments.storeBytes(of: flags | added, toByteOffset: 12, as: UInt32.self)
        var asksForRings = false
        let flags2 = pendingFlags2.load(ordering: .relaxed)
        if flags2 != 0, vectors[1].iov_len >= 36 {
            let current = arguments.loadUnaligned(fromByteOffset: 32, as: UInt32.self)
            arguments.storeBytes(of: current | flags2, toByteOffset: 32, as: UInt32.self)
            asksForRings = true
        }
        if reports {
            if added & Self.killPrivilegesV2 != 0 {
                FileHandle.standardError.write(Data("shardvault: set-ID bits are cleared by the filesystem (FUSE_HANDLE_KILLPRIV_V2)\n".utf8))
            }
            if asksForRings {
                FileHandle.standardError.write(Data("shardvault: requests go over io_uring (\(RingQueues.possibleCPUs()) queues)\n".utf8))
            }
        }
        return asksForRings
    }
}
