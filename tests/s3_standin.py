"""An S3-compatible object store over real HTTP for the tests: moto's server mode (the `test`
extra), in a thread on a free port of 127.0.0.1, one for the session.

    from tests.s3_standin import s3_endpoint, s3_config  # noqa: F401 (fixtures)

`s3_config` is the app's settings for a bucket of its own, made empty for each test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

CREDENTIALS = {"S3_ACCESS_KEY_ID": "miz-test", "S3_SECRET_ACCESS_KEY": "miz-test-secret",
               "S3_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_config(s3_endpoint: str) -> dict[str, Any]:
    """`STORAGE=s3` settings naming a new, empty bucket on the stand-in."""
    bucket = f"miz-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                 aws_access_key_id=CREDENTIALS["S3_ACCESS_KEY_ID"],
                 aws_secret_access_key=CREDENTIALS["S3_SECRET_ACCESS_KEY"]
                 ).create_bucket(Bucket=bucket)
    return {"STORAGE": "s3", "S3_ENDPOINT": s3_endpoint, "S3_BUCKET": bucket,
            "S3_PREFIX": "uploads/", **CREDENTIALS}
