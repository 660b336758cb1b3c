"""The accepted-drift file (expectations/accepted.toml, dvx.gate.accepted): what dvx writes it
parses back to the same acceptances, and hostile bytes end only as AcceptanceError (exit 2),
one line naming the file and, where the TOML locates it, the line."""

from __future__ import annotations

import string

import pytest
from fuzzkit import EXAMPLES, fuzz_settings, mutations
from hypothesis import given
from hypothesis import strategies as st

from dvx.errors import AcceptanceError
from dvx.gate.accepted import ACCEPTED_FILE, MAX_TEXT, Acceptance, Figure, dumps, loads, normalise, parse

pytestmark = [pytest.mark.property, pytest.mark.timeout(240 + EXAMPLES // 5)]

_oid = st.text("0123456789abcdef", min_size=32, max_size=32)
_component = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=12)
_path = st.lists(_component, min_size=1, max_size=4).map("/".join).filter(lambda p: not p.endswith(".dvx"))
# Any text TOML can carry: control characters, DEL, quotes, backslashes, non-BMP; no lone surrogates.
_any = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
_nonblank = _any.filter(lambda s: s.strip() != "")
_at = st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")).filter(lambda s: len(s) == 20)
_figure = st.builds(Figure, _any, _any, _any, _any)
_acceptance = st.builds(Acceptance, _path, _oid, _oid, _nonblank, _at, _nonblank,
                        st.lists(_figure, max_size=4).map(tuple))


@fuzz_settings()
@given(st.lists(_acceptance, max_size=6))
def test_round_trip(entries: list[Acceptance]) -> None:
    text = dumps(entries)
    assert parse(text) == normalise(entries)
    assert dumps(parse(text)) == text  # stable: writing what was read changes nothing
    assert loads(text.encode("utf-8")) == normalise(entries)


def test_entries_are_sorted_and_deduplicated() -> None:
    a = Acceptance("b/x.csv", "1" * 32, "2" * 32, "A <a@x>", "2026-01-02T00:00:00Z", "later")
    b = Acceptance("a/x.csv", "3" * 32, "4" * 32, "B <b@x>", "2026-01-03T00:00:00Z", "first path")
    dup = Acceptance("b/x.csv", "1" * 32, "2" * 32, "C <c@x>", "2026-01-05T00:00:00Z", "again")
    assert parse(dumps([a, dup, b])) == [b, a]


_VALID = dumps([Acceptance("data/train.csv", "a" * 32, "b" * 32, "dvx test <t@example.invalid>",
                           "2026-12-03T14:00:00Z", "new sensor", (Figure("ks", "x", "0.53", "<= 0.06"),))]).encode()


@fuzz_settings(2.0)
@given(mutations(_VALID))
def test_hostile_bytes_end_as_acceptance_error(raw: bytes) -> None:
    try:
        loads(raw)
    except AcceptanceError as e:
        msg = e.format_message()
        assert msg.startswith(ACCEPTED_FILE) and "\n" not in msg and "\r" not in msg, msg
        assert e.exit_code == 2


@pytest.mark.parametrize(
    ("old", "new", "line", "what"),
    [
        ('data_id = "' + "a" * 32, 'data_id = "' + "A" * 32, 9, "data_id must be 32 lowercase hex digits"),
        ('baseline_id = "', "baseline_id = 7 #", 10, "baseline_id must be 32 lowercase hex digits"),
        ('path = "data/train.csv"', 'path = "../etc/passwd"', 8, "path '../etc/passwd'"),
        ('path = "data/train.csv"', 'path = "data/train.csv.dvx"', 8, "names a pointer file"),
        ('reason = "new sensor"', 'reason = "  "', 13, "reason is empty"),
        ('reason = "new sensor"', 'reason = "' + "r" * (MAX_TEXT + 1) + '"', 13, "longer than"),
        ('by = "', 'who = "', 11, "unknown key 'who'"),
        ('at = "2026-12-03T14:00:00Z"', 'at = "2026-02-30T14:00:00Z"', 12, "at must be a UTC time"),
        ("version = 1", "version = 2", 5, "version 2 is not one this dvx reads"),
        ("version = 1", "verison = 1", 5, "unknown key 'verison'"),
        ('{ name = "ks", ', '{ nam = "ks", ', 14, "each figure is a table of"),
        ("\n[[accept]]\n", "\n[accept]\n", 7, "accept must be an array of tables"),
        ("\n[[accept]]\n", "\n[[accept]\n", 7, "invalid TOML"),
    ],
)
def test_bad_entries_name_file_and_line(old: str, new: str, line: int, what: str) -> None:
    text = _VALID.decode()
    assert old in text
    with pytest.raises(AcceptanceError) as ei:
        parse(text.replace(old, new, 1))
    msg = ei.value.message
    assert msg.startswith(f"{ACCEPTED_FILE}:{line}: ") and what in msg, msg


def test_not_utf8_and_huge_are_refused() -> None:
    with pytest.raises(AcceptanceError, match=rf"^{ACCEPTED_FILE}:7: is not UTF-8"):
        loads(_VALID.replace(b"\n[[accept]]", b"\n\xff[[accept]]"))
    with pytest.raises(AcceptanceError, match="larger than 4 MiB"):
        loads(_VALID + b"#" * (4 << 20))
