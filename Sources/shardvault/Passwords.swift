import Foundation
import VaultCrypto

/// Where a password comes from, in order: a file named on the command line, an environment
/// variable, a no-echo prompt on the controlling terminal. Passwords go straight into locked
/// memory (`SecureBytes`) and never pass through a Swift String.
enum Passwords {
    static let environmentVariable = "SHARDVAULT_PASSWORD"
    static let newEnvironmentVariable = "SHARDVAULT_NEW_PASSWORD"

    /// The password of an existing vault: `--password-file`, `$SHARDVAULT_PASSWORD`, or asked
    /// once on the terminal.
    static func existing(file: String?) throws -> SecureBytes {
        try obtain(file: file, fileOption: "--password-file", environment: environmentVariable,
                   prompt: "Vault password: ", confirm: false, isNew: false)
    }

    /// A password to set: from `file` (option `fileOption`), `environment`, or asked twice on
    /// the terminal. Empty passwords are refused.
    static func new(file: String?, fileOption: String, environment: String, prompt: String) throws -> SecureBytes {
        try obtain(file: file, fileOption: fileOption, environment: environment,
                   prompt: prompt, confirm: true, isNew: true)
    }

    private static func obtain(file: String?, fileOption: String, environment: String,
                               prompt: String, confirm: Bool, isNew: Bool) throws -> SecureBytes {
        let password = try read(file: file, fileOption: fileOption, environment: environment,
                                prompt: prompt, confirm: confirm, isNew: isNew)
        if isNew && password.count == 0 {
            throw CLIFailure.usage("the new password is empty; choose a non-empty one")
        }
        return password
    }

    private static func read(file: String?, fileOption: String, environment: String,
                             prompt: String, confirm: Bool, isNew: Bool) throws -> SecureBytes {
        if let file {
            return try SecureBytes(contentsOfPasswordFile: file)
        }
        switch try SecureBytes.fromEnvironment(environment) {
        case .some(let value):
            // Not inherited by anything this process might start.
            unsetenv(environment)
            return value
        case .none:
            break
        }
        let typed: SecureBytes
        switch try Terminal.readSecret(prompt: prompt) {
        case .some(let value): typed = value
        case .none:
            throw CLIFailure.usage("no \(isNew ? "new " : "")password given and no terminal to ask on: "
                + "use \(fileOption) FILE, or set \(environment)")
        }
        if confirm {
            let again: SecureBytes
            switch try Terminal.readSecret(prompt: "Repeat to confirm: ") {
            case .some(let value): again = value
            case .none: throw CLIFailure.failed("the terminal went away while asking for the password")
            }
            guard typed.hasSameBytes(as: again) else {
                throw CLIFailure.usage("the two passwords typed do not match; nothing was done")
            }
        }
        return typed
    }
}

/// Reading a secret from the controlling terminal (/dev/tty, not stdin) with echo off.
enum Terminal {
    /// Nil when this process has no controlling terminal. Throws when the user ends input
    /// (Ctrl-D) or the line is longer than `SecureBytes.maximumPasswordBytes`.
    static func readSecret(prompt: String) throws -> SecureBytes? {
        let tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        var original = termios()
        guard tcgetattr(tty, &original) == 0 else { return nil }

        var quiet = original
        quiet.c_lflag &= ~tcflag_t(ECHO | ECHOE | ECHOK | ECHONL)
        quiet.c_lflag |= tcflag_t(ICANON)
        EchoGuard.install(descriptor: tty, original: original)
        defer {
            _ = tcsetattr(tty, TCSAFLUSH, &original)
            EchoGuard.remove()
            write(tty, "\n")  // the Enter the user typed was not echoed
        }
        guard tcsetattr(tty, TCSAFLUSH, &quiet) == 0 else {
            throw CLIFailure.failed("cannot turn off echo on the terminal: \(String(cString: strerror(errno)))")
        }
        // Only now: TCSAFLUSH drops input typed before echo went off, so the prompt must not
        // invite typing any earlier (glibc's getpass orders it the same way).
        write(tty, prompt)

        let limit = SecureBytes.maximumPasswordBytes
        let line = try SecureBytes(count: limit + 1)
        var length = 0
        var sawNewline = false
        while length <= limit {
            var byte: UInt8 = 0
            let got = read(tty, &byte, 1)
            if got < 0 {
                if errno == EINTR { continue }
                throw CLIFailure.failed("reading the password from the terminal failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            if byte == UInt8(ascii: "\n") {
                sawNewline = true
                break
            }
            line.withUnsafeMutableBytes { $0[length] = byte }
            byte = 0
            length += 1
        }
        guard length <= limit else {
            throw CLIFailure.usage("the password typed is longer than \(limit) bytes")
        }
        guard sawNewline || length > 0 else {
            throw CLIFailure.usage("no password entered (end of input on the terminal)")
        }
        if length > 0 && line.withUnsafeBytes({ $0[length - 1] }) == UInt8(ascii: "\r") { length -= 1 }
        let secret = try SecureBytes(count: length)
        line.withUnsafeBytes { source in
            secret.withUnsafeMutableBytes { target in
                if length > 0 { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[..<length])) }
            }
        }
        return secret
    }

    private static func write(_ descriptor: Int32, _ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = Glibc.write(descriptor, bytes.baseAddress, bytes.count) }
    }
}

/// Restores terminal echo if a signal (Ctrl-C, a kill) ends the process while echo is off,
/// then lets the signal do what it would have done.
private enum EchoGuard {
    nonisolated(unsafe) static var descriptor: Int32 = -1
    nonisolated(unsafe) static var original = termios()
    nonisolated(unsafe) static var previous: [Int32: sigaction] = [:]
    static let signals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    static func install(descriptor: Int32, original: termios) {
        Self.descriptor = descriptor
        Self.original = original
        previous = [:]
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                _ = tcsetattr(EchoGuard.descriptor, TCSAFLUSH, &EchoGuard.original)
                _ = Glibc.write(EchoGuard.descriptor, "\n", 1)
                Glibc.signal(signal, SIG_DFL)
                raise(signal)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0  // the handler itself restores the default action
            var old = sigaction()
            sigaction(signal, &action, &old)
            previous[signal] = old
        }
    }

    static func remove() {
        for (signal, action) in previous {
            var action = action
            sigaction(signal, &action, nil)
        }
        previous = [:]
        descriptor = -1
    }
}

extension Passwords {
    /// The password the launching `shardvault mount` wrote on a pipe (MountDaemon): exactly
    /// the bytes written, up to end of file.
    static func fromPipe(_ descriptor: Int32) throws -> SecureBytes {
        defer { close(descriptor) }
        let limit = SecureBytes.maximumPasswordBytes
        let scratch = try SecureBytes(count: limit + 1)
        var filled = 0
        while filled <= limit {
            let got = scratch.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + filled, limit + 1 - filled) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else {
                throw CLIFailure.failed("reading the password from the launching command failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            filled += got
        }
        guard filled <= limit else { throw CLIFailure.failed("the password pipe held more than \(limit) bytes") }
        let password = try SecureBytes(count: filled)
        scratch.withUnsafeBytes { source in
            password.withUnsafeMutableBytes { target in
                if filled > 0 { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[..<filled])) }
            }
        }
        return password
    }
}
