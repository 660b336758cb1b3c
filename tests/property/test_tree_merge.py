"""Three-way merge of tree manifests (dvx.workspace.treemerge): the union of disjoint changes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dvx.store.objects import TreeEntry, TreeManifest
from dvx.workspace.treemerge import (
    ADDED_BOTH,
    CHANGED_BOTH,
    DELETED_CHANGED,
    FILE_AND_FOLDER,
    TreeConflict,
    merge_trees,
)

# Two-level paths ("d1/f2"): no path is both a file and a folder, so only the merge can make a clash.
PATHS = [f"d{d}/f{f}".encode() for d in range(3) for f in range(4)]


def entry(path: bytes, version: int, executable: bool = False) -> TreeEntry:
    return TreeEntry(path, version.to_bytes(16, "big"), version * 10, executable)


def tree(files: dict[bytes, TreeEntry]) -> TreeManifest:
    return TreeManifest(tuple(files.values()))


versions = st.integers(1, 5)
# What one side does to one path: a new version (add or modify), its x bit flipped, or deletion (None).
changes = st.one_of(versions.map(lambda v: ("set", v)), st.just(("chmod", 0)), st.just(("delete", 0)))


@st.composite
def disjoint_changes(draw: st.DrawFn) -> tuple[dict[bytes, TreeEntry], dict[bytes, TreeEntry], dict[bytes, TreeEntry]]:
    """(base, ours, theirs) where each path is changed by at most one side."""
    base = {p: entry(p, draw(versions)) for p in draw(st.sets(st.sampled_from(PATHS)))}
    owner = draw(st.fixed_dictionaries({p: st.sampled_from(["none", "ours", "theirs"]) for p in PATHS}))
    ours, theirs = dict(base), dict(base)
    for p, who in owner.items():
        if who == "none":
            continue
        side = ours if who == "ours" else theirs
        op, v = draw(changes)
        if op == "set":
            side[p] = entry(p, v + 10)  # never equal to a base version: a real change
        elif op == "chmod" and p in side:
            side[p] = entry(p, int.from_bytes(side[p].file_oid, "big"), not side[p].executable)
        elif op == "delete":
            side.pop(p, None)
    return base, ours, theirs


@settings(max_examples=120, deadline=None)
@given(disjoint_changes())
def test_disjoint_changes_merge_into_the_union_either_way(sides: tuple[dict, dict, dict]) -> None:
    base, ours, theirs = sides
    want = {p: e for p in PATHS if (e := (theirs.get(p) if ours.get(p) == base.get(p) else ours.get(p))) is not None}
    a = merge_trees(tree(base), tree(ours), tree(theirs))
    b = merge_trees(tree(base), tree(theirs), tree(ours))
    assert a == b == tree(want)
    assert isinstance(a, TreeManifest) and a.oid == tree(want).oid


@settings(max_examples=100, deadline=None)
@given(disjoint_changes())
def test_the_same_change_on_both_sides_is_clean(sides: tuple[dict, dict, dict]) -> None:
    base, ours, _theirs = sides
    assert merge_trees(tree(base), tree(ours), tree(ours)) == tree(ours)


def test_conflicts_name_every_file_and_the_first_reason() -> None:
    a, b, c = PATHS[:3]
    base = tree({a: entry(a, 1), b: entry(b, 1)})
    ours = tree({a: entry(a, 2), c: entry(c, 1)})  # a changed, b deleted, c added
    theirs = tree({a: entry(a, 3), b: entry(b, 2), c: entry(c, 2)})  # a changed, b changed, c added
    got = merge_trees(base, ours, theirs)
    assert isinstance(got, TreeConflict)
    assert got.paths == ("d0/f0", "d0/f1", "d0/f2") and got.reason == CHANGED_BOTH
    assert got.describe("data") == "data/d0/f0 changed differently on both sides (and 2 more files)"
    only_b = merge_trees(base, tree({a: entry(a, 1)}), tree({a: entry(a, 1), b: entry(b, 2)}))
    assert only_b == TreeConflict(("d0/f1",), DELETED_CHANGED)
    assert merge_trees(None, tree({c: entry(c, 1)}), tree({c: entry(c, 2)})) == TreeConflict(("d0/f2",), ADDED_BOTH)


def test_a_file_on_one_side_and_a_folder_on_the_other_is_a_conflict() -> None:
    folder, inside = b"d0", b"d0/f0"
    got = merge_trees(tree({}), tree({folder: entry(folder, 1)}), tree({inside: entry(inside, 1)}))
    assert got == TreeConflict(("d0",), FILE_AND_FOLDER)
