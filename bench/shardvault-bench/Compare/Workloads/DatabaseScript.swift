/// The Python side of `DatabaseWorkload`, embedded so the bench needs no resource bundle and
/// written to the run's log directory. `run DB rows customers lookups joins ranges width inserts
/// updates` builds and exercises the database and prints {"phases", "results", "file_sha256"};
/// `verify DB` prints integrity_check, the file's SHA-256, counts, the amount sum and a digest of
/// every order row. Row formulas must match `DatabaseWorkload`'s.
enum DatabaseScript {
    static let fileName = "database_workload.py"

    static let source = #"""
import hashlib, json, sqlite3, sys, time

def customer(i, customers): return (i * 7) % customers + 1
def amount(i): return (i * 7919) % 10007
def note(i): return ("note %08d " % i) * 4

def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

def connect(path):
    db = sqlite3.connect(path, isolation_level=None)
    mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode != "wal":
        raise RuntimeError("journal_mode is %s, not wal" % mode)
    return db

def run(path, rows, customers, lookups, joins, ranges, width, inserts, updates):
    db = connect(path)
    phases, results = [], {}
    def timed(name, operations, work):
        start = time.perf_counter()
        value = work()
        phases.append({"name": name, "seconds": time.perf_counter() - start, "operations": operations})
        return value

    def build():
        db.execute("BEGIN")
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, region INTEGER NOT NULL)")
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, amount INTEGER NOT NULL, created INTEGER NOT NULL, note TEXT NOT NULL)")
        db.executemany("INSERT INTO customers VALUES (?, ?, ?)", ((c, "customer %d" % c, c % 8) for c in range(1, customers + 1)))
        db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                       ((i, customer(i, customers), amount(i), i, note(i)) for i in range(1, rows + 1)))
        db.execute("CREATE INDEX orders_customer ON orders(customer_id)")
        db.execute("CREATE INDEX orders_created ON orders(created)")
        db.execute("COMMIT")
    timed("build", rows + customers, build)

    def lookup():
        total = 0
        for k in range(lookups):
            total += db.execute("SELECT amount FROM orders WHERE id = ?", ((k * 104729) % rows + 1,)).fetchone()[0]
        return total
    results["lookup"] = timed("lookup", lookups, lookup)

    def join():
        total = 0
        for k in range(joins):
            count, amounts = db.execute("SELECT COUNT(*), SUM(o.amount) FROM orders o JOIN customers c ON c.id = o.customer_id "
                                        "WHERE c.id = ?", ((k * 31) % customers + 1,)).fetchone()
            total += count + (amounts or 0)
        return total
    results["join"] = timed("join", joins, join)

    def scan():
        total = 0
        for k in range(ranges):
            start = (k * 7727) % max(1, rows - width) + 1
            count, amounts = db.execute("SELECT COUNT(*), SUM(amount) FROM orders WHERE created BETWEEN ? AND ?",
                                        (start, start + width - 1)).fetchone()
            total += count + (amounts or 0)
        return total
    results["range"] = timed("range", ranges, scan)

    def batches(count, statement, row):
        for first in range(0, count, 100):
            db.execute("BEGIN")
            db.executemany(statement, (row(k) for k in range(first, min(count, first + 100))))
            db.execute("COMMIT")
    timed("insert", inserts, lambda: batches(inserts, "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
          lambda k: (rows + 1 + k, customer(rows + 1 + k, customers), amount(rows + 1 + k), rows + 1 + k, note(rows + 1 + k))))
    timed("update", updates, lambda: batches(updates, "UPDATE orders SET amount = amount + 1 WHERE id = ?",
          lambda k: ((k * 15485863) % (rows + inserts) + 1,)))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return {"phases": phases, "results": results, "file_sha256": file_sha256(path)}

def verify(path):
    digest = file_sha256(path)
    db = connect(path)
    result = {"file_sha256": digest,
              "integrity": "; ".join(r[0] for r in db.execute("PRAGMA integrity_check")),
              "orders": db.execute("SELECT COUNT(*) FROM orders").fetchone()[0],
              "customers": db.execute("SELECT COUNT(*) FROM customers").fetchone()[0],
              "amount_sum": db.execute("SELECT SUM(amount) FROM orders").fetchone()[0]}
    h = hashlib.sha256()
    for row in db.execute("SELECT id, customer_id, amount, created, note FROM orders ORDER BY id"):
        h.update(("%d|%d|%d|%d|%s\n" % row).encode())
    result["rows_sha256"] = h.hexdigest()
    db.close()
    return result

try:
    if sys.argv[1] == "run":
        out = run(sys.argv[2], *map(int, sys.argv[3:11]))
    else:
        out = verify(sys.argv[2])
except Exception as error:
    print(json.dumps({"error": "%s: %s" % (type(error).__name__, error)}))
    sys.exit(1)
print(json.dumps(out))
"""#
}
