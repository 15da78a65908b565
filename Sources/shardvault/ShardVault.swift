import ArgumentParser
import Foundation
import Vault
import VaultCrypto
import VolumePool

/// The `shardvault` command. Every subcommand takes the pool's volume directories as its last
/// positional arguments (`VOLUME...`), in any order; see docs/CLI.md.
@main
struct ShardVault: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shardvault",
        abstract: "An encrypted, erasure-coded filesystem over several volumes.",
        discussion: """
            Volumes are directories, given as the last arguments of every command, in any order. \
            Exit codes: 0 success, 1 scrub/heal/fsck found damage that is not (or not yet) repaired, \
            2 the operation failed (including a wrong password), 64 the command line is wrong or no \
            password source is available.
            """,
        version: "0.1.0",
        subcommands: [Init.self, Passwd.self, Status.self, Fsck.self, Heal.self, Scrub.self, Mount.self, Unmount.self, Serve.self, S3Keys.self,
                      Pool.self])

    /// Parses, runs, and turns every failure into `shardvault: <message>` on stderr and an exit
    /// code, never a crash or a backtrace.
    static func main() {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exitForParseError(error)
        }
        do {
            var command = command
            try command.run()
        } catch let failure as CLIFailure {
            Output.error(failure.message)
            Foundation.exit(failure.exitCode)
        } catch let error as VaultError where error.isWrongPassword {
            Output.error("wrong password")
            Foundation.exit(ExitStatus.failed)
        } catch let error as VaultError {
            Output.error(error.description)
            Foundation.exit(ExitStatus.failed)
        } catch CryptoError.wrongPassword {
            Output.error("wrong password")
            Foundation.exit(ExitStatus.failed)
        } catch let error as CryptoError {
            Output.error(error.description)
            Foundation.exit(ExitStatus.failed)
        } catch let error as PoolError {
            Output.error(error.description)
            Foundation.exit(ExitStatus.failed)
        } catch let error as VolumeIOError {
            Output.error(error.description)
            Foundation.exit(ExitStatus.failed)
        } catch let error as ExitCode {
            Foundation.exit(error.rawValue)
        } catch {
            // Help shown by a command group, or an ArgumentParser error raised while running.
            exitForParseError(error)
        }
        Foundation.exit(ExitStatus.success)
    }

    /// Help and --version go to stdout with status 0; mistakes on the command line print
    /// `shardvault: <what is wrong>` and the usage of the command concerned, status 64.
    private static func exitForParseError(_ error: any Error) -> Never {
        let code = exitCode(for: error)
        guard code != .success else { exit(withError: error) }
        var text = fullMessage(for: error)
        if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
        Output.error(text)
        Foundation.exit(code == .validationFailure ? ExitStatus.usage
            : code == .failure ? ExitStatus.failed : code.rawValue)
    }
}

/// `shardvault pool …`: the erasure-coded storage pool underneath a vault.
struct Pool: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the erasure-coded object pool directly (create, put, get, head, delete, list, replace).",
        subcommands: [PoolCreate.self, PoolPut.self, PoolGet.self, PoolHead.self, PoolDelete.self,
                      PoolList.self, PoolReplace.self])
}
