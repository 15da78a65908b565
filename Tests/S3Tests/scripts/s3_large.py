"""A large single PUT and GET streamed through presigned URLs (no multipart), checking the
content's MD5 both ways and that the daemon's resident memory grows by at most 64 MiB
beyond what it had after a warm-up object (the vault's chunk cache is bounded and fills
during the warm-up). S3_LARGE_BYTES sets the size (default 1 GiB); S3_DAEMON_PID the
process to watch."""
import hashlib
import os
import threading
import time

import requests

from s3common import *

SIZE = int(os.environ.get("S3_LARGE_BYTES", str(1 << 30)))
PID = int(os.environ["S3_DAEMON_PID"])
BUCKET = "large"
BLOCK = os.urandom(1 << 20)


def rss_bytes():
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakWatcher:
    def __init__(self):
        self.peak = 0
        self.running = True
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()

    def watch(self):
        while self.running:
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.05)

    def stop(self):
        self.running = False
        self.thread.join()
        return self.peak


def body(size):
    sent = 0
    while sent < size:
        chunk = BLOCK[:min(len(BLOCK), size - sent)]
        sent += len(chunk)
        yield chunk


class StreamedBody:
    """A file-like body of known length: requests streams it with Content-Length (a
    generator would make it send Transfer-Encoding: chunked as well, which is invalid)."""

    def __init__(self, size):
        self.chunks = body(size)
        self.size = size
        self.pending = b""

    def __len__(self):
        return self.size

    def read(self, amount=-1):
        while len(self.pending) < max(amount, 1):
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.pending += chunk
        amount = len(self.pending) if amount is None or amount < 0 else amount
        out, self.pending = self.pending[:amount], self.pending[amount:]
        return out


def expected_md5(size):
    digest = hashlib.md5()
    for chunk in body(size):
        digest.update(chunk)
    return digest.hexdigest()


def put_and_get(key, size):
    presigner = client(signature_version="s3v4")
    url = presigner.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=3600)
    response = requests.put(url, data=StreamedBody(size), timeout=600)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"%s"' % expected_md5(size)
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=3600)
    digest = hashlib.md5()
    received = 0
    with requests.get(url, stream=True, timeout=600) as response:
        assert response.status_code == 200
        for chunk in response.iter_content(chunk_size=1 << 20):
            digest.update(chunk)
            received += len(chunk)
    assert received == size and digest.hexdigest() == expected_md5(size)


@test
def large_put_and_get_stream_in_bounded_memory():
    put_and_get("warm-up", 256 << 20)
    baseline = rss_bytes()
    watcher = PeakWatcher()
    try:
        put_and_get("large.bin", SIZE)
    finally:
        peak = watcher.stop()
    growth = peak - baseline
    print(f"size {SIZE >> 20} MiB: RSS baseline {baseline >> 20} MiB, peak {peak >> 20} MiB, growth {growth >> 20} MiB")
    assert growth <= 64 << 20, f"RSS grew by {growth >> 20} MiB"


ensure_bucket(BUCKET)
run_all()
