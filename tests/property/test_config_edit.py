"""Config edits (dvx._tomledit, what `dvx config` and `dvx remote` write): setting a key keeps every
other line and comment in order and reads back the value set; unsetting it again gives the text
as it was (byte for byte, but for a blank line before a nested table it made)."""

from __future__ import annotations

import string
import tomllib

import pytest
from fuzzkit import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from dvx._tomledit import set_value, unset_value

pytestmark = [pytest.mark.property, pytest.mark.timeout(240)]

_bare = st.text(string.ascii_lowercase + string.digits + "_-", min_size=1, max_size=8)
_comment = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=30).map(lambda s: "# " + s)
_scalar = st.one_of(st.booleans(), st.integers(-(2**40), 2**40), st.text(string.printable.strip(), max_size=20))


def _toml_value(v: object) -> str:
    import json

    return ("true" if v else "false") if isinstance(v, bool) else json.dumps(v)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A config as people write it: comments, blank lines, tables (some dotted, as [remote.x])."""
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append(draw(_comment))
    names = draw(st.lists(st.one_of(_bare, _bare.map(lambda n: f"remote.{n}")), min_size=1, max_size=4,
                          unique_by=lambda n: n.split(".")[0] if "." not in n else n))
    names = [n for n in names if not any(m != n and m.startswith(n + ".") for m in names)
             and not ("." not in n and n == "remote")]
    for name in names:
        if draw(st.booleans()):
            lines.append("")
        lines.append(f"[{name}]")
        for key in draw(st.lists(_bare, min_size=1, max_size=4, unique=True)):  # an emptied table is removed
            if draw(st.booleans()):
                lines.append(draw(_comment))
            trailing = f"  {draw(_comment)}" if draw(st.booleans()) else ""
            lines.append(f"{key} = {_toml_value(draw(_scalar))}{trailing}")
        if draw(st.booleans()):
            lines.append(draw(_comment))
    return "\n".join(lines) + "\n"


def _is_subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(any(line == b for b in it) for line in small)


@fuzz_settings(0.5)
@given(documents(), st.one_of(st.lists(_bare, min_size=2, max_size=3), st.tuples(st.just("remote"), _bare, _bare).map(list)),
       _scalar, st.data())
def test_set_then_unset_keeps_every_other_line(text: str, path: list[str], value: object, data: st.DataObject) -> None:
    tomllib.loads(text)  # the generator makes valid TOML only
    existing = tomllib.loads(text)
    # Half the time, put the new key in a table that is already there.
    # (not `remote`: it only holds [remote.NAME] tables, and `dvx config` sets no value directly in it)
    tables = [t for t in existing if isinstance(existing[t], dict) and t != "remote"]
    if tables and data.draw(st.booleans()):
        path = [data.draw(st.sampled_from(tables)), *path[1:]]
    cur = existing
    for n in path[:-1]:
        cur = cur.get(n) if isinstance(cur, dict) else None  # type: ignore[assignment]
    if cur is not None and not isinstance(cur, dict):
        return  # a value where the table would go: refused, checked elsewhere
    new_key = not isinstance(cur, dict) or path[-1] not in cur
    if (path[0] == "remote" and len(path) != 3) or (not new_key and isinstance(cur[path[-1]], dict)):
        return  # a table where the value would go: refused (test below)

    after = set_value(text, path, value)
    got = tomllib.loads(after)
    for n in path:
        got = got[n]
    assert got == value
    kept = [ln for ln in text.splitlines() if ln.strip() and not (not new_key and ln.split("=")[0].strip() == path[-1])]
    assert _is_subsequence(kept, after.splitlines()), (text, after)
    if new_key:
        back, removed = unset_value(after, path)
        assert removed
        # Every line back as it was; only blank lines tomlkit put before a table it made may stay.
        assert [ln for ln in back.splitlines() if ln.strip()] == [ln for ln in text.splitlines() if ln.strip()]
        if len(path) == 2 or path[0] not in existing:
            assert back == text


def test_new_key_goes_after_the_last_key_not_after_the_next_tables_comment() -> None:
    text = "[core]\nformat = 1\n\n# the remotes\n[remote.origin]\nurl = \"/x\"\n"
    assert set_value(text, ["core", "remote"], "origin") == (
        "[core]\nformat = 1\nremote = \"origin\"\n\n# the remotes\n[remote.origin]\nurl = \"/x\"\n")


def test_a_value_never_replaces_a_table() -> None:
    from dvx.errors import ConfigError

    with pytest.raises(ConfigError, match="is a table"):
        set_value('[remote.origin]\nurl = "/x"\n', ["remote", "origin"], "y")
