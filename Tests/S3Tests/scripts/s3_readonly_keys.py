"""Read-only key pairs (S3_RO_ACCESS_KEY / S3_RO_SECRET_KEY, made with `s3-keys add-readonly`):
a request signed with one may GET, HEAD and list — ListMultipartUploads and ListParts
included — and every PUT, POST and DELETE is AccessDenied and changes nothing. The read-write
pair (S3_ACCESS_KEY) keeps working."""
import os

import botocore.exceptions
import requests

from s3common import *

RO_ACCESS = os.environ["S3_RO_ACCESS_KEY"]
RO_SECRET = os.environ["S3_RO_SECRET_KEY"]
BUCKET = "ro-tests"
EMPTY_BUCKET = "ro-empty"
PART = b"p" * (5 << 20)

rw = client()
ro = client(access_key=RO_ACCESS, secret_key=RO_SECRET)
ro_presigner = client(access_key=RO_ACCESS, secret_key=RO_SECRET, signature_version="s3v4")

ensure_bucket(BUCKET)
ensure_bucket(EMPTY_BUCKET)
rw.put_object(Bucket=BUCKET, Key="a.txt", Body=b"alpha", ContentType="text/plain", Metadata={"colour": "blue"})
rw.put_object(Bucket=BUCKET, Key="dir/b.txt", Body=b"bravo")
rw.put_object(Bucket=BUCKET, Key="empty-dir/", Body=b"")
UPLOAD = rw.create_multipart_upload(Bucket=BUCKET, Key="pending.bin")["UploadId"]
PART_ETAG = rw.upload_part(Bucket=BUCKET, Key="pending.bin", UploadId=UPLOAD, PartNumber=1, Body=PART)["ETag"]


def snapshot():
    """Everything a change could touch, as the read-write pair sees it."""
    state = {"buckets": sorted(b["Name"] for b in rw.list_buckets()["Buckets"])}
    for bucket in state["buckets"]:
        listing = rw.list_objects_v2(Bucket=bucket)
        state[bucket] = [(o["Key"], o["ETag"], o["Size"], o["LastModified"]) for o in listing.get("Contents", [])]
        state[bucket + "/"] = [p["Prefix"] for p in rw.list_objects_v2(Bucket=bucket, Delimiter="/").get("CommonPrefixes", [])]
        state[bucket + " uploads"] = [(u["Key"], u["UploadId"]) for u in rw.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    state["parts"] = [(p["PartNumber"], p["ETag"]) for p in rw.list_parts(Bucket=BUCKET, Key="pending.bin", UploadId=UPLOAD)["Parts"]]
    head = rw.head_object(Bucket=BUCKET, Key="a.txt")
    state["a.txt"] = (head["ContentType"], head["Metadata"], rw.get_object(Bucket=BUCKET, Key="a.txt")["Body"].read())
    return state


BEFORE = snapshot()


def denied(call, **kwargs):
    try:
        call(**kwargs)
    except botocore.exceptions.ClientError as error:
        code = error.response["Error"].get("Code")
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        message = error.response["Error"].get("Message", "")
        assert (code, status) == ("AccessDenied", 403) and "read-only" in message, \
            f"{call.__name__}: {code}/{status} {message}"
        return
    raise AssertionError(f"{call.__name__} succeeded with a read-only key")


@test
def reads_and_listings_work():
    assert {b["Name"] for b in ro.list_buckets()["Buckets"]} >= {BUCKET, EMPTY_BUCKET}
    ro.head_bucket(Bucket=BUCKET)
    ro.get_bucket_location(Bucket=BUCKET)
    ro.get_bucket_versioning(Bucket=BUCKET)
    assert [o["Key"] for o in ro.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["a.txt", "dir/b.txt"]
    assert [p["Prefix"] for p in ro.list_objects(Bucket=BUCKET, Delimiter="/")["CommonPrefixes"]] == ["dir/", "empty-dir/"]
    assert [v["Key"] for v in ro.list_object_versions(Bucket=BUCKET)["Versions"]] == ["a.txt", "dir/b.txt"]
    got = ro.get_object(Bucket=BUCKET, Key="a.txt")
    assert got["Body"].read() == b"alpha" and got["Metadata"] == {"colour": "blue"}
    assert ro.get_object(Bucket=BUCKET, Key="dir/b.txt", Range="bytes=1-2")["Body"].read() == b"ra"
    assert ro.head_object(Bucket=BUCKET, Key="a.txt")["ContentLength"] == 5
    assert ro.head_object(Bucket=BUCKET, Key="empty-dir/")["ContentLength"] == 0
    expect_error("NoSuchKey", 404, ro.get_object, Bucket=BUCKET, Key="missing")


@test
def multipart_listings_work():
    uploads = ro.list_multipart_uploads(Bucket=BUCKET)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("pending.bin", UPLOAD)]
    parts = ro.list_parts(Bucket=BUCKET, Key="pending.bin", UploadId=UPLOAD)["Parts"]
    assert [(p["PartNumber"], p["ETag"]) for p in parts] == [(1, PART_ETAG)]


@test
def presigned_get_works_and_presigned_put_is_denied():
    url = ro_presigner.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "a.txt"}, ExpiresIn=300)
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"alpha", response.text
    url = ro_presigner.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "a.txt"}, ExpiresIn=300)
    response = requests.put(url, data=b"overwritten", timeout=10)
    assert response.status_code == 403 and s3_error_code(response) == "AccessDenied", response.text


@test
def every_change_is_access_denied():
    denied(ro.put_object, Bucket=BUCKET, Key="new.txt", Body=b"new")
    denied(ro.put_object, Bucket=BUCKET, Key="a.txt", Body=b"overwritten")
    denied(ro.put_object, Bucket=BUCKET, Key="new-dir/", Body=b"")
    denied(ro.delete_object, Bucket=BUCKET, Key="a.txt")
    denied(ro.delete_object, Bucket=BUCKET, Key="missing")
    denied(ro.delete_object, Bucket=BUCKET, Key="empty-dir/")
    denied(ro.delete_objects, Bucket=BUCKET, Delete={"Objects": [{"Key": "a.txt"}, {"Key": "dir/b.txt"}]})
    denied(ro.copy_object, Bucket=BUCKET, Key="copy.txt", CopySource={"Bucket": BUCKET, "Key": "a.txt"})
    denied(ro.copy_object, Bucket=BUCKET, Key="a.txt", CopySource={"Bucket": BUCKET, "Key": "a.txt"},
           MetadataDirective="REPLACE", ContentType="text/evil")
    denied(ro.create_multipart_upload, Bucket=BUCKET, Key="big.bin")
    denied(ro.upload_part, Bucket=BUCKET, Key="pending.bin", UploadId=UPLOAD, PartNumber=1, Body=b"replaced")
    denied(ro.upload_part, Bucket=BUCKET, Key="pending.bin", UploadId=UPLOAD, PartNumber=2, Body=b"second")
    denied(ro.upload_part_copy, Bucket=BUCKET, Key="pending.bin", UploadId=UPLOAD, PartNumber=2,
           CopySource={"Bucket": BUCKET, "Key": "a.txt"})
    denied(ro.complete_multipart_upload, Bucket=BUCKET, Key="pending.bin", UploadId=UPLOAD,
           MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": PART_ETAG}]})
    denied(ro.abort_multipart_upload, Bucket=BUCKET, Key="pending.bin", UploadId=UPLOAD)
    denied(ro.create_bucket, Bucket="ro-new-bucket")
    denied(ro.delete_bucket, Bucket=EMPTY_BUCKET)


@test
def hand_signed_changes_are_denied_too():
    # Unsigned and signed payloads, and a POST with a body: refused before the body matters.
    for method, path, query, body, payload_hash in [
            ("PUT", f"/{BUCKET}/raw.txt", "", b"raw", "UNSIGNED-PAYLOAD"),
            ("PUT", f"/{BUCKET}/raw.txt", "", b"raw", None),
            ("DELETE", f"/{BUCKET}/a.txt", "", b"", None),
            ("POST", f"/{BUCKET}", "delete=", b"<Delete><Object><Key>a.txt</Key></Object></Delete>", None),
            ("POST", f"/{BUCKET}/raw.txt", "uploads=", b"", None)]:
        response, _ = signed_request(method, path, body=body, payload_hash=payload_hash, query=query,
                                     access_key=RO_ACCESS, secret_key=RO_SECRET)
        assert response.status_code == 403 and s3_error_code(response) == "AccessDenied", (method, path, response.text)
        assert "read-only" in response.text, response.text


@test
def nothing_changed():
    assert snapshot() == BEFORE


@test
def the_read_write_pair_still_writes():
    rw.put_object(Bucket=BUCKET, Key="rw.txt", Body=b"written")
    assert ro.get_object(Bucket=BUCKET, Key="rw.txt")["Body"].read() == b"written"
    rw.delete_object(Bucket=BUCKET, Key="rw.txt")
    rw.abort_multipart_upload(Bucket=BUCKET, Key="pending.bin", UploadId=UPLOAD)
    assert ro.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


run_all()
