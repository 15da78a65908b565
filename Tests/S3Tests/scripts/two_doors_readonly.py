"""Against `mount -o ro,s3=...` of a vault where two_doors_persist.py wrote: reads work
through both doors, and every S3 request that would change something is AccessDenied."""
import os

from s3common import *

s3 = client()
MOUNT = os.environ["S3_MOUNTPOINT"]


@test
def reads_work_through_both_doors():
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["persist"]
    assert s3.get_object(Bucket="persist", Key="s3.txt")["Body"].read().startswith(b"put through S3")
    with open(os.path.join(MOUNT, "persist", "s3.txt"), "rb") as f:
        assert f.read().startswith(b"put through S3")


@test
def changes_are_refused():
    expect_error("AccessDenied", 403, s3.put_object, Bucket="persist", Key="new.txt", Body=b"no")
    expect_error("AccessDenied", 403, s3.delete_object, Bucket="persist", Key="s3.txt")
    expect_error("AccessDenied", 403, s3.create_bucket, Bucket="another")
    expect_error("AccessDenied", 403, s3.create_multipart_upload, Bucket="persist", Key="big")
    expect_error("AccessDenied", 403, s3.copy_object, Bucket="persist", Key="copy.txt",
                 CopySource={"Bucket": "persist", "Key": "s3.txt"})
    assert s3.head_object(Bucket="persist", Key="s3.txt")["ContentLength"] > 0


run_all()
