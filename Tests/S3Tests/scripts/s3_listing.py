"""M3: ListObjects v1/v2 and ListObjectVersions in UTF-8 byte order of full keys, with
prefix, delimiter, max-keys, markers, continuation tokens, start-after, encoding-type=url
and fetch-owner."""
import urllib.parse

from s3common import *

s3 = client()
BUCKET = "listing"
KEYS = ["a.txt", "a/b", "a/c/d", "a/c/e", "a-b", "a0", "b", "b/x", "ä/umlaut", "z/deep/er/est", "A", "a/c.txt",
        "ctl\x01char", "sp ace/f"]
KEYS = [k for k in KEYS if k != "b"]  # "b" and "b/x" cannot both exist: a key is a file or a directory
ORDERED = sorted(KEYS, key=lambda k: k.encode())


def all_keys_v2(**kwargs):
    keys, prefixes, token = [], [], None
    while True:
        args = dict(kwargs)
        if token:
            args["ContinuationToken"] = token
        page = s3.list_objects_v2(Bucket=BUCKET, **args)
        keys += [c["Key"] for c in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        if not page["IsTruncated"]:
            return keys, prefixes
        token = page["NextContinuationToken"]


@test
def v2_lists_every_key_in_utf8_byte_order():
    keys, _ = all_keys_v2(EncodingType="url")
    assert [urllib.parse.unquote(k) for k in keys] == ORDERED, keys
    assert ORDERED.index("a.txt") < ORDERED.index("a/b")


@test
def v2_pages_with_max_keys_and_continuation_tokens():
    for size in [1, 2, 3, 5]:
        keys, _ = all_keys_v2(MaxKeys=size, EncodingType="url")
        assert [urllib.parse.unquote(k) for k in keys] == ORDERED, (size, keys)


@test
def v2_delimiter_rolls_up_common_prefixes_and_pages_through_them():
    expected_keys = [k for k in ORDERED if "/" not in k]
    expected_prefixes = sorted({k.split("/")[0] + "/" for k in ORDERED if "/" in k}, key=lambda k: k.encode())
    for size in [1, 2, 1000]:
        keys, prefixes = all_keys_v2(Delimiter="/", MaxKeys=size, EncodingType="url")
        assert [urllib.parse.unquote(k) for k in keys] == expected_keys, (size, keys)
        assert [urllib.parse.unquote(p) for p in prefixes] == expected_prefixes, (size, prefixes)


@test
def v2_prefix_with_and_without_delimiter():
    keys, prefixes = all_keys_v2(Prefix="a/", Delimiter="/")
    assert keys == ["a/b", "a/c.txt"] and prefixes == ["a/c/"], (keys, prefixes)
    keys, prefixes = all_keys_v2(Prefix="a/c")
    assert keys == ["a/c.txt", "a/c/d", "a/c/e"] and prefixes == []
    keys, prefixes = all_keys_v2(Prefix="a", Delimiter="/")
    assert keys == ["a-b", "a.txt", "a0"] and prefixes == ["a/"], (keys, prefixes)
    keys, _ = all_keys_v2(Prefix="nothing-here")
    assert keys == []


@test
def v2_start_after_and_fetch_owner():
    page = s3.list_objects_v2(Bucket=BUCKET, StartAfter="a/c/d", EncodingType="url")
    keys = [urllib.parse.unquote(c["Key"]) for c in page["Contents"]]
    assert keys == [k for k in ORDERED if k.encode() > b"a/c/d"], keys
    assert "Owner" not in page["Contents"][0]
    page = s3.list_objects_v2(Bucket=BUCKET, FetchOwner=True, MaxKeys=1)
    assert page["Contents"][0]["Owner"]["ID"]
    assert page["KeyCount"] == 1


@test
def v2_other_delimiters():
    keys, prefixes = all_keys_v2(Delimiter="c", EncodingType="url")
    keys = [urllib.parse.unquote(k) for k in keys]
    expected = sorted({k[:k.index("c") + 1] for k in ORDERED if "c" in k}, key=lambda k: k.encode())
    assert [urllib.parse.unquote(p) for p in prefixes] == expected, prefixes
    assert keys == [k for k in ORDERED if "c" not in k], keys


@test
def v1_markers_and_next_marker():
    keys, marker = [], ""
    while True:
        page = s3.list_objects(Bucket=BUCKET, Marker=marker, MaxKeys=2, EncodingType="url")
        keys += [urllib.parse.unquote(c["Key"]) for c in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        marker = urllib.parse.unquote(page["NextMarker"])
    assert keys == ORDERED, keys
    page = s3.list_objects(Bucket=BUCKET, Delimiter="/", Prefix="a/")
    assert [c["Key"] for c in page["Contents"]] == ["a/b", "a/c.txt"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/c/"]
    assert page["Contents"][0]["Owner"]["ID"]


@test
def list_object_versions_for_an_unversioned_bucket():
    page = s3.list_object_versions(Bucket=BUCKET, Prefix="a/")
    versions = page["Versions"]
    assert [v["Key"] for v in versions] == [k for k in ORDERED if k.startswith("a/")]
    assert all(v["VersionId"] == "null" and v["IsLatest"] for v in versions)
    keys, marker = [], None
    while True:
        args = {"Bucket": BUCKET, "MaxKeys": 3, "EncodingType": "url"}
        if marker:
            args["KeyMarker"] = marker
        page = s3.list_object_versions(**args)
        keys += [urllib.parse.unquote(v["Key"]) for v in page.get("Versions", [])]
        if not page["IsTruncated"]:
            break
        marker = urllib.parse.unquote(page["NextKeyMarker"])
    assert keys == ORDERED


@test
def invalid_listing_arguments():
    expect_error("InvalidArgument", 400, s3.list_objects_v2, Bucket=BUCKET, ContinuationToken="%%%not-base64")
    response, _ = signed_request("GET", f"/{BUCKET}", query="list-type=2&max-keys=-1")
    assert response.status_code == 400 and s3_error_code(response) == "InvalidArgument"
    response, _ = signed_request("GET", f"/{BUCKET}", query="list-type=2&encoding-type=base64")
    assert response.status_code == 400


@test
def listing_etags_are_md5s():
    import hashlib
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix="a/b")
    assert page["Contents"][0]["ETag"] == '"%s"' % hashlib.md5(b"a/b").hexdigest()


ensure_bucket(BUCKET)
for key in KEYS:
    s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
run_all()
