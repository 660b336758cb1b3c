"""The path checker (dvx._paths): what it accepts stays inside the root and never names .git or .dvx."""

from __future__ import annotations

import os
import posixpath
import unicodedata

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from dvx._paths import MAX_COMPONENT_BYTES, MAX_PATH_BYTES, first_path_problem, is_reserved_name, path_problem
from dvx.store.objects import TreeEntry, TreeManifest, UnsafeTreePathError

pytestmark = pytest.mark.property

IGNORABLE = "\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u206a\u206b\u206c\u206d\u206e\u206f\ufeff"
ROOT = "/srv/work"

# Components biased towards the dangerous neighbourhood: dots, case and
# ignorable variants of git/dvx, separators, NTFS suffixes.
_atoms = st.sampled_from([".", "..", ".git", ".GIT", ".dvx", ".DvX", "git~1", "DVX~1", "g", "i", "t", "d", "v", "x",
                          "~1", ":", "::$DATA", " ", "\\", "/", "a", "\u0130", "\u212a", "\uff47", "\x00", *IGNORABLE])
_component = st.lists(_atoms | st.text(min_size=1, max_size=4), min_size=1, max_size=6).map("".join)
_path = st.lists(_component, min_size=1, max_size=5).map("/".join)


def _folded_components(path: str) -> list[str]:
    parts = path.replace("\\", "/").split("/")
    return [unicodedata.normalize("NFKC", p.translate(dict.fromkeys(map(ord, IGNORABLE)))).casefold() for p in parts]


@settings(max_examples=1000, deadline=None)
@given(_path | st.text(max_size=30))
@example(".g\u200cit/hooks/post-checkout")
@example("a/.git./x")
@example("..\\x")
def test_accepted_paths_stay_inside_and_avoid_git_and_dvx(path: str) -> None:
    if path_problem(path) is not None:
        return
    joined = posixpath.normpath(posixpath.join(ROOT, path))
    assert joined.startswith(ROOT + "/"), path
    assert joined != ROOT
    # the same on a file system that splits at backslashes (Windows, NTFS)
    win = posixpath.normpath(posixpath.join(ROOT, path.replace("\\", "/")))
    assert win.startswith(ROOT + "/"), path
    for c in _folded_components(path):
        assert c not in ("", ".", ".."), path
        # NTFS drops trailing dots and spaces and reads "name:stream" as name
        core = c.split(":", 1)[0].rstrip(". ")
        assert core not in (".git", ".dvx", "git~1", "dvx~1"), path
    assert "\x00" not in path
    assert len(path.encode("utf-8", "surrogateescape")) <= MAX_PATH_BYTES


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([".git", ".dvx", "git~1", "dvx~1"]), st.lists(st.sampled_from(IGNORABLE), max_size=3),
       st.text(alphabet=". ", max_size=3), st.booleans(), st.randoms(use_true_random=False))
def test_every_variant_of_git_and_dvx_is_refused(name: str, junk: list[str], tail: str, stream: bool, rnd) -> None:
    chars = [ch.upper() if rnd.random() < 0.5 else ch for ch in name]
    for j in junk:
        chars.insert(rnd.randrange(len(chars) + 1), j)
    variant = "".join(chars) + tail + (":$DATA" if stream else "")
    assert is_reserved_name(variant), variant
    for path in (variant, f"a/{variant}", f"{variant}/b", f"a\\{variant}\\b"):
        why = path_problem(path)
        assert why is not None and ("dvx never writes into" in why or "may read as" in why), (path, why)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_bytes_and_str_forms_agree(raw: bytes) -> None:
    text = raw.decode("utf-8", "surrogateescape")
    assert (path_problem(raw) is None) == (path_problem(text) is None)


@settings(max_examples=300, deadline=None)
@given(st.lists(_path, min_size=1, max_size=4, unique=True))
def test_tree_manifest_decode_agrees_with_the_checker(paths: list[str]) -> None:
    raws = [os.fsencode(p) if "\x00" not in p else p.encode("utf-8", "surrogateescape") for p in paths]
    assume(len(set(raws)) == len(raws))
    bad = [r for r in raws if path_problem(r) is not None]
    entries = tuple(TreeEntry(r, b"\x01" * 16, 1, False) for r in raws)
    if bad:
        with pytest.raises(UnsafeTreePathError):
            TreeManifest(entries)
        return
    try:
        tree = TreeManifest(entries)
    except ValueError as e:  # "a" and "a/b" both files: a structural rule, not a path rule
        assert "both a file and a directory" in str(e)
        return
    assert TreeManifest.decode(tree.encode()) == tree


@pytest.mark.parametrize(
    ("path", "expect"),
    [
        ("", "is empty"),
        ("/etc/passwd", "is absolute"),
        ("\\share\\x", "is absolute"),
        ("a/../b", "'..' component"),
        ("a/./b", "'.' component"),
        ("a//b", "empty component"),
        ("a/", "empty component"),
        ("a\x00b", "NUL"),
        (".git", "dvx never writes into .git"),
        ("sub/.GIT/config", "may treat as .git"),
        (".g\u200cit", "may treat as .git"),
        (".git.", "may treat as .git"),
        (".git ", "may treat as .git"),
        (".git::$INDEX_ALLOCATION", "may treat as .git"),
        ("GIT~1", "may treat as .git"),
        ("x/.dvx/config", "dvx never writes into .dvx"),
        (".\u200c.", "may read as '..'"),
        ("a\\..\\b", "'..' component"),
        ("x" * 256, "256-byte component"),
        ("/".join(["y" * 200] * 25), "bytes long"),
    ],
)
def test_refusals_say_why(path: str, expect: str) -> None:
    why = path_problem(path)
    assert why is not None and expect in why, why


@pytest.mark.parametrize(
    "path",
    ["data/train.csv", ".gitignore", ".github/workflows/ci.yml", "git/x", "gitx", ".gitx", "a.git", "dvx.toml",
     "x.dvx", "a:b", "résumé.txt", "\U0001F468\u200d\U0001F469.png", "x" * MAX_COMPONENT_BYTES, "a\\b", "...."],
)
def test_ordinary_names_are_accepted(path: str) -> None:
    assert path_problem(path) is None


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from([".", "..", ".git", ".GIT", "Git~1", ".dVx", "dvx~1", ":", " ", "a", "/", "\\", "x" * 200]),
                min_size=1, max_size=8).map("".join))
def test_ascii_fast_path_agrees_with_the_component_rules(path: str) -> None:
    from dvx._paths import _SEP, _component_problem

    assume(not path.startswith(("/", "\\")) and len(path) <= MAX_PATH_BYTES)
    slow = all(_component_problem(c) is None for c in _SEP.split(path))
    assert (path_problem(path) is None) == slow, path


_ascii_component = st.lists(st.sampled_from([".", "..", ".git", "GIT~1", ".DvX", "dvx", "g", "it", "a", "b", "~1",
                                             ":", " ", "\\", "/", "\x00", "x" * 200]), max_size=4).map("".join)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.lists(_ascii_component, min_size=1, max_size=4).map("/".join).map(str.encode)
                | st.binary(max_size=12), max_size=8))
@example([b"a", b"b"])
@example([b"a/", b"b"])
@example([b"", b"b"])
@example([b"x" * 255, b"y" * 256])
@example([b"a", b"b/.GIT"])
@example([b"a\\b"])
def test_a_whole_tree_is_checked_as_each_path_would_be(paths: list[bytes]) -> None:
    """The bulk check of a tree's paths (one search over the joined paths) refuses exactly what the
    per-path check refuses, and names the first such path."""
    one_by_one = next(((p, w) for p in paths if (w := path_problem(p)) is not None), None)
    assert first_path_problem(paths) == one_by_one
