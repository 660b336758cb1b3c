"""``compare_trees`` (status and diff inside tracked directories): every path accounted for exactly once."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvx.hashing import hash_bytes
from dvx.store.objects import TreeEntry, TreeManifest
from dvx.workspace.changes import compare_trees

pytestmark = pytest.mark.property

# Few names and few contents, so trees overlap, contents repeat (renames) and some files are empty.
_names = st.sampled_from([b"a", b"b", b"c", b"d/e", b"d/f", b"g/h/i", b"j", b"k"])
_content = st.sampled_from([b"", b"one", b"two", b"three"])
_tree = st.dictionaries(_names, st.tuples(_content, st.booleans()), max_size=8)


def _manifest(files: dict[bytes, tuple[bytes, bool]]) -> TreeManifest:
    return TreeManifest(tuple(TreeEntry(p, hash_bytes(data), len(data), x) for p, (data, x) in files.items()))


@settings(max_examples=300, deadline=None)
@given(_tree, _tree)
def test_changes_partition_the_paths(old: dict, new: dict) -> None:
    ch = compare_trees(_manifest(old), _manifest(new), "top")

    def strip(paths: list[str]) -> set[bytes]:
        assert all(p.startswith("top/") for p in paths)
        return {p[4:].encode() for p in paths}

    olds = strip([a for a, _ in ch.renamed])
    news = strip([b for _, b in ch.renamed])
    # every path that left is deleted or the old side of one rename; every path that came, added or a new side
    assert strip(ch.deleted) | olds == old.keys() - new.keys() and not strip(ch.deleted) & olds
    assert strip(ch.added) | news == new.keys() - old.keys() and not strip(ch.added) & news
    assert len(olds) == len(news) == len(ch.renamed)
    # a rename keeps its non-empty content
    for a, b in ch.renamed:
        assert old[a[4:].encode()][0] == new[b[4:].encode()][0] != b""
    # modified: exactly the common paths whose content or executable bit differs
    assert strip(ch.modified) == {p for p in old.keys() & new.keys() if old[p] != new[p]}
    assert ch.total == len(ch.added) + len(ch.deleted) + len(ch.modified) + len(ch.renamed)
    # no change at all when the trees are the same
    assert compare_trees(_manifest(old), _manifest(old), "top").total == 0
