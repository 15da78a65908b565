"""M4: aws-chunked uploads: STREAMING-AWS4-HMAC-SHA256-PAYLOAD with chained chunk
signatures, and the -TRAILER variants (signed and unsigned) with x-amz-checksum-* trailers.
Bodies are built by hand so tampering can be tested; boto3's own checksum header is too."""
import base64
import hashlib
import hmac
import os
import zlib

from s3common import *

s3 = client()
BUCKET = "chunked"
EMPTY = hashlib.sha256(b"").hexdigest()
DATA = os.urandom(200_000)


def crc32c(data):
    table = crc32c.table
    if table is None:
        table = crc32c.table = []
        for i in range(256):
            value = i
            for _ in range(8):
                value = (value >> 1) ^ 0x82F63B78 if value & 1 else value >> 1
            table.append(value)
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


crc32c.table = None


def checksum(algorithm, data):
    if algorithm == "crc32":
        raw = zlib.crc32(data).to_bytes(4, "big")
    elif algorithm == "crc32c":
        raw = crc32c(data).to_bytes(4, "big")
    else:
        raw = hashlib.new(algorithm, data).digest()
    return base64.b64encode(raw).decode()


def build(data, chunk_size=65536, signed=True, trailer=None, tamper=None):
    """Returns a body builder for signed_request. `trailer` = (algorithm, value);
    `tamper(chunks)` may alter the list of (header, data) pieces before they are joined."""
    def builder(context):
        previous = context["seed"]
        pieces = []
        chunks = [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)] + [b""]
        for chunk in chunks:
            if signed:
                to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", context["amz_date"], context["scope"], previous, EMPTY,
                                     hashlib.sha256(chunk).hexdigest()])
                previous = hmac.new(context["key"], to_sign.encode(), hashlib.sha256).hexdigest()
                header = f"{len(chunk):x};chunk-signature={previous}"
            else:
                header = f"{len(chunk):x}"
            pieces.append([header, chunk])
        if tamper:
            tamper(pieces)
        body = b""
        for header, chunk in pieces[:-1]:
            body += header.encode() + b"\r\n" + chunk + b"\r\n"
        body += pieces[-1][0].encode() + b"\r\n"
        if trailer:
            name = f"x-amz-checksum-{trailer[0]}"
            body += f"{name}:{trailer[1]}\r\n".encode()
            if signed:
                canonical = f"{name}:{trailer[1]}\n"
                to_sign = "\n".join(["AWS4-HMAC-SHA256-TRAILER", context["amz_date"], context["scope"], previous,
                                     hashlib.sha256(canonical.encode()).hexdigest()])
                signature = hmac.new(context["key"], to_sign.encode(), hashlib.sha256).hexdigest()
                body += f"x-amz-trailer-signature:{signature}\r\n".encode()
        body += b"\r\n"
        return body
    return builder


def put(key, scheme, data=DATA, trailer_algorithm=None, declared=None, **build_args):
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data) if declared is None else declared)}
    if trailer_algorithm:
        headers["x-amz-trailer"] = f"x-amz-checksum-{trailer_algorithm}"
    response, _ = signed_request("PUT", f"/{BUCKET}/{key}", body=build(data, **build_args), headers=headers, payload_hash=scheme)
    return response


def stored(key):
    try:
        return s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    except Exception:
        return None


SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


@test
def signed_chunks_round_trip():
    for chunk_size in [65536, 8192, 1 << 20]:
        response = put(f"signed-{chunk_size}", SIGNED, chunk_size=chunk_size)
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"%s"' % hashlib.md5(DATA).hexdigest()
        assert stored(f"signed-{chunk_size}") == DATA


@test
def tampered_chunk_data_or_signature_is_refused_and_nothing_is_stored():
    def flip_data(pieces):
        pieces[1][1] = bytes([pieces[1][1][0] ^ 1]) + pieces[1][1][1:]

    def flip_signature(pieces):
        header = pieces[2][0]
        pieces[2][0] = header[:-1] + ("0" if header[-1] != "0" else "1")

    def swap_chunks(pieces):
        pieces[0], pieces[1] = pieces[1], pieces[0]

    for name, tamper in [("data", flip_data), ("signature", flip_signature), ("order", swap_chunks)]:
        response = put(f"tampered-{name}", SIGNED, tamper=tamper)
        assert response.status_code == 403 and s3_error_code(response) == "SignatureDoesNotMatch", (name, response.text)
        assert stored(f"tampered-{name}") is None


@test
def unsigned_chunk_in_a_signed_body_is_refused():
    def strip(pieces):
        pieces[0][0] = pieces[0][0].split(";")[0]
    response = put("stripped", SIGNED, tamper=strip)
    assert response.status_code == 403, response.text


@test
def truncated_and_overlong_bodies_are_refused():
    def drop_last_data_chunk(pieces):
        del pieces[-2]
    response = put("truncated", SIGNED, tamper=drop_last_data_chunk)
    assert response.status_code in (400, 403), response.text
    assert stored("truncated") is None
    response = put("short-declared", SIGNED, declared=len(DATA) + 10)
    assert response.status_code == 400 and s3_error_code(response) == "IncompleteBody", response.text
    assert stored("short-declared") is None


@test
def signed_trailer_checksums_are_verified():
    for algorithm in ["crc32", "crc32c", "sha1", "sha256"]:
        response = put(f"trailer-{algorithm}", SIGNED_TRAILER, trailer_algorithm=algorithm,
                       trailer=(algorithm, checksum(algorithm, DATA)))
        assert response.status_code == 200, (algorithm, response.text)
        assert stored(f"trailer-{algorithm}") == DATA
    response = put("trailer-bad", SIGNED_TRAILER, trailer_algorithm="crc32c", trailer=("crc32c", checksum("crc32c", b"other")))
    assert response.status_code == 400 and s3_error_code(response) == "BadDigest", response.text
    assert stored("trailer-bad") is None


@test
def tampered_trailer_signature_is_refused():
    def builder_with_wrong_trailer(context):
        body = build(DATA, trailer=("crc32", checksum("crc32", DATA)))(context)
        return body.replace(checksum("crc32", DATA).encode(), checksum("crc32", b"x").encode())
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(DATA)),
               "x-amz-trailer": "x-amz-checksum-crc32"}
    response, _ = signed_request("PUT", f"/{BUCKET}/trailer-forged", body=builder_with_wrong_trailer, headers=headers,
                                 payload_hash=SIGNED_TRAILER)
    assert response.status_code == 403 and s3_error_code(response) == "SignatureDoesNotMatch", response.text


@test
def unsigned_trailer_checksums_are_verified():
    for algorithm in ["crc32", "crc32c", "sha1", "sha256"]:
        response = put(f"unsigned-{algorithm}", UNSIGNED_TRAILER, signed=False, trailer_algorithm=algorithm,
                       trailer=(algorithm, checksum(algorithm, DATA)))
        assert response.status_code == 200, (algorithm, response.text)
        assert stored(f"unsigned-{algorithm}") == DATA
    response = put("unsigned-bad", UNSIGNED_TRAILER, signed=False, trailer_algorithm="crc32", trailer=("crc32", "AAAAAA=="))
    assert response.status_code == 400 and s3_error_code(response) == "BadDigest", response.text
    assert stored("unsigned-bad") is None


@test
def empty_chunked_upload():
    response = put("empty", UNSIGNED_TRAILER, data=b"", signed=False, trailer_algorithm="crc32", trailer=("crc32", checksum("crc32", b"")))
    assert response.status_code == 200, response.text
    assert stored("empty") == b""


@test
def boto3_checksum_headers_are_verified():
    for algorithm in ["CRC32", "SHA1", "SHA256"]:  # CRC32C needs botocore[crt] on the client side
        s3.put_object(Bucket=BUCKET, Key=f"boto-{algorithm}", Body=DATA, ChecksumAlgorithm=algorithm)
        assert stored(f"boto-{algorithm}") == DATA
    response, _ = signed_request("PUT", f"/{BUCKET}/header-bad", body=b"data",
                                 headers={"x-amz-checksum-crc32": checksum("crc32", b"other")})
    assert response.status_code == 400 and s3_error_code(response) == "BadDigest", response.text


ensure_bucket(BUCKET)
run_all()
