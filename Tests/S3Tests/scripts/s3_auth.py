"""M1: SigV4 header auth, payload hashes, clock skew, presigned URLs, error documents, and
that bad input never stops the daemon."""
import datetime
import hashlib
import socket
import urllib.parse

import requests

from s3common import *

s3 = client()
# boto3 presigns with signature version 2 unless told otherwise; this server speaks SigV4 only.
presigner = client(signature_version="s3v4")
BUCKET = "auth-tests"
ensure_bucket(BUCKET)


@test
def signed_put_and_get_round_trip():
    s3.put_object(Bucket=BUCKET, Key="hello.txt", Body=b"hello, vault")
    assert s3.get_object(Bucket=BUCKET, Key="hello.txt")["Body"].read() == b"hello, vault"


@test
def unknown_access_key_is_invalid_access_key_id():
    expect_error("InvalidAccessKeyId", 403, client(access_key="SVNOSUCHKEY000000000").list_buckets)


@test
def wrong_secret_is_signature_does_not_match():
    expect_error("SignatureDoesNotMatch", 403, client(secret_key="wrong" * 8).list_buckets)


@test
def anonymous_request_is_access_denied():
    response = requests.get(ENDPOINT + "/", timeout=10)
    assert response.status_code == 403 and s3_error_code(response) == "AccessDenied", response.text


@test
def skew_over_15_minutes_is_request_time_too_skewed():
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=16)
    response, _ = signed_request("GET", "/", when=when)
    assert response.status_code == 403 and s3_error_code(response) == "RequestTimeTooSkewed", response.text
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    response, _ = signed_request("GET", "/", when=when)
    assert response.status_code == 200, response.text


@test
def unsigned_payload_is_accepted():
    response, _ = signed_request("PUT", f"/{BUCKET}/unsigned.bin", body=b"abc", payload_hash="UNSIGNED-PAYLOAD")
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"%s"' % hashlib.md5(b"abc").hexdigest()


@test
def signed_payload_hash_is_verified_before_the_object_is_visible():
    good = hashlib.sha256(b"original").hexdigest()
    response, _ = signed_request("PUT", f"/{BUCKET}/checked.bin", body=b"original", payload_hash=good)
    assert response.status_code == 200, response.text
    # The header claims the hash of other bytes: refused, and the old object stays as it was.
    response, _ = signed_request("PUT", f"/{BUCKET}/checked.bin", body=b"tampered", payload_hash=good)
    assert response.status_code == 400 and s3_error_code(response) == "XAmzContentSHA256Mismatch", response.text
    assert s3.get_object(Bucket=BUCKET, Key="checked.bin")["Body"].read() == b"original"
    response, _ = signed_request("PUT", f"/{BUCKET}/never.bin", body=b"tampered", payload_hash=good)
    assert response.status_code == 400
    expect_error("404", 404, s3.head_object, Bucket=BUCKET, Key="never.bin")


@test
def tampered_signature_is_refused():
    response, context = signed_request("GET", "/")
    assert response.status_code == 200
    authorization = response.request.headers["Authorization"]
    flipped = authorization[:-1] + ("0" if authorization[-1] != "0" else "1")
    headers = dict(response.request.headers)
    headers["Authorization"] = flipped
    response = requests.get(ENDPOINT + "/", headers=headers, timeout=10)
    assert response.status_code == 403 and s3_error_code(response) == "SignatureDoesNotMatch", response.text
    assert "<StringToSign>" in response.text


@test
def presigned_get_and_put_work_with_plain_http():
    url = presigner.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "presigned.txt"}, ExpiresIn=300)
    assert requests.put(url, data=b"via presigned put", timeout=10).status_code == 200
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "presigned.txt"}, ExpiresIn=300)
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"via presigned put", response.text


@test
def presigned_url_expires_and_is_limited_to_seven_days():
    assert requests.get(presign("GET", f"/{BUCKET}/hello.txt", 300), timeout=10).status_code == 200
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    response = requests.get(presign("GET", f"/{BUCKET}/hello.txt", 60, when=old), timeout=10)
    assert response.status_code == 403 and s3_error_code(response) == "AccessDenied", response.text
    assert "expired" in response.text
    response = requests.get(presign("GET", f"/{BUCKET}/hello.txt", 7 * 24 * 3600 + 1), timeout=10)
    assert response.status_code == 400 and s3_error_code(response) == "AuthorizationQueryParametersError", response.text
    assert requests.get(presign("GET", f"/{BUCKET}/hello.txt", 7 * 24 * 3600), timeout=10).status_code == 200


@test
def presigned_url_with_altered_key_is_refused():
    url = presigner.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "hello.txt"}, ExpiresIn=300)
    response = requests.get(url.replace("hello.txt", "other.txt"), timeout=10)
    assert response.status_code == 403 and s3_error_code(response) == "SignatureDoesNotMatch", response.text


@test
def signature_version_2_presigned_urls_are_refused_clearly():
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "hello.txt"}, ExpiresIn=300)
    response = requests.get(url, timeout=10)
    assert response.status_code == 403 and "signature version 2" in response.text, response.text


@test
def unknown_operations_are_not_implemented():
    expect_error("NotImplemented", 501, s3.get_bucket_policy, Bucket=BUCKET)
    expect_error("NotImplemented", 501, s3.put_object_tagging, Bucket=BUCKET, Key="hello.txt",
                 Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    response, _ = signed_request("PATCH", f"/{BUCKET}/hello.txt")
    assert response.status_code in (405, 501), response.text


@test
def garbage_on_the_socket_does_not_stop_the_daemon():
    host, port = urllib.parse.urlparse(ENDPOINT).netloc.split(":")
    for garbage in [b"\x00\x01\x02 not http\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 200000 + b"\r\n\r\n",
                    b"PUT /auth-tests/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort"]:
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            try:
                connection.sendall(garbage)
                connection.shutdown(socket.SHUT_WR)
                connection.recv(65536)
            except OSError:
                pass
    assert s3.list_buckets()["Buckets"]


@test
def error_documents_are_s3_xml():
    response, _ = signed_request("GET", f"/{BUCKET}/no-such-key")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/xml"
    assert "<Error><Code>NoSuchKey</Code>" in response.text and "<RequestId>" in response.text
    assert response.headers.get("x-amz-request-id")


run_all()
