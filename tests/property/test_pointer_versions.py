"""``dvx.scm.revs.pointer_versions`` (a parser of ``git log -z --raw -m``): on random histories with
merges (some writing versions neither parent had) and odd path names, it lists exactly the pointer
versions found at the commits of HEAD's history, each with a commit that holds it."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from dvxtest import env, make_git_repo
from fuzzkit import EXAMPLES, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from dvx.scm.revs import ls_tree, pointer_versions

pytestmark = [pytest.mark.property, pytest.mark.timeout(240 + EXAMPLES)]

# Names a state machine could take for something else: "C…" (the commit line), ":…" (a raw
# record), spaces, newlines, tabs, non-ASCII; some not pointers at all, one under .dvx/.
_NAMES = ["a.dvx", "C0ffee.dvx", ":x.dvx", "sp ace.dvx", "new\nline.dvx", "tab\t.dvx", "d/é.dvx",
          "d/e/deep.dvx", "plain.txt", ".dvx/config.dvx"]
# Bodies: a few shared ones (the same version in many commits) and many unique ones.
_body = st.one_of(st.sampled_from([b"v1\n", b"\xff\n"]), st.integers(0, 10**9).map(lambda k: b"%d\n" % k))
_tree = st.dictionaries(st.sampled_from(_NAMES), _body, max_size=5)
# Each commit: its files and its parents, as indexes into the commits before it (two: a merge).
_history = st.lists(st.tuples(_tree, st.lists(st.integers(0, 10**6), max_size=2, unique=True)), min_size=1, max_size=7)


def _git(repo: Path, data: bytes, *args: str, index: str | None = None) -> str:
    e = env() | ({"GIT_INDEX_FILE": index} if index else {})
    return subprocess.run(["git", "-C", str(repo), *args], input=data, capture_output=True, env=e,
                          check=True).stdout.decode().strip()


def _build(repo: Path, history: list[tuple[dict[str, bytes], list[int]]]) -> list[str]:
    shas: list[str] = []
    for i, (files, parents) in enumerate(history):
        with tempfile.TemporaryDirectory() as tmp:
            index = str(Path(tmp) / "index")
            info = b""
            for name, body in files.items():
                blob = _git(repo, body, "hash-object", "-w", "--stdin")
                info += f"100644 {blob}\t".encode() + name.encode() + b"\0"
            _git(repo, info, "update-index", "-z", "--add", "--index-info", index=index)
            tree = _git(repo, b"", "write-tree", index=index)
        ps = [shas[p % i] for p in parents] if i else []
        args = [a for p in dict.fromkeys(ps) for a in ("-p", p)]
        shas.append(_git(repo, b"", "commit-tree", tree, *args, "-m", f"c{i}"))
    _git(repo, b"", "update-ref", "HEAD", shas[-1])
    return shas


@fuzz_settings(0.1, shrink=False)
@given(_history)
def test_every_version_of_heads_history_once(history: list[tuple[dict[str, bytes], list[int]]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_git_repo(Path(tmp) / "r")
        _build(repo, history)
        reachable = _git(repo, b"", "rev-list", "HEAD").split()
        present = {}
        for sha in reachable:
            for path, (blob, _size) in ls_tree(repo, sha).items():
                if path.endswith(".dvx") and not path.startswith(".dvx/"):
                    present.setdefault((path, blob), set()).add(sha)
        got = pointer_versions(repo)
        assert len(got) == len({(p, b) for _s, p, b in got})
        assert {(p, b) for _s, p, b in got} == set(present)
        for sha, path, blob in got:
            assert sha in present[(path, blob)]
