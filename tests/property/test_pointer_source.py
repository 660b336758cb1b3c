"""The ``source-*`` keys of an imported path's pointer (docs/format.md, "Pointer file"): what is written
reads back as itself, and a damaged or partial set is refused with ``file:line`` (exit 2)."""

from __future__ import annotations

from fuzzkit import fuzz_settings, text_mutations
from hypothesis import given
from hypothesis import strategies as st

from dvx.errors import PointerError
from dvx.workspace import pointer as ptr

_OID = "8f3c" * 8
_SHA = "3f2a1b9c" * 5
# Printable text, as users give URLs, revisions and paths (non-ASCII included).
_value = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=60).filter(
    lambda v: ptr.source_value_problem(v) is None)
_sources = st.builds(ptr.Source, _value, st.none() | _value, st.sampled_from([_SHA, "0" * 64]), _value)
VALID = ptr.Pointer("dir", _OID, 10, 2, 3, source=ptr.Source("../shared", "v1.0", _SHA, "data/imgs")).dumps("imgs")
_SOURCE_KEYS = ["source-url", "source-rev", "source-commit", "source-path"]
_TRICKY = ["", " x", "x ", "a\x00b", "A" * 40, _SHA[:39], _SHA + "0", "g" * 40, "x" * 5000, "https://h/r.git"]


def _set_field(text: str, key: str, value: str | None) -> str:
    lines = text.split("\n")
    if value is None:
        return "\n".join(line for line in lines if not line.startswith(f"{key}:"))
    return "\n".join(f"{key}: {value}" if line.startswith(f"{key}:") else line for line in lines)


@fuzz_settings()
@given(_sources)
def test_a_written_source_reads_back_as_itself(source: ptr.Source) -> None:
    p = ptr.Pointer("file", _OID, 5, 1, 1, source=source)
    again = ptr.parse(p.dumps("x.csv"), "x.csv.dvx")
    assert again == p and again.source == source and again.extra == {}


@fuzz_settings(2)
@given(st.one_of(
    text_mutations(VALID),
    st.builds(_set_field, st.just(VALID), st.sampled_from(_SOURCE_KEYS), st.none() | st.sampled_from(_TRICKY) | st.text(max_size=30)),
))
def test_a_damaged_source_is_refused_naming_the_line(text: str) -> None:
    try:
        p = ptr.parse(text, "imgs.dvx")
    except PointerError as e:
        assert e.exit_code == 2 and e.format_message().startswith("imgs.dvx")
        assert "\n" not in e.format_message()
        if e.line is not None:
            assert 1 <= e.line <= text.count("\n") + 1
        return
    if p.source is not None:
        assert ptr.source_value_problem(p.source.url) is None and len(p.source.commit) in (40, 64)
    assert ptr.parse(p.dumps("imgs"), "again") == p


def test_partial_source_is_refused() -> None:
    for key in ("source-url", "source-commit", "source-path"):
        try:
            ptr.parse(_set_field(VALID, key, None), "imgs.dvx")
        except PointerError as e:
            assert f"without '{key}'" in e.message
        else:
            raise AssertionError(f"a pointer without {key} was accepted")
    # source-rev is optional: absent means the source's default branch.
    p = ptr.parse(_set_field(VALID, "source-rev", None), "imgs.dvx")
    assert p.source is not None and p.source.rev is None


def test_merge_driver_keeps_the_source_of_the_same_data() -> None:
    """Two branches that moved an import to the same data merge into a pointer that still names its source."""
    from dvx.workspace.merge import _merge

    origin = ptr.Source("../shared", "v1.0", _SHA, "data/imgs")
    ours = ptr.Pointer("dir", _OID, 10, 2, 3, source=origin)
    theirs = ptr.Pointer("dir", _OID, 10, 2, 3, "5b1e" * 8, source=origin)
    merged = _merge("imgs.dvx", None, ours, theirs)
    assert merged.source == origin and merged.profile == "5b1e" * 8
