"""Exits 0 when the daemon answers ListBuckets with the keys in the environment; otherwise
prints the error code and exits 1."""
from s3common import *
import botocore.exceptions

try:
    client().list_buckets()
    print("ok")
except botocore.exceptions.ClientError as error:
    print(error.response["Error"]["Code"])
    raise SystemExit(1)
