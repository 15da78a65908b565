"""Writes through both doors of a `mount -o s3=` daemon (argument "write"), or checks after a
restart that both writes are there through both doors (argument "check")."""
import hashlib
import os
import sys

from s3common import *

s3 = client()
MOUNT = os.environ["S3_MOUNTPOINT"]
THROUGH_S3 = b"put through S3 just before SIGTERM\n" * 1000
THROUGH_MOUNT = b"written through the mount, never fsync'd\n" * 1000

if sys.argv[1] == "write":
    ensure_bucket("persist")
    s3.put_object(Bucket="persist", Key="s3.txt", Body=THROUGH_S3)
    with open(os.path.join(MOUNT, "persist", "mount.txt"), "wb") as f:
        f.write(THROUGH_MOUNT)
    print("1 passed, 0 failed")
else:
    assert s3.get_object(Bucket="persist", Key="s3.txt")["Body"].read() == THROUGH_S3
    head = s3.head_object(Bucket="persist", Key="mount.txt")
    assert head["ETag"] == '"%s"' % hashlib.md5(THROUGH_MOUNT).hexdigest(), head["ETag"]
    with open(os.path.join(MOUNT, "persist", "s3.txt"), "rb") as f:
        assert f.read() == THROUGH_S3
    with open(os.path.join(MOUNT, "persist", "mount.txt"), "rb") as f:
        assert f.read() == THROUGH_MOUNT
    print("1 passed, 0 failed")
