import Glibc

/// Every failure of a vault operation: a POSIX-shaped code plus the context that explains it.
/// The mapping to errno lives here, in one place; the S3 door maps from `code` as well.
public struct VaultError: Error, Equatable, CustomStringConvertible {
    public enum Code: Equatable, Sendable {
        case notFound, exists, notDirectory, isDirectory, notEmpty, invalidArgument
        case nameTooLong, notPermitted, accessDenied, noAttribute, notSupported, tooManyLinks
        case fileTooLarge, noSpace, io, readOnly, badHandle, rangeNotSatisfiable, argumentListTooLong, busy
    }

    public var code: Code
    public var context: String

    public init(_ code: Code, _ context: String) {
        self.code = code
        self.context = context
    }

    public var errno: Int32 {
        switch code {
        case .notFound: return ENOENT
        case .exists: return EEXIST
        case .notDirectory: return ENOTDIR
        case .isDirectory: return EISDIR
        case .notEmpty: return ENOTEMPTY
        case .invalidArgument: return EINVAL
        case .nameTooLong: return ENAMETOOLONG
        case .notPermitted: return EPERM
        case .accessDenied: return EACCES
        case .noAttribute: return ENODATA
        case .notSupported: return EOPNOTSUPP
        case .tooManyLinks: return EMLINK
        case .fileTooLarge: return EFBIG
        case .noSpace: return ENOSPC
        case .io: return EIO
        case .readOnly: return EROFS
        case .badHandle: return EBADF
        case .rangeNotSatisfiable: return EINVAL
        case .argumentListTooLong: return E2BIG
        case .busy: return EBUSY
        }
    }

    /// The context alone: it already says what failed and why; the errno is for the doors.
    public var description: String { context }
}
