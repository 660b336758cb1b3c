"""The ``external`` key of a pointer written by ``dvx add --external`` (docs/format.md, "Pointer file"):
what is written reads back as itself, a damaged value is refused naming the line, and a reader keeps it."""

from __future__ import annotations

from fuzzkit import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from dvx.errors import PointerError
from dvx.workspace import pointer as ptr

_OID = "8f3c" * 8
_url = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=80).filter(
    lambda v: ptr.source_value_problem(v) is None)


@fuzz_settings()
@given(_url, st.sampled_from(["file", "dir"]))
def test_a_written_external_url_reads_back_as_itself(url: str, kind: str) -> None:
    p = ptr.Pointer(kind, _OID, 5, 1, 1, profile=_OID, external=url)
    text = p.dumps("data/raw")
    assert text.splitlines()[-1] == f"external: {url}"  # after profile, before any source-* key
    again = ptr.parse(text, "data/raw.dvx")
    assert again == p and again.external == url and again.extra == {}


def test_a_damaged_external_value_is_refused_naming_its_line() -> None:
    good = ptr.Pointer("dir", _OID, 5, 1, 1, external="s3://b/p/").dumps("raw")
    for bad in ("", "\x01s3://b"):
        text = good.replace("external: s3://b/p/", f"external: {bad}")
        try:
            ptr.parse(text, "raw.dvx")
        except PointerError as e:
            assert e.exit_code == 2 and e.format_message().startswith("raw.dvx:8: 'external'"), e.format_message()
        else:
            raise AssertionError(f"accepted {bad!r}")
