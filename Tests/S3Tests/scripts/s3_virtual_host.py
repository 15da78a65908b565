"""Virtual-host-style addressing (Host: BUCKET.DOMAIN, path /KEY) next to path style, on a
daemon started with the base domains in S3_DOMAINS (comma-separated). With S3_DOMAINS empty
the daemon has none, and a bucket-looking host must be ignored (path style only).
S3_VHOST_QUICK=1 runs the round trip only (for the mount daemon)."""
import hashlib
import os
import urllib.parse

import requests

from s3common import *

DOMAINS = [d for d in os.environ.get("S3_DOMAINS", "").split(",") if d]
QUICK = os.environ.get("S3_VHOST_QUICK") == "1"
PORT = urllib.parse.urlparse(ENDPOINT).port
BUCKET = "vhost-bucket"
resolve_to_loopback("localhost", "example.test")

path_style = client()


def virtual(domain="localhost", **config):
    """A boto3 client in virtual-host style against http://DOMAIN:PORT that records the URL of
    every request it sends (so the tests can see the bucket went into the host)."""
    s3 = client(endpoint=f"http://{domain}:{PORT}", addressing="virtual", signature_version="s3v4", **config)
    s3.sent_urls = []
    s3.meta.events.register("before-send.s3", lambda request, **_: s3.sent_urls.append(request.url))
    return s3


def sent_to_host(s3, host):
    assert s3.sent_urls, "no request was sent"
    netloc = urllib.parse.urlparse(s3.sent_urls[-1]).netloc
    assert netloc == f"{host}:{PORT}", f"boto3 sent {s3.sent_urls[-1]}, not to {host}"


def md5(data):
    return '"%s"' % hashlib.md5(data).hexdigest()


def with_domains(function):
    return test(function) if DOMAINS and (not QUICK or function.__name__ == "virtual_host_round_trip") else function


@with_domains
def virtual_host_round_trip():
    s3 = virtual()
    s3.create_bucket(Bucket=BUCKET)
    sent_to_host(s3, f"{BUCKET}.localhost")
    keys = {"plain.txt": b"plain", "dir/sub/nested.txt": b"nested", "with space+plus.txt": b"spaced", "ü/€.txt": b"utf8"}
    for key, body in keys.items():
        assert s3.put_object(Bucket=BUCKET, Key=key, Body=body)["ETag"] == md5(body)
        sent_to_host(s3, f"{BUCKET}.localhost")
    for key, body in keys.items():
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body
        assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == len(body)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert listed == sorted(keys, key=lambda k: k.encode()), listed
    assert [p["Prefix"] for p in s3.list_objects(Bucket=BUCKET, Delimiter="/")["CommonPrefixes"]] == ["dir/", "ü/"]
    s3.head_bucket(Bucket=BUCKET)
    sent_to_host(s3, f"{BUCKET}.localhost")
    # The same objects through path style, and the other way round.
    assert path_style.get_object(Bucket=BUCKET, Key="dir/sub/nested.txt")["Body"].read() == b"nested"
    path_style.put_object(Bucket=BUCKET, Key="from-path.txt", Body=b"path style")
    assert s3.get_object(Bucket=BUCKET, Key="from-path.txt")["Body"].read() == b"path style"
    s3.delete_object(Bucket=BUCKET, Key="from-path.txt")
    expect_error("404", 404, path_style.head_object, Bucket=BUCKET, Key="from-path.txt")
    # A presigned GET in virtual-host style: the URL's host carries the bucket, the path the key.
    url = virtual().generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "ü/€.txt"}, ExpiresIn=300)
    parsed = urllib.parse.urlparse(url)
    assert parsed.netloc == f"{BUCKET}.localhost:{PORT}" and parsed.path == "/%C3%BC/%E2%82%AC.txt", url
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"utf8", response.text


@with_domains
def presigned_put_and_tampered_presigned_url():
    s3 = virtual()
    url = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "presigned.txt"}, ExpiresIn=300)
    assert urllib.parse.urlparse(url).netloc.startswith(BUCKET + "."), url
    assert requests.put(url, data=b"presigned put", timeout=10).status_code == 200
    assert path_style.get_object(Bucket=BUCKET, Key="presigned.txt")["Body"].read() == b"presigned put"
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "presigned.txt"}, ExpiresIn=300)
    # Another bucket in the host: the host is signed, so the URL does not open it.
    path_style.create_bucket(Bucket="vhost-other")
    path_style.put_object(Bucket="vhost-other", Key="presigned.txt", Body=b"other bucket")
    response = requests.get(url.replace(f"//{BUCKET}.", "//vhost-other."), timeout=10)
    assert response.status_code == 403 and s3_error_code(response) == "SignatureDoesNotMatch", response.text


@with_domains
def copies_deletes_and_multipart_in_virtual_host_style():
    s3 = virtual()
    s3.copy_object(Bucket=BUCKET, Key="copy.txt", CopySource={"Bucket": BUCKET, "Key": "plain.txt"})
    assert path_style.get_object(Bucket=BUCKET, Key="copy.txt")["Body"].read() == b"plain"
    deleted = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "copy.txt"}, {"Key": "missing"}]})
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["copy.txt", "missing"], deleted
    sent_to_host(s3, f"{BUCKET}.localhost")
    expect_error("404", 404, path_style.head_object, Bucket=BUCKET, Key="copy.txt")
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key="multi/part.bin")["UploadId"]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]] == [upload]
    first, second = b"a" * (5 << 20), b"tail"
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=BUCKET, Key="multi/part.bin", UploadId=upload,
                                                       PartNumber=n, Body=body)["ETag"]}
             for n, body in [(1, first), (2, second)]]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=BUCKET, Key="multi/part.bin", UploadId=upload)["Parts"]] == [1, 2]
    s3.complete_multipart_upload(Bucket=BUCKET, Key="multi/part.bin", UploadId=upload, MultipartUpload={"Parts": parts})
    assert path_style.get_object(Bucket=BUCKET, Key="multi/part.bin")["Body"].read() == first + second


@with_domains
def second_domain_and_dotted_bucket_names():
    assert "s3.example.test" in DOMAINS, DOMAINS
    s3 = virtual("s3.example.test")
    s3.create_bucket(Bucket="vhost-second")
    sent_to_host(s3, "vhost-second.s3.example.test")
    s3.put_object(Bucket="vhost-second", Key="k", Body=b"second")
    assert path_style.get_object(Bucket="vhost-second", Key="k")["Body"].read() == b"second"
    assert s3.get_object(Bucket=BUCKET, Key="plain.txt")["Body"].read() == b"plain"
    sent_to_host(s3, f"{BUCKET}.s3.example.test")
    # boto3 keeps dotted bucket names path style; by hand, every label before the domain is
    # the bucket (and the longest configured domain wins: not "dotted.bucket.name.s3").
    response, _ = signed_request("PUT", "/", host=f"dotted.bucket.name.s3.example.test:{PORT}")
    assert response.status_code == 200, response.text
    response, _ = signed_request("PUT", "/k", body=b"dotted", host=f"dotted.bucket.name.s3.example.test:{PORT}")
    assert response.status_code == 200, response.text
    assert path_style.get_object(Bucket="dotted.bucket.name", Key="k")["Body"].read() == b"dotted"


@with_domains
def bare_domain_and_ip_hosts_are_path_style():
    for endpoint in [f"http://localhost:{PORT}", f"http://s3.example.test:{PORT}", ENDPOINT]:
        s3 = client(endpoint=endpoint)
        assert BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]
        assert s3.get_object(Bucket=BUCKET, Key="plain.txt")["Body"].read() == b"plain"
    # A host under no configured domain is path style too.
    response, _ = signed_request("GET", f"/{BUCKET}/plain.txt", host=f"{BUCKET}.elsewhere.test:{PORT}")
    assert response.status_code == 200 and response.content == b"plain", response.text


@with_domains
def hand_signed_hosts_route_by_bucket():
    # Case and a trailing dot do not matter in a host name.
    for host in [f"{BUCKET}.localhost:{PORT}", f"{BUCKET.upper()}.LocalHost:{PORT}", f"{BUCKET}.localhost.:{PORT}",
                 f"{BUCKET}.localhost"]:
        response, _ = signed_request("GET", "/plain.txt", host=host)
        assert response.status_code == 200 and response.content == b"plain", (host, response.text)
    response, _ = signed_request("GET", "/", host=f"{BUCKET}.localhost:{PORT}", query="list-type=2&prefix=dir/")
    assert response.status_code == 200 and "<Key>dir/sub/nested.txt</Key>" in response.text, response.text
    response, _ = signed_request("GET", "/plain.txt", host=f"no-such-bucket.localhost:{PORT}")
    assert response.status_code == 404 and s3_error_code(response) == "NoSuchBucket", response.text
    response, _ = signed_request("GET", "/missing.txt", host=f"{BUCKET}.localhost:{PORT}")
    assert response.status_code == 404 and s3_error_code(response) == "NoSuchKey", response.text
    assert f"<Resource>/{BUCKET}/missing.txt</Resource>" in response.text, response.text
    # The bucket is in the signed host header: sending another host breaks the signature.
    response, _ = signed_request("GET", "/plain.txt", host=f"{BUCKET}.localhost:{PORT}",
                                 send_host=f"vhost-other.localhost:{PORT}")
    assert response.status_code == 403 and s3_error_code(response) == "SignatureDoesNotMatch", response.text


def without_domains(function):
    return test(function) if not DOMAINS else function


@without_domains
def without_domains_a_bucket_host_is_ignored():
    ensure_bucket(BUCKET)
    path_style.put_object(Bucket=BUCKET, Key="plain.txt", Body=b"plain")
    # Path style: "/plain.txt" names a bucket called plain.txt, whatever the host says.
    response, _ = signed_request("GET", "/plain.txt", host=f"{BUCKET}.localhost:{PORT}")
    assert response.status_code == 404 and s3_error_code(response) == "NoSuchBucket", response.text
    response, _ = signed_request("GET", f"/{BUCKET}/plain.txt", host=f"{BUCKET}.localhost:{PORT}")
    assert response.status_code == 200 and response.content == b"plain", response.text


run_all()
