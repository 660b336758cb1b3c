"""``targets.select``: the tree entries a target inside a tracked directory names, by binary search.

Checked against the obvious scan over random trees whose names crowd the
"/" boundary (``a``, ``a.b``, ``a-b``, ``a0``, ``a/b``): a target selects its
own entry when it is a file, every entry below it when it is a folder, and
nothing else.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvx.store.objects import TreeEntry, TreeManifest
from dvx.workspace.targets import select, subtree

pytestmark = pytest.mark.property

_name = st.sampled_from(["a", "a.b", "a-b", "a0", "b", "ab", "a ", "\u00e9", "z"])
_path = st.lists(_name, min_size=1, max_size=4).map("/".join)


def _tree(paths: list[str]) -> TreeManifest | None:
    """A valid tree of these paths (a path that is also a folder of another is dropped), or None."""
    keep: list[str] = []
    for p in sorted(set(paths), key=len):
        if not any(p.startswith(k + "/") for k in keep):
            keep.append(p)
    keep = [p for p in keep if not any(q.startswith(p + "/") for q in keep)]
    entries = tuple(TreeEntry(p.encode(), bytes(16), len(p), False) for p in keep)
    return TreeManifest(entries) if entries else None


@settings(max_examples=200, deadline=None)
@given(st.lists(_path, min_size=1, max_size=30), _path)
def test_select_matches_a_scan(paths: list[str], sub: str) -> None:
    tree = _tree(paths)
    if tree is None:
        return
    key = sub.encode()
    want = tuple(e for e in tree.entries if e.path == key or e.path.startswith(key + b"/"))
    got = select(tree, sub)
    assert got == want
    if got and got[0].path != key:  # a folder: re-rooted, its entries keep their order and ids
        sub_tree = subtree(got, sub)
        assert [e.path for e in sub_tree.entries] == [e.path[len(key) + 1 :] for e in got]
