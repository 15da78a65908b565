import CFuse3
import Vault

/// A vault FileHandle carried through the kernel in `fuse_file_info.fh`.
///
/// The kernel stores one 64-bit number per open file; a retained box's address is that
/// number, so no table or lock is needed to find the handle again. `open`/`create` retain,
/// `release` takes the retain back.
final class OpenFileBox {
    let handle: FileHandle
    /// O_APPEND without the writeback cache: each write goes to the current end of file.
    let appends: Bool

    init(_ handle: FileHandle, appends: Bool) {
        self.handle = handle
        self.appends = appends
    }

    /// Stores a retained box in `file.fh`.
    static func attach(_ handle: FileHandle, appends: Bool, to file: UnsafeMutablePointer<fuse_file_info>) {
        let box = OpenFileBox(handle, appends: appends)
        file.pointee.fh = UInt64(UInt(bitPattern: Unmanaged.passRetained(box).toOpaque()))
    }

    /// The box of an open file, still owned by the kernel's open file.
    static func borrow(_ file: UnsafeMutablePointer<fuse_file_info>?) throws(VaultError) -> OpenFileBox {
        guard let file, let address = UnsafeRawPointer(bitPattern: UInt(file.pointee.fh)) else {
            throw VaultError(.badHandle, "no open file handle")
        }
        return Unmanaged<OpenFileBox>.fromOpaque(address).takeUnretainedValue()
    }

    /// Takes the box back from the kernel at release; `file.fh` must not be used afterwards.
    static func detach(_ file: UnsafeMutablePointer<fuse_file_info>?) throws(VaultError) -> OpenFileBox {
        let box = try borrow(file)
        Unmanaged.passUnretained(box).release()
        file?.pointee.fh = 0
        return box
    }
}
