"""The index records gc plans from, as numpy arrays (``dvx.store.gc.plan_gc``).

An index record is a fixed 50-byte struct (docs/format.md, "Index format"),
so the records of every index file are read with ``numpy.frombuffer`` and
grouped by object and by pack with sorts instead of a Python loop per record
(a 2 GiB cache holds 80,000 of them). numpy is imported here on first use:
``dvx --help`` and every other command never load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dvx.hashing import hash_bytes
from dvx.store.index import HEAD_SIZE, INDEX_MAGIC, INDEX_VERSION, RECORD_SIZE, Record, decode_index, encode_index

if TYPE_CHECKING:
    from collections.abc import Iterable
    from collections.abc import Set as AbstractSet

Array = Any  # numpy.ndarray (numpy is imported lazily; its stubs would not add safety here)

# Little-endian as the struct "<16s16sQIIBB" of dvx.store.index; ids as big-endian u64 pairs sort as bytes do.
_FIELDS = [("oid", "V16"), ("pack", "V16"), ("offset", "<u8"), ("stored", "<u4"), ("raw", "<u4"),
           ("otype", "u1"), ("flags", "u1")]


def rec_dtype() -> Any:
    import numpy as np

    dt = np.dtype(_FIELDS)
    assert dt.itemsize == RECORD_SIZE
    return dt


def keys(ids: Array) -> tuple[Array, Array]:
    """(high, low) big-endian u64 halves of a V16 id column: lexsort on them is byte order."""
    import numpy as np

    k = np.ascontiguousarray(ids).view(">u8").reshape(-1, 2)
    return k[:, 0], k[:, 1]


def codes(ids: Array) -> tuple[Array, Array]:
    """Each id's group number (groups in id order) and, per group, the index of its first row."""
    import numpy as np

    n = len(ids)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    hi, lo = keys(ids)
    order = np.lexsort((lo, hi))  # stable: a group's rows keep their order
    new = np.ones(n, bool)
    new[1:] = (hi[order][1:] != hi[order][:-1]) | (lo[order][1:] != lo[order][:-1])
    code = np.empty(n, np.int64)
    code[order] = np.cumsum(new) - 1
    return code, order[new]


def file_records(data: bytes) -> Array:
    """The records of a verified index file as a structured array; an id listed twice keeps its
    last record (as ``decode_index``): only a crafted file has one, and it is rebuilt then."""
    import numpy as np

    a = np.frombuffer(data, rec_dtype(), offset=HEAD_SIZE)
    if len(a) > 1:
        hi, lo = keys(a["oid"])
        if not bool(np.all((hi[1:] > hi[:-1]) | ((hi[1:] == hi[:-1]) & (lo[1:] > lo[:-1])))):
            a = np.frombuffer(encode_index(decode_index(data).values()), rec_dtype(), offset=HEAD_SIZE)
    return a


def to_records(a: Array) -> list[Record]:
    """Rows of a structured record array as ``Record`` tuples."""
    return list(map(Record._make, a.tolist()))


def from_records(recs: Iterable[Record]) -> Array:
    import numpy as np

    from dvx.store.index import _REC

    pack = _REC.pack
    return np.frombuffer(b"".join([pack(*r) for r in recs]), rec_dtype())


def index_files(recs: Iterable[Record], entries: int, rows: Array = None) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of index files listing ``rows`` (a record array) then ``recs``, sorted by id,
    ``entries`` each; an id listed twice keeps its last record."""
    import numpy as np

    from dvx.store.index import _HEAD

    a = from_records(recs)
    if rows is not None:
        a = np.concatenate([rows, a])
    if len(a) == 0:
        return []
    hi, lo = keys(a["oid"])
    order = np.lexsort((lo, hi))
    hs, ls = hi[order], lo[order]
    last = np.ones(len(a), bool)  # the last row of each run of one id
    last[:-1] = (hs[1:] != hs[:-1]) | (ls[1:] != ls[:-1])
    rows = a[order[last]]
    out = []
    for k in range(0, len(rows), entries):
        part = rows[k : k + entries]
        data = _HEAD.pack(INDEX_MAGIC, INDEX_VERSION, len(part)) + part.tobytes()
        out.append((hash_bytes(data).hex(), data))
    return out


class Table:
    """Every record of the readable index files (in name order) as arrays, grouped by object and by pack."""

    def __init__(self, files: list[tuple[str, bytes]], live: AbstractSet[bytes]) -> None:
        import numpy as np

        parts = [file_records(d) for _n, d in files]
        self.names = [n for n, _d in files]
        self.a = np.concatenate(parts) if parts else np.zeros(0, rec_dtype())
        self.file = np.repeat(np.arange(len(parts)), [len(p) for p in parts]).astype(np.int64)
        self.obj, first = codes(self.a["oid"])  # object group of each record; a group's first record
        self.first = first
        self.pk, pfirst = codes(self.a["pack"])
        self.pids: list[bytes] = self.a["pack"][pfirst].tolist()
        glive = np.fromiter((o in live for o in self.a["oid"][first].tolist()), bool, len(first))
        self.live = glive[self.obj]  # per record: its object is live
        self.stored = self.a["stored"].astype(np.int64)

    def young_packs(self, young_names: AbstractSet[str]) -> list[int]:
        import numpy as np

        young = np.array([n in young_names for n in self.names], bool)
        return sorted(set(self.pk[young[self.file]].tolist())) if len(self.file) else []
