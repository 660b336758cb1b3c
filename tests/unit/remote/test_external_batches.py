"""``dvx.remote.external``: how objects are cut into tasks, and which source options win (pure parts)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvx.errors import UsageError
from dvx.remote.external import ChunkBatch, SourceObject, batches, source_options

_BASE = ChunkBatch("s3://src/p/", {}, "s3://dst/store", "store", {}, (16384, 65536, 262144), ())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 1000), max_size=60), st.integers(1, 2000), st.integers(1, 8))
def test_batches_keep_order_and_limits(sizes: list[int], max_bytes: int, max_objects: int) -> None:
    objects = [SourceObject(f"k{i}", f"src/p/k{i}", n) for i, n in enumerate(sizes)]
    got = batches(objects, _BASE, max_bytes=max_bytes, max_objects=max_objects)
    assert [o for b in got for o in b.objects] == objects  # every object once, in listing order
    for b in got:
        assert 1 <= len(b.objects) <= max_objects
        assert len(b.objects) == 1 or sum(o.size for o in b.objects) <= max_bytes  # one object may be bigger
    assert len({b.key for b in got}) == len(got)  # distinct task keys, as run_tasks requires


def test_task_key_is_the_content() -> None:
    a = batches([SourceObject("k", "src/p/k", 5, '"e1"')], _BASE)[0]
    assert a.key == batches([SourceObject("k", "src/p/k", 5, '"e1"')], _BASE)[0].key
    assert a.key != batches([SourceObject("k", "src/p/k", 5, '"e2"')], _BASE)[0].key


class _Remote:
    url = "s3://dst/store"
    options = {"endpoint_url": "http://remote", "region": "eu-west-1"}


def test_options_cli_over_environment_over_the_remote() -> None:
    env = {"DVX_EXTERNAL_ENDPOINT_URL": "http://env", "DVX_EXTERNAL_PROFILE": "p", "OTHER": "x"}
    got = source_options("s3://src/p/", _Remote(), ["endpoint_url=http://cli", "anon=false"], env)
    assert got == {"endpoint_url": "http://cli", "region": "eu-west-1", "profile": "p", "anon": False}
    # another protocol: nothing of the remote's options
    assert source_options("gs://src/p/", _Remote(), [], {}) == {}
    with pytest.raises(UsageError, match="expected key=value"):
        source_options("s3://src/p/", None, ["endpoint_url"], {})
    with pytest.raises(UsageError, match="^environment variable DVX_EXTERNAL_READ_TIMEOUT: .*integer"):
        source_options("s3://src/p/", None, [], {"DVX_EXTERNAL_READ_TIMEOUT": "soon"})
