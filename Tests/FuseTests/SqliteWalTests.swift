import Foundation
import Glibc
import Testing

/// SQLite in WAL mode in the mount: one writer process commits transactions while three
/// reader processes query snapshots. WAL mode leans on what a FUSE file system most easily
/// gets wrong: a shared mapping of the -shm index written by several processes, POSIX
/// locks, and reads of a file another process is appending to.
@Suite(.serialized)
struct SqliteWalTests {
    static let transactions = 600
    static let rowsPerTransaction = 20
    static let readers = 3

    @Test func walWriterWithConcurrentReaders() throws {
        guard Shell.require("python3", package: "python3") else { return }
        let vault = try MountedVault()
        defer { vault.stop() }
        let script = Shell.quote(vault.root + "/wal.py")
        try Self.script.write(toFile: vault.root + "/wal.py", atomically: true, encoding: .utf8)
        let database = Shell.quote(vault.path("db/app.sqlite"))
        let doneFlag = Shell.quote(vault.root + "/writer-done")
        try FileManager.default.createDirectory(atPath: vault.path("db"), withIntermediateDirectories: false)

        let setUp = try Shell.run("python3 \(script) setup \(database)")
        try #require(setUp.succeeded && setUp.output.contains("wal"), "setup: \(setUp.tail)")

        let started = Date()
        let readers = try (0 ..< Self.readers).map { _ in
            try Shell.start("python3 \(script) read \(database) \(Self.rowsPerTransaction) \(doneFlag)")
        }
        // The flag is written when the writer has finished, however it finished, so the
        // readers always stop.
        let writer = try Shell.start("""
            trap "touch \(doneFlag)" EXIT
            python3 \(script) write \(database) \(Self.transactions) \(Self.rowsPerTransaction)
            """)
        let written = writer.wait(timeout: 180)
        let read = readers.map { $0.wait(timeout: 60) }
        #expect(written.succeeded, "writer: \(written.tail)")
        for (index, result) in read.enumerated() {
            #expect(result.succeeded, "reader \(index): \(result.tail)")
            // "queries N last-committed M": every reader saw the writer's work as it went.
            let fields = result.output.split(whereSeparator: \.isWhitespace)
            if fields.count == 4, let queries = Int(fields[1]), let last = Int(fields[3]) {
                #expect(queries > 10, "reader \(index) ran only \(queries) queries while the writer worked")
                #expect(last == Self.transactions, "reader \(index) ended at \(last) transactions")
            } else {
                Issue.record("reader \(index) printed: \(result.output)")
            }
        }
        print(String(format: "sqlite WAL: %d transactions with %d readers in %.1f s", Self.transactions, Self.readers,
                     Date().timeIntervalSince(started)))

        // Checked in the mount, and again after a remount (so from the volumes).
        let expectedDigest = written.output.split(separator: "\n").last.map(String.init) ?? "missing"
        let checked = try Shell.run("python3 \(script) check \(database) \(Self.transactions * Self.rowsPerTransaction)")
        #expect(checked.succeeded && checked.output.contains(expectedDigest), "check: \(checked.tail); writer: \(expectedDigest)")
        try #require(vault.unmountBySignal() == 0, "daemon log: \(vault.log())")
        try vault.mount()
        let remounted = try Shell.run("python3 \(script) check \(database) \(Self.transactions * Self.rowsPerTransaction)")
        #expect(remounted.succeeded && remounted.output.contains(expectedDigest), "after remount: \(remounted.tail)")
    }

    /// setup | write | read | check; every failure is an exception (exit 1) with a message.
    static let script = #"""
        import hashlib, os, random, sqlite3, sys, time

        def connect(path):
            return sqlite3.connect(path, timeout=60, isolation_level=None)

        def digest(con):
            h = hashlib.md5()
            for (tx, payload) in con.execute("SELECT tx, payload FROM items ORDER BY id"):
                h.update(tx.to_bytes(4, "little")); h.update(payload)
            return h.hexdigest()

        command, path = sys.argv[1], sys.argv[2]
        if command == "setup":
            con = connect(path)
            print(con.execute("PRAGMA journal_mode=WAL").fetchone()[0])
            con.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, tx INTEGER NOT NULL, payload BLOB NOT NULL)")
            con.execute("CREATE INDEX items_tx ON items(tx)")
            con.execute("CREATE TABLE meta(committed INTEGER NOT NULL)")
            con.execute("INSERT INTO meta VALUES (0)")
        elif command == "write":
            transactions, rows = int(sys.argv[3]), int(sys.argv[4])
            con = connect(path)
            con.execute("PRAGMA synchronous=NORMAL")
            rng = random.Random(4)
            for t in range(transactions):
                if t == transactions - 20:  # the last ones fsync the WAL at every commit
                    con.execute("PRAGMA synchronous=FULL")
                con.execute("BEGIN IMMEDIATE")
                for _ in range(rows):
                    con.execute("INSERT INTO items(tx, payload) VALUES (?, ?)", (t, rng.randbytes(rng.randrange(50, 4000))))
                if t % 7 == 3:  # some updates and deletes, inside the same transaction
                    con.execute("UPDATE items SET payload = ? WHERE id = (SELECT max(id) FROM items)", (rng.randbytes(999),))
                    con.execute("DELETE FROM items WHERE id = (SELECT min(id) FROM items WHERE tx = ?)", (t,))
                    con.execute("INSERT INTO items(tx, payload) VALUES (?, ?)", (t, b"replacement"))
                con.execute("UPDATE meta SET committed = ?", (t + 1,))
                con.execute("COMMIT")
                if t % 60 == 59:
                    con.execute("PRAGMA wal_checkpoint(PASSIVE)")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            print(digest(con))
        elif command == "read":
            rows, done_flag = int(sys.argv[3]), sys.argv[4]
            con = connect(path)
            queries, last = 0, 0
            while True:
                finished = os.path.exists(done_flag)
                con.execute("BEGIN")  # one snapshot for both queries
                committed = con.execute("SELECT committed FROM meta").fetchone()[0]
                count, top = con.execute("SELECT count(*), coalesce(max(tx), -1) FROM items").fetchone()
                per_tx = con.execute("SELECT count(*) FROM items WHERE tx = ?", (max(committed - 1, 0),)).fetchone()[0]
                con.execute("COMMIT")
                if count != committed * rows or top != committed - 1 or (committed and per_tx != rows):
                    raise SystemExit(f"inconsistent snapshot: committed {committed}, rows {count}, max tx {top}, last tx rows {per_tx}")
                if committed < last:
                    raise SystemExit(f"went back in time: {committed} after {last}")
                last, queries = committed, queries + 1
                if finished:
                    break
                time.sleep(0.01)  # leave the two cores to the writer and the daemon
            print(f"queries {queries} last-committed {last}")
        elif command == "check":
            expected_rows = int(sys.argv[3])
            con = connect(path)
            result = con.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                raise SystemExit(f"integrity_check: {result}")
            count = con.execute("SELECT count(*) FROM items").fetchone()[0]
            if count != expected_rows:
                raise SystemExit(f"{count} rows, expected {expected_rows}")
            print(digest(con))
        """#
}
