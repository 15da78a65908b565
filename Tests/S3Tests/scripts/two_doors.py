"""I5, one vault, two doors: a daemon started with `mount -o s3=...` serves the same vault
through the FUSE mount in S3_MOUNTPOINT and the S3 endpoint in S3_ENDPOINT. A change through
either door must be visible through the other as soon as the changing call has returned:
no sleeps, whatever the kernel's attr/entry timeouts (the Swift test runs this with the
default 1 s and with 30 s). The first look through the mount after each change must come
well under the 1 s timeout, so a pass with the defaults cannot come from a cache that happened
to expire."""
import errno
import hashlib
import os
import time

from s3common import *

s3 = client()
MOUNT = os.environ["S3_MOUNTPOINT"]
BUCKET = "doors"
MIB = 1 << 20
# Well under the default attr/entry timeout of 1 s: the first look through the mount after a
# change is timed, and seeing the change this soon means the kernel's cache was invalidated,
# not that it expired. (Only that first call is timed, so a loaded machine does not fail it;
# the run with 30 s timeouts is the stronger proof.)
PROMPTLY = 0.5


def path(*parts):
    return os.path.join(MOUNT, *parts)


def read(*parts):
    with open(path(*parts), "rb") as f:
        return f.read()


def md5(data):
    return hashlib.md5(data).hexdigest()


def errno_of(call, *args):
    try:
        call(*args)
    except OSError as error:
        return error.errno
    return 0


class Prompt:
    """`with Prompt("what"):` around the first look after a change: fails when it took
    PROMPTLY seconds or more."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        self.start = time.monotonic()

    def __exit__(self, kind, value, traceback):
        elapsed = time.monotonic() - self.start
        if kind is None:
            assert elapsed < PROMPTLY, f"{self.what} took {elapsed:.2f} s"


ensure_bucket(BUCKET)


@test
def bucket_made_through_s3_is_a_directory_of_the_mount():
    assert not os.path.exists(path("made-by-s3"))  # the kernel looked it up: absent
    s3.create_bucket(Bucket="made-by-s3")
    with Prompt("bucket visible"):
        assert os.path.isdir(path("made-by-s3"))
    assert "made-by-s3" in os.listdir(MOUNT)
    s3.delete_bucket(Bucket="made-by-s3")
    with Prompt("bucket gone"):
        assert errno_of(os.stat, path("made-by-s3")) == errno.ENOENT


@test
def directory_made_through_the_mount_is_a_bucket():
    os.mkdir(path("made-by-mount"))
    assert "made-by-mount" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket="made-by-mount")
    os.rmdir(path("made-by-mount"))
    expect_error("404", 404, s3.head_bucket, Bucket="made-by-mount")  # HEAD: no body, no code


@test
def put_is_visible_through_the_mount_at_once():
    # Negative lookups first, so the kernel has something stale to drop.
    assert not os.path.exists(path(BUCKET, "new", "deeper", "file.txt"))
    assert not os.path.exists(path(BUCKET, "new"))
    body = b"written through S3\n" * 100
    s3.put_object(Bucket=BUCKET, Key="new/deeper/file.txt", Body=body)
    with Prompt("new object visible"):
        assert os.stat(path(BUCKET, "new", "deeper", "file.txt")).st_size == len(body)
    assert read(BUCKET, "new", "deeper", "file.txt") == body
    assert os.listdir(path(BUCKET, "new", "deeper")) == ["file.txt"]


@test
def overwrite_through_s3_replaces_what_the_mount_cached():
    s3.put_object(Bucket=BUCKET, Key="over.txt", Body=b"version one")
    assert read(BUCKET, "over.txt") == b"version one"  # pages, attributes and name now cached
    before = os.stat(path(BUCKET, "over.txt"))
    s3.put_object(Bucket=BUCKET, Key="over.txt", Body=b"VERSION 1!!")  # same size
    with Prompt("same-size overwrite visible"):
        assert read(BUCKET, "over.txt") == b"VERSION 1!!"
    s3.put_object(Bucket=BUCKET, Key="over.txt", Body=b"version three, longer")
    with Prompt("longer overwrite visible"):
        assert os.stat(path(BUCKET, "over.txt")).st_size == len(b"version three, longer")
    assert read(BUCKET, "over.txt") == b"version three, longer"
    assert os.stat(path(BUCKET, "over.txt")).st_ino != before.st_ino  # a new file took the name


@test
def descriptor_opened_before_an_overwrite_keeps_the_old_file():
    s3.put_object(Bucket=BUCKET, Key="held.txt", Body=b"old content")
    with open(path(BUCKET, "held.txt"), "rb") as held:
        assert held.read() == b"old content"
        s3.put_object(Bucket=BUCKET, Key="held.txt", Body=b"new content")
        held.seek(0)
        assert held.read() == b"old content"  # as after rename(2) over an open file
        assert read(BUCKET, "held.txt") == b"new content"


@test
def delete_through_s3_is_enoent_through_the_mount_at_once():
    s3.put_object(Bucket=BUCKET, Key="gone/soon.txt", Body=b"short-lived")
    assert read(BUCKET, "gone", "soon.txt") == b"short-lived"
    os.stat(path(BUCKET, "gone", "soon.txt"))  # a read drops the cached atime: cache it again
    s3.delete_object(Bucket=BUCKET, Key="gone/soon.txt")
    with Prompt("deleted object gone"):
        assert errno_of(os.stat, path(BUCKET, "gone", "soon.txt")) == errno.ENOENT
    assert errno_of(open, path(BUCKET, "gone", "soon.txt")) == errno.ENOENT
    assert os.listdir(path(BUCKET, "gone")) == []  # the directory stays, as documented


@test
def delete_objects_through_s3_is_enoent_through_the_mount_at_once():
    for i in range(3):
        s3.put_object(Bucket=BUCKET, Key=f"batch/{i}", Body=b"x")
        assert read(BUCKET, "batch", str(i)) == b"x"
        os.stat(path(BUCKET, "batch", str(i)))
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": f"batch/{i}"} for i in range(3)], "Quiet": True})
    with Prompt("batch deleted"):
        assert errno_of(os.stat, path(BUCKET, "batch", "0")) == errno.ENOENT
    assert all(errno_of(os.stat, path(BUCKET, "batch", str(i))) == errno.ENOENT for i in range(3))


@test
def file_closed_through_the_mount_is_listed_and_read_through_s3_at_once():
    data = os.urandom(3 * MIB + 123)
    with open(path(BUCKET, "from-mount.bin"), "wb") as f:
        f.write(data)
    # No timing here: S3 has no cache to expire; the listing computes the MD5 on first access.
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="from-mount")["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [("from-mount.bin", len(data), f'"{md5(data)}"')]
    got = s3.get_object(Bucket=BUCKET, Key="from-mount.bin")
    assert got["Body"].read() == data and got["ETag"] == f'"{md5(data)}"'
    # Rewritten in place through the mount, same size: the ETag follows the content.
    changed = bytearray(data)
    changed[1000:1004] = b"EDIT"
    with open(path(BUCKET, "from-mount.bin"), "r+b") as f:
        f.seek(1000)
        f.write(b"EDIT")
    head = s3.head_object(Bucket=BUCKET, Key="from-mount.bin")
    assert head["ETag"] == f'"{md5(bytes(changed))}"' and head["ContentLength"] == len(data)
    # Appended to.
    with open(path(BUCKET, "from-mount.bin"), "ab") as f:
        f.write(b"tail")
    got = s3.get_object(Bucket=BUCKET, Key="from-mount.bin")
    assert got["Body"].read() == bytes(changed) + b"tail" and got["ETag"] == f'"{md5(bytes(changed) + b"tail")}"'


@test
def rename_and_unlink_through_the_mount_show_in_s3_listings():
    with open(path(BUCKET, "mv-src.txt"), "wb") as f:
        f.write(b"moving")
    os.makedirs(path(BUCKET, "moved"), exist_ok=True)
    os.rename(path(BUCKET, "mv-src.txt"), path(BUCKET, "moved", "dst.txt"))
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="m")["Contents"]]
    assert "moved/dst.txt" in keys and "mv-src.txt" not in keys
    os.unlink(path(BUCKET, "moved", "dst.txt"))
    expect_error("404", 404, s3.head_object, Bucket=BUCKET, Key="moved/dst.txt")


@test
def copy_object_is_visible_through_the_mount_and_metadata_as_xattrs():
    s3.put_object(Bucket=BUCKET, Key="copy/source.txt", Body=b"copy me", ContentType="text/plain")
    assert not os.path.exists(path(BUCKET, "copy", "target.txt"))
    s3.copy_object(Bucket=BUCKET, Key="copy/target.txt", CopySource={"Bucket": BUCKET, "Key": "copy/source.txt"})
    with Prompt("copy visible"):
        assert read(BUCKET, "copy", "target.txt") == b"copy me"
    assert os.getxattr(path(BUCKET, "copy", "target.txt"), "user.s3.content-type") == b"text/plain"
    # Copy onto itself with REPLACE changes only the metadata (same inode).
    # (Not checked: ctime. With the writeback cache the kernel keeps its own size, mtime and
    # ctime of a cached regular file, whatever the daemon reports.)
    inode = os.stat(path(BUCKET, "copy", "target.txt")).st_ino
    s3.copy_object(Bucket=BUCKET, Key="copy/target.txt", CopySource={"Bucket": BUCKET, "Key": "copy/target.txt"},
                   MetadataDirective="REPLACE", ContentType="application/json", Metadata={"k": "v"})
    assert os.stat(path(BUCKET, "copy", "target.txt")).st_ino == inode
    assert os.getxattr(path(BUCKET, "copy", "target.txt"), "user.s3.content-type") == b"application/json"
    assert os.getxattr(path(BUCKET, "copy", "target.txt"), "user.s3.meta.k") == b"v"
    assert read(BUCKET, "copy", "target.txt") == b"copy me"


@test
def multipart_upload_is_visible_through_the_mount_once_complete_and_its_parts_never():
    key = "multi/object.bin"
    parts = [os.urandom(5 * MIB), os.urandom(MIB + 7)]
    assert not os.path.exists(path(BUCKET, "multi", "object.bin"))
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    etags = [s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload, PartNumber=i + 1, Body=p)["ETag"]
             for i, p in enumerate(parts)]
    # In progress: the parts live in the hidden work area, which the mount does not show.
    assert not os.path.exists(path(BUCKET, "multi", "object.bin"))
    assert ".shardvault-s3" not in os.listdir(MOUNT)
    assert errno_of(os.stat, path(".shardvault-s3")) == errno.ENOENT
    s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    with Prompt("completed upload visible"):
        assert os.stat(path(BUCKET, "multi", "object.bin")).st_size == sum(map(len, parts))
    assert md5(read(BUCKET, "multi", "object.bin")) == md5(b"".join(parts))


@test
def the_work_area_is_hidden_and_reserved_at_the_root():
    s3.put_object(Bucket=BUCKET, Key="ensure-work-area", Body=b"")  # uploads go through it
    assert ".shardvault-s3" not in os.listdir(MOUNT)
    assert errno_of(os.stat, path(".shardvault-s3")) == errno.ENOENT
    assert errno_of(os.listdir, path(".shardvault-s3", "tmp")) == errno.ENOENT
    assert errno_of(os.mkdir, path(".shardvault-s3")) == errno.EPERM
    assert errno_of(os.symlink, "x", path(".shardvault-s3")) == errno.EPERM
    assert errno_of(os.rename, path(BUCKET), path(".shardvault-s3")) == errno.EPERM
    assert errno_of(open, path(".shardvault-s3"), "w") == errno.EPERM
    # Only at the root: the name is an ordinary one anywhere else.
    os.mkdir(path(BUCKET, ".shardvault-s3"))
    assert ".shardvault-s3" in os.listdir(path(BUCKET))
    os.rmdir(path(BUCKET, ".shardvault-s3"))
    # S3 still works after all of that.
    s3.put_object(Bucket=BUCKET, Key="after-work-area-checks", Body=b"fine")
    assert read(BUCKET, "after-work-area-checks") == b"fine"


@test
def directory_key_put_and_delete_show_through_the_mount():
    s3.put_object(Bucket=BUCKET, Key="dirkey/", Body=b"", Metadata={"mode": "16877"})
    with Prompt("directory key visible"):
        assert os.path.isdir(path(BUCKET, "dirkey"))
    # A directory key keeps metadata like an object (s3fs stores mode and times there), and
    # copying it onto itself with REPLACE changes it, as s3fs's chmod of a directory does.
    assert s3.head_object(Bucket=BUCKET, Key="dirkey/")["Metadata"] == {"mode": "16877"}
    s3.copy_object(Bucket=BUCKET, Key="dirkey/", CopySource={"Bucket": BUCKET, "Key": "dirkey/"},
                   MetadataDirective="REPLACE", Metadata={"mode": "16832"})
    assert s3.head_object(Bucket=BUCKET, Key="dirkey/")["Metadata"] == {"mode": "16832"}
    assert os.getxattr(path(BUCKET, "dirkey"), "user.s3.meta.mode") == b"16832"
    s3.copy_object(Bucket=BUCKET, Key="dirkey-copy/", CopySource={"Bucket": BUCKET, "Key": "dirkey/"})
    with Prompt("copied directory key visible"):
        assert os.path.isdir(path(BUCKET, "dirkey-copy"))
    assert s3.head_object(Bucket=BUCKET, Key="dirkey-copy/")["Metadata"] == {"mode": "16832"}
    expect_error("InvalidRequest", 400, s3.copy_object, Bucket=BUCKET, Key="file-from-dir",
                 CopySource={"Bucket": BUCKET, "Key": "dirkey/"})
    s3.delete_object(Bucket=BUCKET, Key="dirkey-copy/")
    s3.delete_object(Bucket=BUCKET, Key="dirkey/")
    with Prompt("directory key removed"):
        assert errno_of(os.stat, path(BUCKET, "dirkey")) == errno.ENOENT


@test
def parent_directory_attributes_follow_s3_changes():
    os.makedirs(path(BUCKET, "attrs"), exist_ok=True)
    before = os.stat(path(BUCKET, "attrs")).st_mtime_ns
    time.sleep(0.01)
    s3.put_object(Bucket=BUCKET, Key="attrs/child", Body=b"c")
    with Prompt("parent mtime"):
        assert os.stat(path(BUCKET, "attrs")).st_mtime_ns > before


run_all()
