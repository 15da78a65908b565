import CFuse3
import Foundation
import Glibc
import Synchronization

/// libfuse's reads and writes of /dev/fuse, routed through the driver (`fuse_custom_io`):
/// requests are looked at for what libfuse 3.14 does not pass on, and the reply to INIT is
/// amended to ask for FUSE_HANDLE_KILLPRIV_V2, which this libfuse cannot negotiate.
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
            if let userdata, let vectors {
                Unmanaged<FuseFilesystem>.fromOpaque(userdata).takeUnretainedValue().initReply.amend(vectors, count)
            }
            return Glibc.writev(device, vectors, count)
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
        let request = KernelRequest(UnsafeRawBufferPointer(start: buffer, count: received))
        census?.count(request.opcode)
        if request.opcode == Opcode.initialize {
            initReply.expect(request)
        } else if request.dropsSetIDBits {
            // Best effort: should this fail, so will the write or open that follows. The
            // kernel keeps the mode it cached (the writeback cache trusts its attributes), so
            // it is told the mode changed.
            if (try? dropSetIDBits(request.nodeID)) == true { notifier.attributesChangedNow(request.nodeID) }
        }
        return received
    }
}

/// Adds FUSE_HANDLE_KILLPRIV_V2 to libfuse's reply to INIT when the kernel offered it.
final class InitReplyAmendment: Sendable {
    static let killPrivilegesV2: UInt32 = 1 << 28

    private let enabled: Bool
    private let reports: Bool
    /// The INIT request's unique id while its reply is due; 0 otherwise.
    private let pendingUnique = Atomic<UInt64>(0)

    /// `reports`: say on standard error when the kernel was told (mount option report_init).
    init(enabled: Bool, reports: Bool) {
        self.enabled = enabled
        self.reports = reports
    }

    func expect(_ request: KernelRequest) {
        guard enabled, request.offeredFlags & Self.killPrivilegesV2 != 0 else { return }
        pendingUnique.store(request.unique, ordering: .releasing)
    }

    /// libfuse's replies are `fuse_out_header` then the arguments, in that order of vectors.
    func amend(_ vectors: UnsafeMutablePointer<iovec>, _ count: Int32) {
        let pending = pendingUnique.load(ordering: .acquiring)
        guard pending != 0, count >= 2, vectors[0].iov_len >= 16, vectors[1].iov_len >= 16,
              let header = vectors[0].iov_base, let arguments = vectors[1].iov_base,
              header.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == pending else { return }
        pendingUnique.store(0, ordering: .relaxed)
        guard header.loadUnaligned(fromByteOffset: 4, as: Int32.self) == 0 else { return }
        // fuse_init_out.flags
        let flags = arguments.loadUnaligned(fromByteOffset: 12, as: UInt32.self)
        arguments.storeBytes(of: flags | Self.killPrivilegesV2, toByteOffset: 12, as: UInt32.self)
        if reports { FileHandle.standardError.write(Data("shardvault: set-ID bits are cleared by the filesystem (FUSE_HANDLE_KILLPRIV_V2)\n".utf8)) }
    }
}
