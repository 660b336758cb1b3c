"""``fetch_objects``: exactly the given objects, once, under one lock; a fact when the remote lacks one."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from unit.remote.remotekit import build_tree, local_store

from dvx.errors import ObjectMissingError
from dvx.remote import fetch_objects, open_url, push
from dvx.store import ObjectType

TEXT = b"".join(b"%d,line %d\n" % (i, i) for i in range(4000))


def test_fetches_exactly_the_given_objects_and_names_what_the_remote_lacks(tmp_path: Path) -> None:
    a = local_store(tmp_path / "a")
    tree = build_tree(a, {"x.csv": TEXT})
    url = str(tmp_path / "remote")
    push(a, open_url(url), [(tree, ObjectType.TREE)])
    (entry,) = a.get_tree_manifest(tree).entries
    chunks = [c.oid for c in a.get_file_manifest(entry.file_oid).chunks]

    b = local_store(tmp_path / "b")
    res = fetch_objects(b, open_url(url), chunks[:2])
    assert res.objects == 2 and b.missing(chunks[:2]) == set()
    assert not b.has(tree) and not b.has(entry.file_oid)  # no closure: only what was asked
    again = fetch_objects(b, open_url(url), chunks[:2])
    assert again.objects == 0 and again.present == 2

    nowhere = b"\x07" * 16
    with pytest.raises(ObjectMissingError) as ei:
        fetch_objects(b, open_url(url, name="origin"), [chunks[2], nowhere])
    assert nowhere.hex() in ei.value.message and "'origin'" in ei.value.message
    assert ei.value.hint is None  # a fact; the caller knows which command could help
    assert not b.has(chunks[2])  # nothing is written when an object is missing


def test_threads_fetching_the_same_objects_download_them_once(tmp_path: Path) -> None:
    a = local_store(tmp_path / "a")
    tree = build_tree(a, {"x.csv": TEXT})
    url = str(tmp_path / "remote")
    push(a, open_url(url), [(tree, ObjectType.TREE)])
    wanted = list(a.entries())
    b = local_store(tmp_path / "b")
    moved: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            moved.append(fetch_objects(b, open_url(url), wanted).objects)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(moved) == [0, 0, 0, len(wanted)]
    assert b.missing(wanted) == set()
