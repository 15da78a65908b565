"""M2: buckets, PutObject/GetObject/HeadObject (ranges, conditionals, overrides, metadata),
DeleteObject(s), CopyObject, and directory semantics."""
import base64
import datetime
import hashlib

import requests

from s3common import *

s3 = client()
BUCKET = "objects"


@test
def bucket_lifecycle():
    s3.create_bucket(Bucket="lifecycle")
    s3.head_bucket(Bucket="lifecycle")
    assert "lifecycle" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    expect_error("BucketAlreadyOwnedByYou", 409, s3.create_bucket, Bucket="lifecycle")
    assert s3.get_bucket_location(Bucket="lifecycle").get("LocationConstraint") in (None, "")
    assert "Status" not in s3.get_bucket_versioning(Bucket="lifecycle")
    s3.put_object(Bucket="lifecycle", Key="deep/down/file", Body=b"x")
    expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket="lifecycle")
    s3.delete_object(Bucket="lifecycle", Key="deep/down/file")
    s3.delete_bucket(Bucket="lifecycle")  # the directories left behind do not count as content
    expect_error("404", 404, s3.head_bucket, Bucket="lifecycle")
    expect_error("NoSuchBucket", 404, s3.list_objects_v2, Bucket="lifecycle")
    expect_error("InvalidBucketName", 400, s3.create_bucket, Bucket="Bad_Name")


@test
def put_get_head_with_metadata_round_trip():
    body = bytes(range(256)) * 4096 + b"tail"
    put = s3.put_object(Bucket=BUCKET, Key="dir/sub/blob.bin", Body=body, ContentType="application/x-test",
                        ContentEncoding="identity", CacheControl="max-age=60", ContentDisposition="attachment",
                        ContentLanguage="en", Expires=datetime.datetime(2030, 1, 2, tzinfo=datetime.timezone.utc),
                        Metadata={"colour": "blue", "Mixed-Case": "Value"})
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    got = s3.get_object(Bucket=BUCKET, Key="dir/sub/blob.bin")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-test"
    assert got["ContentEncoding"] == "identity" and got["CacheControl"] == "max-age=60"
    assert got["ContentDisposition"] == "attachment" and got["ContentLanguage"] == "en"
    assert got["Metadata"] == {"colour": "blue", "mixed-case": "Value"}
    assert got["ETag"] == put["ETag"] and got["ContentLength"] == len(body)
    head = s3.head_object(Bucket=BUCKET, Key="dir/sub/blob.bin")
    assert head["ContentLength"] == len(body) and head["ETag"] == put["ETag"]
    assert abs((head["LastModified"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 120


@test
def overwrite_replaces_content_and_metadata():
    s3.put_object(Bucket=BUCKET, Key="over.txt", Body=b"one", Metadata={"a": "1"})
    s3.put_object(Bucket=BUCKET, Key="over.txt", Body=b"two!", ContentType="text/plain")
    got = s3.get_object(Bucket=BUCKET, Key="over.txt")
    assert got["Body"].read() == b"two!" and got["Metadata"] == {} and got["ContentType"] == "text/plain"


@test
def empty_object_and_default_content_type():
    put = s3.put_object(Bucket=BUCKET, Key="empty", Body=b"")
    assert put["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3.get_object(Bucket=BUCKET, Key="empty")
    assert got["Body"].read() == b"" and got["ContentType"] == "binary/octet-stream"


@test
def content_md5_mismatch_is_bad_digest_and_changes_nothing():
    s3.put_object(Bucket=BUCKET, Key="md5.txt", Body=b"kept")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    expect_error("BadDigest", 400, s3.put_object, Bucket=BUCKET, Key="md5.txt", Body=b"new", ContentMD5=wrong)
    assert s3.get_object(Bucket=BUCKET, Key="md5.txt")["Body"].read() == b"kept"
    right = base64.b64encode(hashlib.md5(b"new").digest()).decode()
    s3.put_object(Bucket=BUCKET, Key="md5.txt", Body=b"new", ContentMD5=right)
    expect_error("InvalidDigest", 400, s3.put_object, Bucket=BUCKET, Key="md5.txt", Body=b"x", ContentMD5="!!")
    # A streamed body (past the small-object path) is flushed while its MD5 is finished:
    # a mismatch must still store nothing.
    large = bytes(range(256)) * 4096 * 3 + b"tail"
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    expect_error("BadDigest", 400, s3.put_object, Bucket=BUCKET, Key="md5.txt", Body=large, ContentMD5=wrong)
    assert s3.get_object(Bucket=BUCKET, Key="md5.txt")["Body"].read() == b"new"


@test
def ranges_suffix_open_and_unsatisfiable():
    body = b"0123456789" * 10
    s3.put_object(Bucket=BUCKET, Key="range.txt", Body=body)
    got = s3.get_object(Bucket=BUCKET, Key="range.txt", Range="bytes=10-19")
    assert got["Body"].read() == body[10:20] and got["ContentRange"] == "bytes 10-19/100"
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert s3.get_object(Bucket=BUCKET, Key="range.txt", Range="bytes=95-")["Body"].read() == body[95:]
    assert s3.get_object(Bucket=BUCKET, Key="range.txt", Range="bytes=-7")["Body"].read() == body[-7:]
    assert s3.get_object(Bucket=BUCKET, Key="range.txt", Range="bytes=90-500")["Body"].read() == body[90:]
    assert s3.get_object(Bucket=BUCKET, Key="range.txt", Range="bytes=-500")["Body"].read() == body
    expect_error("InvalidRange", 416, s3.get_object, Bucket=BUCKET, Key="range.txt", Range="bytes=100-")
    response, _ = signed_request("GET", f"/{BUCKET}/range.txt", headers={"Range": "bytes=200-300"})
    assert response.status_code == 416 and response.headers["Content-Range"] == "bytes */100"


@test
def conditional_requests():
    etag = s3.put_object(Bucket=BUCKET, Key="cond.txt", Body=b"conditional")["ETag"]
    modified = s3.head_object(Bucket=BUCKET, Key="cond.txt")["LastModified"]
    assert s3.get_object(Bucket=BUCKET, Key="cond.txt", IfMatch=etag)["Body"].read() == b"conditional"
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=BUCKET, Key="cond.txt", IfMatch='"0000"')
    expect_error("304", 304, s3.get_object, Bucket=BUCKET, Key="cond.txt", IfNoneMatch=etag)
    expect_error("304", 304, s3.get_object, Bucket=BUCKET, Key="cond.txt", IfModifiedSince=modified + datetime.timedelta(seconds=5))
    assert s3.get_object(Bucket=BUCKET, Key="cond.txt", IfModifiedSince=modified - datetime.timedelta(days=1))
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=BUCKET, Key="cond.txt",
                 IfUnmodifiedSince=modified - datetime.timedelta(days=1))
    # A matching If-Match wins over a failing If-Unmodified-Since (RFC 7232).
    assert s3.get_object(Bucket=BUCKET, Key="cond.txt", IfMatch=etag, IfUnmodifiedSince=modified - datetime.timedelta(days=1))
    expect_error("304", 304, s3.head_object, Bucket=BUCKET, Key="cond.txt", IfNoneMatch="*")


@test
def response_header_overrides():
    s3.put_object(Bucket=BUCKET, Key="override.txt", Body=b"x", ContentType="text/plain")
    got = s3.get_object(Bucket=BUCKET, Key="override.txt", ResponseContentType="application/json",
                        ResponseContentDisposition="attachment; filename=x.json", ResponseCacheControl="no-cache")
    assert got["ContentType"] == "application/json" and got["CacheControl"] == "no-cache"
    assert got["ContentDisposition"] == "attachment; filename=x.json"


@test
def delete_object_and_delete_objects_quiet_and_verbose():
    for key in ["d/1", "d/2", "d/3", "d/4"]:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    s3.delete_object(Bucket=BUCKET, Key="d/1")
    s3.delete_object(Bucket=BUCKET, Key="d/never-existed")
    expect_error("404", 404, s3.head_object, Bucket=BUCKET, Key="d/1")
    result = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "d/2"}, {"Key": "d/missing"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["d/2", "d/missing"]
    result = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "d/3"}, {"Key": "d/4"}], "Quiet": True})
    assert "Deleted" not in result and "Errors" not in result
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="d/")
    assert listed["KeyCount"] == 0
    # The directory stays (as on a mount) and shows as a common prefix only.
    listed = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")
    assert "d/" in [p["Prefix"] for p in listed.get("CommonPrefixes", [])]


@test
def garbage_xml_is_malformed_xml():
    response, _ = signed_request("POST", f"/{BUCKET}", query="delete=", body=b"<Delete><Object><Key>x</Key></Obj",
                                 headers={"Content-MD5": base64.b64encode(hashlib.md5(b"<Delete><Object><Key>x</Key></Obj").digest()).decode()})
    assert response.status_code == 400 and s3_error_code(response) == "MalformedXML", response.text
    response, _ = signed_request("POST", f"/{BUCKET}", query="delete=", body=b"<NotDelete/>")
    assert response.status_code == 400 and s3_error_code(response) == "MalformedXML", response.text


@test
def copy_object_directives_and_conditions():
    s3.put_object(Bucket=BUCKET, Key="src.txt", Body=b"copy me", ContentType="text/plain", Metadata={"m": "1"})
    etag = '"%s"' % hashlib.md5(b"copy me").hexdigest()
    result = s3.copy_object(Bucket=BUCKET, Key="copies/dst.txt", CopySource={"Bucket": BUCKET, "Key": "src.txt"})
    assert result["CopyObjectResult"]["ETag"] == etag
    got = s3.get_object(Bucket=BUCKET, Key="copies/dst.txt")
    assert got["Body"].read() == b"copy me" and got["Metadata"] == {"m": "1"} and got["ContentType"] == "text/plain"
    s3.copy_object(Bucket=BUCKET, Key="copies/replaced.txt", CopySource=f"{BUCKET}/src.txt", MetadataDirective="REPLACE",
                   Metadata={"n": "2"}, ContentType="application/x-new")
    got = s3.head_object(Bucket=BUCKET, Key="copies/replaced.txt")
    assert got["Metadata"] == {"n": "2"} and got["ContentType"] == "application/x-new"
    expect_error("InvalidRequest", 400, s3.copy_object, Bucket=BUCKET, Key="src.txt", CopySource=f"{BUCKET}/src.txt")
    s3.copy_object(Bucket=BUCKET, Key="src.txt", CopySource=f"{BUCKET}/src.txt", MetadataDirective="REPLACE", Metadata={"self": "yes"})
    assert s3.head_object(Bucket=BUCKET, Key="src.txt")["Metadata"] == {"self": "yes"}
    expect_error("PreconditionFailed", 412, s3.copy_object, Bucket=BUCKET, Key="copies/x", CopySource=f"{BUCKET}/src.txt",
                 CopySourceIfMatch='"nope"')
    expect_error("PreconditionFailed", 412, s3.copy_object, Bucket=BUCKET, Key="copies/x", CopySource=f"{BUCKET}/src.txt",
                 CopySourceIfNoneMatch=etag)
    expect_error("NoSuchKey", 404, s3.copy_object, Bucket=BUCKET, Key="copies/x", CopySource=f"{BUCKET}/absent")


@test
def directory_semantics():
    s3.put_object(Bucket=BUCKET, Key="tree/empty-dir/", Body=b"")
    assert s3.head_object(Bucket=BUCKET, Key="tree/empty-dir/")["ContentLength"] == 0
    s3.put_object(Bucket=BUCKET, Key="tree/file", Body=b"f")
    # A key through a file, or a file key over a directory: a stable 409.
    expect_error("ParentIsObject", 409, s3.put_object, Bucket=BUCKET, Key="tree/file/below", Body=b"x")
    expect_error("ParentIsObject", 409, s3.put_object, Bucket=BUCKET, Key="tree/file/", Body=b"")
    expect_error("ObjectExistsAsDirectory", 409, s3.put_object, Bucket=BUCKET, Key="tree/empty-dir", Body=b"x")
    expect_error("ObjectExistsAsDirectory", 409, s3.copy_object, Bucket=BUCKET, Key="tree/empty-dir", CopySource=f"{BUCKET}/tree/file")
    expect_error("404", 404, s3.head_object, Bucket=BUCKET, Key="tree/empty-dir")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=BUCKET, Key="tree/file/below")
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="tree/", Delimiter="/")
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["tree/empty-dir/"]
    assert [c["Key"] for c in listed["Contents"]] == ["tree/file"]
    assert [c["Key"] for c in s3.list_objects_v2(Bucket=BUCKET, Prefix="tree/")["Contents"]] == ["tree/file"]
    s3.delete_object(Bucket=BUCKET, Key="tree/empty-dir/")
    assert "CommonPrefixes" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="tree/", Delimiter="/")


@test
def bad_keys_get_clear_errors_and_the_daemon_keeps_serving():
    for key, code in [("a/../b", "InvalidObjectName"), ("a/./b", "InvalidObjectName"), ("a//b", "InvalidObjectName"),
                      ("x" * 300, "KeyTooLongError"), ("k" * 1025, "KeyTooLongError")]:
        expect_error(code, 400, s3.put_object, Bucket=BUCKET, Key=key, Body=b"x")
    response, _ = signed_request("PUT", f"/{BUCKET}/nul\x00byte", body=b"x")
    assert response.status_code == 400, response.text
    expect_error("NoSuchBucket", 404, s3.put_object, Bucket="no-such-bucket", Key="k", Body=b"x")
    assert s3.list_buckets()["Buckets"]


@test
def unicode_and_special_character_keys():
    keys = ["ünïcödé/ファイル.txt", "space key.txt", "plus+sign", "percent%41", "q?mark", "hash#tag", "semi;colon=eq&amp"]
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key="special/" + key, Body=key.encode())
        assert s3.get_object(Bucket=BUCKET, Key="special/" + key)["Body"].read() == key.encode()
    listed = [c["Key"] for c in s3.list_objects_v2(Bucket=BUCKET, Prefix="special/")["Contents"]]
    assert listed == sorted(("special/" + k for k in keys), key=lambda k: k.encode()), listed


ensure_bucket(BUCKET)
run_all()
