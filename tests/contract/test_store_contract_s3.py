"""The ObjectStore contract (test_store_contract.py) on real S3 servers: moto_server and SeaweedFS."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from test_store_contract import StoreContract, StoreFactory

from dvx.store import ObjectStore

pytestmark = pytest.mark.s3


def _factory(bucket: Any) -> StoreFactory:
    root = f"{bucket.name}/contract-{uuid.uuid4().hex[:10]}"

    def make(**kw: object) -> ObjectStore:
        # A new filesystem each time: reopening must not rely on s3fs's listing cache.
        return ObjectStore(bucket.fs(), root, **kw)  # type: ignore[arg-type]

    return make


@pytest.fixture(scope="module")
def _moto_bucket(moto_server: str) -> Any:
    from s3kit import _make_bucket

    return _make_bucket(moto_server, "contract")


@pytest.fixture(scope="module")
def _weed_bucket(seaweedfs: Any) -> Any:
    return seaweedfs.bucket()


class TestMotoStore(StoreContract):
    """ObjectStore on s3fs against moto_server."""

    @pytest.fixture
    def store_factory(self, _moto_bucket: Any) -> StoreFactory:
        return _factory(_moto_bucket)


@pytest.mark.slow
class TestSeaweedFSStore(StoreContract):
    """ObjectStore on s3fs against SeaweedFS (disk-backed)."""

    @pytest.fixture
    def store_factory(self, _weed_bucket: Any) -> StoreFactory:
        return _factory(_weed_bucket)
