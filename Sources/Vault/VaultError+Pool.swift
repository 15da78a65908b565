import Glibc
import VolumePool

extension VaultError {
    /// The one place storage-pool failures become vault errors: what the pool threw, with
    /// `context` (what the vault was doing) in front of its own precise message.
    init(poolFailure error: any Error, context: String? = nil) {
        let message = context.map { "\($0): \(error)" } ?? "\(error)"
        switch error {
        case let error as VaultError:
            self = error
        case let error as PoolError:
            self.init(Self.code(for: error), message)
        case let error as VolumeIOError:
            self.init(error.code == ENOSPC ? .noSpace : .io, message)
        default:
            self.init(.io, message)
        }
    }

    private static func code(for error: PoolError) -> Code {
        switch error {
        case .volumeLocked:
            return .busy
        case .wrongVolumeCount, .volumeNotEmpty, .foreignVolume, .duplicateVolume, .unknownFormatVersion,
             .damagedFormat, .invalidGeometry, .replaceRefused:
            return .invalidArgument
        case .objectNotFound:
            return .notFound
        case let .writeQuorumNotMet(_, _, _, problems) where problems.contains(where: isNoSpace):
            return .noSpace
        default:
            return .io
        }
    }

    /// The pool reports each volume's problem as text; a full disk is recognised by strerror.
    static func isNoSpace(_ problem: String) -> Bool {
        problem.contains(String(cString: strerror(ENOSPC)))
    }
}
