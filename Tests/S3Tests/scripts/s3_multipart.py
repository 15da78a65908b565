"""M5: multipart uploads: Create, UploadPart, UploadPartCopy (with range), ListParts,
ListMultipartUploads, Complete (order, ETag and size checks) and Abort; boto3's managed
transfer uses them for large files."""
import hashlib
import io
import os

import boto3.s3.transfer

from s3common import *

s3 = client()
BUCKET = "multipart"
MIB = 1 << 20
PART1 = os.urandom(5 * MIB)
PART2 = os.urandom(5 * MIB + 17)
PART3 = os.urandom(1000)


def multipart_etag(*parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(), len(parts))


def start(key, **kwargs):
    return s3.create_multipart_upload(Bucket=BUCKET, Key=key, **kwargs)["UploadId"]


def part(key, upload, number, body):
    return s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=number, Body=body)["ETag"]


@test
def upload_list_and_complete():
    upload = start("big/object.bin", ContentType="application/x-big", Metadata={"origin": "multipart"})
    etags = [part("big/object.bin", upload, 1, PART1), part("big/object.bin", upload, 2, PART2)]
    etags.append(part("big/object.bin", upload, 3, PART3))
    assert etags[0] == '"%s"' % hashlib.md5(PART1).hexdigest()
    listed = s3.list_parts(Bucket=BUCKET, Key="big/object.bin", UploadId=upload)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == \
        [(1, etags[0], len(PART1)), (2, etags[1], len(PART2)), (3, etags[2], len(PART3))]
    page = s3.list_parts(Bucket=BUCKET, Key="big/object.bin", UploadId=upload, MaxParts=2)
    assert page["IsTruncated"] and [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    uploads = s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [("big/object.bin", upload)]
    # Nothing is visible before completion.
    expect_error("404", 404, s3.head_object, Bucket=BUCKET, Key="big/object.bin")
    result = s3.complete_multipart_upload(Bucket=BUCKET, Key="big/object.bin", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": n + 1, "ETag": e} for n, e in enumerate(etags)]})
    assert result["ETag"] == multipart_etag(PART1, PART2, PART3)
    got = s3.get_object(Bucket=BUCKET, Key="big/object.bin")
    assert got["Body"].read() == PART1 + PART2 + PART3
    assert got["ETag"] == result["ETag"] and got["ContentType"] == "application/x-big"
    assert got["Metadata"] == {"origin": "multipart"}
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=BUCKET, Key="big/object.bin", UploadId=upload)
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="big/")["Contents"]
    assert listed[0]["ETag"] == result["ETag"]


@test
def complete_checks_order_etags_and_sizes():
    upload = start("checks")
    small = part("checks", upload, 1, b"tiny")
    big = part("checks", upload, 2, PART1)
    expect_error("InvalidPartOrder", 400, s3.complete_multipart_upload, Bucket=BUCKET, Key="checks", UploadId=upload,
                 MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": big}, {"PartNumber": 1, "ETag": small}]})
    expect_error("InvalidPart", 400, s3.complete_multipart_upload, Bucket=BUCKET, Key="checks", UploadId=upload,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]})
    expect_error("InvalidPart", 400, s3.complete_multipart_upload, Bucket=BUCKET, Key="checks", UploadId=upload,
                 MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": small}]})
    expect_error("EntityTooSmall", 400, s3.complete_multipart_upload, Bucket=BUCKET, Key="checks", UploadId=upload,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": big}]})
    # A part uploaded again replaces the earlier one.
    bigger = part("checks", upload, 1, PART2)
    s3.complete_multipart_upload(Bucket=BUCKET, Key="checks", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": bigger}, {"PartNumber": 2, "ETag": big}]})
    assert s3.get_object(Bucket=BUCKET, Key="checks")["Body"].read() == PART2 + PART1


@test
def abort_removes_the_upload():
    upload = start("aborted")
    part("aborted", upload, 1, b"x" * 100)
    s3.abort_multipart_upload(Bucket=BUCKET, Key="aborted", UploadId=upload)
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=BUCKET, Key="aborted", UploadId=upload)
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=BUCKET, Key="aborted", UploadId=upload, PartNumber=1, Body=b"x")
    expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket=BUCKET, Key="aborted", UploadId="0" * 32)
    expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket=BUCKET, Key="aborted", UploadId="../../etc")
    expect_error("404", 404, s3.head_object, Bucket=BUCKET, Key="aborted")


@test
def upload_part_copy_with_range():
    s3.put_object(Bucket=BUCKET, Key="copy-source", Body=PART2)
    upload = start("from-copy")
    first = s3.upload_part_copy(Bucket=BUCKET, Key="from-copy", UploadId=upload, PartNumber=1,
                                CopySource={"Bucket": BUCKET, "Key": "copy-source"},
                                CopySourceRange=f"bytes=0-{5 * MIB - 1}")["CopyPartResult"]["ETag"]
    assert first == '"%s"' % hashlib.md5(PART2[:5 * MIB]).hexdigest()
    second = s3.upload_part_copy(Bucket=BUCKET, Key="from-copy", UploadId=upload, PartNumber=2,
                                 CopySource=f"{BUCKET}/copy-source")["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(Bucket=BUCKET, Key="from-copy", UploadId=upload,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]})
    assert s3.get_object(Bucket=BUCKET, Key="from-copy")["Body"].read() == PART2[:5 * MIB] + PART2


@test
def invalid_part_numbers():
    upload = start("numbers")
    expect_error("InvalidArgument", 400, s3.upload_part, Bucket=BUCKET, Key="numbers", UploadId=upload, PartNumber=0, Body=b"x")
    expect_error("InvalidArgument", 400, s3.upload_part, Bucket=BUCKET, Key="numbers", UploadId=upload, PartNumber=10001, Body=b"x")
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=BUCKET, Key="other-key", UploadId=upload, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=BUCKET, Key="numbers", UploadId=upload)


@test
def managed_transfer_uses_multipart():
    data = os.urandom(13 * MIB)
    config = boto3.s3.transfer.TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, max_concurrency=2)
    s3.upload_fileobj(io.BytesIO(data), BUCKET, "managed.bin", Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="managed.bin")
    assert head["ETag"].endswith('-3"'), head["ETag"]
    out = io.BytesIO()
    s3.download_fileobj(BUCKET, "managed.bin", out, Config=config)
    assert out.getvalue() == data


ensure_bucket(BUCKET)
run_all()
