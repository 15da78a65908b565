"""Shared helpers for the S3 test scripts: clients for the daemon under test, a tiny test
runner that prints 'N passed, N failed' and exits non-zero on any failure, and raw SigV4
requests for what boto3 will not send (bad signatures, aws-chunked bodies)."""
import datetime
import hashlib
import hmac
import os
import socket
import sys
import traceback
import urllib.parse

import boto3
import botocore.config
import botocore.exceptions
import requests

ENDPOINT = os.environ["S3_ENDPOINT"]
ACCESS_KEY = os.environ["S3_ACCESS_KEY"]
SECRET_KEY = os.environ["S3_SECRET_KEY"]
REGION = "us-east-1"


def client(access_key=ACCESS_KEY, secret_key=SECRET_KEY, endpoint=ENDPOINT, addressing="path", **config):
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        region_name=REGION,
        config=botocore.config.Config(s3={"addressing_style": addressing}, retries={"max_attempts": 1}, **config))


def resolve_to_loopback(*domains):
    """Makes each of `domains` and every name under it resolve to 127.0.0.1 in this process,
    for virtual-host-style clients: glibc resolves neither "bucket.localhost" nor a test domain."""
    original = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if isinstance(name, str) and any(name == d or name.endswith("." + d) for d in domains):
            host = "127.0.0.1"
        return original(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def error_code(call, *args, **kwargs):
    """Runs a boto3 call that must fail; returns (code, http status)."""
    try:
        call(*args, **kwargs)
    except botocore.exceptions.ClientError as error:
        return error.response["Error"].get("Code"), error.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{getattr(call, '__name__', call)} succeeded but should have failed")


def expect_error(expected_code, expected_status, call, *args, **kwargs):
    code, status = error_code(call, *args, **kwargs)
    assert (code, status) == (expected_code, expected_status), f"expected {expected_code}/{expected_status}, got {code}/{status}"


_tests = []


def test(function):
    _tests.append(function)
    return function


def run_all():
    passed = failed = 0
    for function in _tests:
        try:
            function()
            passed += 1
            print(f"ok   {function.__name__}")
        except Exception:  # report every failure, run the rest
            failed += 1
            print(f"FAIL {function.__name__}")
            traceback.print_exc(file=sys.stdout)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


# --- raw SigV4 --------------------------------------------------------------------------

def _sign(key, message):
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region=REGION):
    return _sign(_sign(_sign(_sign(("AWS4" + secret).encode(), date), region), "s3"), "aws4_request")


def signed_request(method, path, body=b"", headers=None, payload_hash=None, access_key=ACCESS_KEY,
                   secret_key=SECRET_KEY, when=None, query="", host=None, send_host=None):
    """Sends a request signed by hand; `payload_hash` is what goes into x-amz-content-sha256
    (default: the real SHA-256 of `body`). `host` is the Host header signed and sent (default:
    the endpoint's), `send_host` one sent instead of it. Returns (response, signing context)."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    endpoint_host = urllib.parse.urlparse(ENDPOINT).netloc
    host = host or endpoint_host
    headers = dict(headers or {})
    payload_hash = payload_hash or hashlib.sha256(body if isinstance(body, bytes) else b"").hexdigest()
    # A callable body is built after signing, from the signing context (aws-chunked bodies).
    headers.update({"host": host, "x-amz-date": amz_date, "x-amz-content-sha256": payload_hash})
    lowered = {k.lower(): str(v).strip() for k, v in headers.items()}
    signed = sorted(lowered)
    canonical_query = "&".join(sorted(
        f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
        for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True)))
    canonical = "\n".join([method, urllib.parse.quote(path, safe="/-_.~"), canonical_query,
                           "".join(f"{name}:{lowered[name]}\n" for name in signed), ";".join(signed), payload_hash])
    scope = f"{date}/{REGION}/s3/aws4_request"
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(secret_key, date)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={signature}")
    del headers["host"]
    if (send_host or host) != endpoint_host:
        headers["Host"] = send_host or host
    url = ENDPOINT + urllib.parse.quote(path, safe="/-_.~") + (("?" + query) if query else "")
    context = {"key": key, "amz_date": amz_date, "scope": scope, "seed": signature}
    if callable(body):
        body = body(context)
    response = requests.request(method, url, data=body, headers=headers, timeout=60)
    return response, context


def s3_error_code(response):
    """The <Code> of an S3 error document."""
    text = response.text
    start = text.find("<Code>")
    return text[start + 6:text.find("</Code>")] if start >= 0 else None


def presign(method, path, expires, when=None):
    """A presigned URL made by hand (so its date can be in the past)."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    host = urllib.parse.urlparse(ENDPOINT).netloc
    query = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": f"{ACCESS_KEY}/{scope}",
             "X-Amz-Date": amz_date, "X-Amz-Expires": str(expires), "X-Amz-SignedHeaders": "host"}
    canonical_query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                               for k, v in sorted(query.items()))
    canonical = "\n".join([method, urllib.parse.quote(path, safe="/-_.~"), canonical_query, f"host:{host}\n", "host",
                           "UNSIGNED-PAYLOAD"])
    string_to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signature = hmac.new(signing_key(SECRET_KEY, amz_date[:8]), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{ENDPOINT}{urllib.parse.quote(path, safe='/-_.~')}?{canonical_query}&X-Amz-Signature={signature}"


def ensure_bucket(name):
    """Creates the bucket unless it exists (scripts may run twice against one daemon)."""
    try:
        client().create_bucket(Bucket=name)
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
