""".dvxignore decides as git decides: the files dvx's walk keeps are the files git does not ignore.

Each example writes one tree with the same patterns in ``.gitignore`` and
``.dvxignore`` (at the top and, sometimes, in a sub-folder), then compares
``walk_files`` with ``git ls-files --others --exclude-standard`` run by the
real git on that tree.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from dvxtest import env
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dvx.workspace._files import walk_files

pytestmark = pytest.mark.property

_NAMES = ["a", "b", "c.tmp", "keep.tmp", "cache", "sub", "d.txt", "x y", "ab"]
_file = st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3).map("/".join)
_SEGMENTS = ["a", "b", "*", "*.tmp", "keep.tmp", "cache", "sub", "**", "?.txt", "a*", "[ab]", "x y"]
_pattern = st.builds(
    lambda neg, anchored, segs, folder: ("!" if neg else "") + ("/" if anchored else "") + "/".join(segs)
    + ("/" if folder else ""),
    st.booleans(), st.booleans(), st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=3), st.booleans(),
) | st.sampled_from(["# a comment", "", "\\!a", "*.tmp ", "!keep.tmp", "cache/"])
_patterns = st.lists(_pattern, max_size=6)
_IGNORE_FILES = {".gitignore", ".dvxignore"}


def _consistent(files: list[str]) -> list[str]:
    """Drop paths that would need a file and a folder of the same name."""
    out: list[str] = []
    for f in sorted(set(files), key=len):
        parts = f.split("/")
        if any("/".join(parts[:i]) in out for i in range(1, len(parts))):
            continue
        if any(o.startswith(f + "/") for o in out):
            continue
        out.append(f)
    return out


def _kept_by_git(top: Path) -> set[str]:
    cp = subprocess.run(
        ["git", "-C", str(top), "-c", "core.excludesFile=/dev/null", "ls-files", "-z", "--others", "--exclude-standard"],
        capture_output=True, check=True, env=env(),
    )
    return {p for p in cp.stdout.decode("utf-8", "surrogateescape").split("\0") if p}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=_file.map(lambda f: [f]) | st.lists(_file, min_size=1, max_size=12), top=_patterns,
       nested=st.none() | _patterns)
@example(files=["a.tmp", "keep.tmp", "cache/x", "sub/keep.tmp", "sub/c.tmp"], top=["*.tmp", "cache/", "!keep.tmp"],
         nested=["!c.tmp"])
@example(files=["cache/keep.tmp", "a/cache/b"], top=["cache/", "!cache/keep.tmp"], nested=None)
# found by this test: pathspec's "*/" and "**/" match through any folder, "a/**" matches "a/" itself,
# "X/**/" matched X itself (git: only the folders inside X)
@example(files=["a/a"], top=["a/", "!*/"], nested=None)
@example(files=["a/a"], top=["a", "!a/**"], nested=None)
@example(files=["a/c", "a/b/c", "a/b/sub/d.txt"], top=["a/**/", "!**/b/**/"], nested=None)
def test_walk_keeps_what_git_does_not_ignore(files: list[str], top: list[str], nested: list[str] | None) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        subprocess.run(["git", "init", "-q", str(root)], check=True, env=env())
        for f in _consistent(files):
            (root / f).parent.mkdir(parents=True, exist_ok=True)
            (root / f).write_bytes(b"x")
        text = "\n".join(top) + "\n"
        for name in _IGNORE_FILES:
            (root / name).write_text(text)
        if nested is not None and (root / "sub").is_dir():
            for name in _IGNORE_FILES:
                (root / "sub" / name).write_text("\n".join(nested) + "\n")
        ours = {os.fsdecode(r) for r, _ap, _st in walk_files(os.fsencode(root))}
        git_kept = _kept_by_git(root)

    def data(paths: set[str]) -> set[str]:
        return {p for p in paths if p.rpartition("/")[2] not in _IGNORE_FILES}

    assert data(ours) == data(git_kept), (top, nested)
