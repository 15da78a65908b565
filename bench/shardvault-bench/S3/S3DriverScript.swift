/// The Python driver every target is measured with (boto3 for S3, http.client for nginx),
/// kept here so the bench binary needs no resource bundle; written to the scratch directory
/// at run time. Protocol: one JSON command per line on stdin, one JSON reply per line on
/// stdout (`S3Driver` is the other side).
enum S3DriverScript {
    static let fileName = "s3_bench_driver.py"

    static let source = #"""
"""shardvault-bench s3: the one client every target is measured with.

Reads one JSON command per line on stdin, answers one JSON line on stdout. Bodies are
made and checksummed before the clock starts and verified after it stops, and GET bodies
of 1 MiB and more land in memory made before it starts, so timings hold only requests and
the copying of bodies in and out of the client."""
import hashlib
import http.client
import json
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.config
import botocore.exceptions

clients = {}   # target -> (boto3 client, bucket)
digests = {}   # (target-or-"http", key) -> SHA-256 of the body PUT/written
_base = None


def base_block():
    # 64 MiB of seeded random bytes: incompressible, and the same in every run.
    global _base
    if _base is None:
        _base = random.Random(0x5333_4245_4E43_48).randbytes(64 << 20)
    return _base


def body(size, index):
    """Object `index` of `size` bytes: an 8-byte stamp (so every key differs), then the
    random block, tiled past 64 MiB."""
    stamp = index.to_bytes(8, "little")
    if size <= 8:
        return stamp[:size]
    block = base_block()
    rest = size - 8
    offset = (index * 4099) % (len(block) // 2) if rest <= len(block) // 2 else 0
    if offset + rest <= len(block):
        return stamp + block[offset:offset + rest]
    whole, tail = divmod(rest, len(block))
    return stamp + block * whole + block[:tail]


def key(prefix, index):
    return f"{prefix}/{index:06d}"


def timed(count, workers, work):
    """Runs work(i) for i in range(count) on `workers` threads; returns wall and CPU seconds."""
    cpu = time.process_time()
    start = time.perf_counter()
    if workers <= 1:
        for i in range(count):
            work(i)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(work, range(count)):
                pass
    return time.perf_counter() - start, time.process_time() - cpu


def drop_expect_header(request, **_):
    if "Expect" in request.headers:
        del request.headers["Expect"]


def setup(c):
    config = botocore.config.Config(
        # Same settings for every target: path-style, no payload hashing or checksums
        # (UNSIGNED-PAYLOAD), so the client spends as little CPU as possible per byte.
        s3={"addressing_style": "path", "payload_signing_enabled": False},
        request_checksum_calculation="when_required", response_checksum_validation="when_required",
        retries={"max_attempts": 1}, max_pool_connections=64, connect_timeout=10, read_timeout=120)
    client = boto3.client("s3", endpoint_url=c["endpoint"], aws_access_key_id=c["accessKey"],
                          aws_secret_access_key=c["secretKey"], region_name="us-east-1", config=config)
    # No "Expect: 100-continue" on PUTs, for every target: against the MinIO-based JuiceFS
    # gateway, botocore + urllib3 2 mis-parse "100 Continue" followed by "200 OK" on a kept-alive
    # connection and then wait forever for a body that never comes.
    client.meta.events.register("before-sign.s3.PutObject", drop_expect_header)
    try:
        client.create_bucket(Bucket=c["bucket"])
    except botocore.exceptions.ClientError as error:
        if error.response["Error"].get("Code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    client.head_bucket(Bucket=c["bucket"])
    clients[c["target"]] = (client, c["bucket"])
    return {}


def put(c):
    client, bucket = clients[c["target"]]
    size, count = c["size"], c["count"]
    bodies = [body(size, i) for i in range(count)]
    for i, data in enumerate(bodies):
        digests[(c["target"], key(c["prefix"], i))] = hashlib.sha256(data).digest()
    seconds, cpu = timed(count, c["clients"],
                         lambda i: client.put_object(Bucket=bucket, Key=key(c["prefix"], i), Body=bodies[i]))
    return {"seconds": seconds, "cpuSeconds": cpu, "operations": count, "bytes": size * count}


def verify(owner, prefix, size, received):
    for i, data in enumerate(received):
        name = key(prefix, i)
        if len(data) != size:
            raise AssertionError(f"{name}: got {len(data)} bytes, expected {size}")
        if hashlib.sha256(data).digest() != digests[(owner, name)]:
            raise AssertionError(f"{name}: the bytes read differ from the bytes written")


# Bodies of this size and more are read into memory made before the clock starts. Read
# whole, every body is a fresh allocation of its size whose pages the client faults in while
# the clock runs: on the 2-core VM that cost 0.8 s of client CPU per GiB in this driver's own
# sequence and up to 4 s when no recently freed memory was at hand (0.3-0.5 s read this
# way), so the row measured the client's page faults as much as the server, on every target.
PREALLOCATED_BODY_BYTES = 1 << 20
READ_CHUNK_BYTES = 8 << 20


def body_memory(size, count):
    """Room for `count` bodies of `size` (None below the threshold), touched now."""
    if size < PREALLOCATED_BODY_BYTES:
        return None
    return memoryview(bytearray(size * count))  # bytearray(n) writes zeros: every page is faulted in here


def read_body(stream, memory, size, index, name):
    """The body of `stream` (anything with read(amt)): into slot `index` of `memory`, or whole."""
    if memory is None:
        return stream.read()
    view, filled = memory[index * size:(index + 1) * size], 0
    while chunk := stream.read(READ_CHUNK_BYTES):
        if filled + len(chunk) > size:
            raise AssertionError(f"{name}: more than {size} bytes")
        view[filled:filled + len(chunk)] = chunk
        filled += len(chunk)
    return view[:filled]


def get(c):
    client, bucket = clients[c["target"]]
    size, count = c["size"], c["count"]
    received = [None] * count
    memory = body_memory(size, count)

    def work(i):
        name = key(c["prefix"], i)
        received[i] = read_body(client.get_object(Bucket=bucket, Key=name)["Body"], memory, size, i, name)
    seconds, cpu = timed(count, c["clients"], work)
    verify(c["target"], c["prefix"], size, received)
    return {"seconds": seconds, "cpuSeconds": cpu, "operations": count, "bytes": size * count, "verified": count}


def head(c):
    client, bucket = clients[c["target"]]
    size, count = c["size"], c["count"]
    lengths = [None] * count

    def work(i):
        lengths[i] = client.head_object(Bucket=bucket, Key=key(c["prefix"], i))["ContentLength"]
    seconds, cpu = timed(count, c["clients"], work)
    wrong = [i for i, n in enumerate(lengths) if n != size]
    if wrong:
        raise AssertionError(f"HEAD {key(c['prefix'], wrong[0])}: Content-Length {lengths[wrong[0]]}, expected {size}")
    return {"seconds": seconds, "cpuSeconds": cpu, "operations": count, "bytes": 0}


def list_keys(client, bucket, prefix):
    names, token = [], None
    while True:
        extra = {"ContinuationToken": token} if token else {}
        page = client.list_objects_v2(Bucket=bucket, Prefix=prefix + "/", MaxKeys=1000, **extra)
        names.extend(item["Key"] for item in page.get("Contents", []))
        if not page.get("IsTruncated"):
            return names
        token = page["NextContinuationToken"]


def listing(c):
    client, bucket = clients[c["target"]]
    expected = [key(c["prefix"], i) for i in range(c["count"])]
    results = [None] * c["repeat"]

    def work(i):
        results[i] = list_keys(client, bucket, c["prefix"])
    seconds, cpu = timed(c["repeat"], 1, work)
    for names in results:
        if names != expected:
            raise AssertionError(f"LIST {c['prefix']}/: {len(names)} keys, expected {len(expected)} in order")
    return {"seconds": seconds, "cpuSeconds": cpu, "operations": c["repeat"], "bytes": 0}


def delete(c):
    client, bucket = clients[c["target"]]
    names = list_keys(client, bucket, c["prefix"])
    # One DELETE per key: the MinIO-based gateway wants Content-MD5 on DeleteObjects, which
    # botocore no longer sends. Untimed.
    timed(len(names), 16, lambda i: client.delete_object(Bucket=bucket, Key=names[i]))
    return {"deleted": len(names)}


def write_files(c):
    """Files for the plain HTTP server, with the same bodies as the S3 objects."""
    import os
    directory = c["directory"] + "/" + c["prefix"]
    os.makedirs(directory, exist_ok=True)
    for i in range(c["count"]):
        data = body(c["size"], i)
        with open(c["directory"] + "/" + key(c["prefix"], i), "wb") as file:
            file.write(data)
        digests[("http", key(c["prefix"], i))] = hashlib.sha256(data).digest()
    return {}


_local = threading.local()


def http_get(c):
    """GET over plain http.client, one kept-alive connection per thread."""
    size, count = c["size"], c["count"]
    received = [None] * count
    memory = body_memory(size, count)
    generation = object()  # a fresh connection per command: threads of an old pool are gone

    def work(i):
        if getattr(_local, "generation", None) is not generation:
            _local.connection = http.client.HTTPConnection(c["host"], c["port"], timeout=120)
            _local.generation = generation
        _local.connection.request("GET", "/" + key(c["prefix"], i))
        response = _local.connection.getresponse()
        data = read_body(response, memory, size, i, key(c["prefix"], i))
        if response.status != 200:
            raise AssertionError(f"GET /{key(c['prefix'], i)}: HTTP {response.status}")
        received[i] = data
    seconds, cpu = timed(count, c["clients"], work)
    verify("http", c["prefix"], size, received)
    return {"seconds": seconds, "cpuSeconds": cpu, "operations": count, "bytes": size * count, "verified": count}


def hello(c):
    import botocore
    return {"versions": {"python": sys.version.split()[0], "boto3": boto3.__version__, "botocore": botocore.__version__}}


commands = {"hello": hello, "setup": setup, "put": put, "get": get, "head": head, "list": listing, "delete": delete,
            "write_files": write_files, "http_get": http_get}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        try:
            reply = commands[command["cmd"]](command)
            reply["ok"] = True
        except Exception as error:  # reported to the bench, which notes it and skips the target
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"[:2000]}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
"""#
}
