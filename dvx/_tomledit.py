"""Edit one value of a TOML text in place, keeping every other line, comment and the order.

Config files are written by people: ``dvx config`` and ``dvx remote`` must
change the one key they were asked to and leave the rest as written.
tomllib cannot write, and a writer that re-serialises the parsed data drops
comments, so edits go through tomlkit's style-preserving document model.
tomlkit is imported here only: reads stay on tomllib, so ``dvx --help`` and
the git hooks never load it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from dvx.errors import ConfigError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _parse(text: str, where: str) -> Any:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(text)
    except (TOMLKitError, ValueError, RecursionError) as e:
        raise ConfigError(f"{where}: invalid TOML: {e}", "fix the file by hand") from None


def _table_at(doc: Any, names: Sequence[str], where: str, create: bool) -> Any:
    """The table ``names`` of ``doc`` (made when ``create``); None when absent and not made."""
    import tomlkit

    cur = doc
    for i, n in enumerate(names):
        nxt = cur.get(n)
        if nxt is None:
            if not create:
                return None
            # A table that only holds tables ([remote] above [remote.origin]) is
            # written as a super table: no empty "[remote]" header.
            cur[n] = tomlkit.table(is_super_table=i < len(names) - 1)
            nxt = cur[n]
        elif not isinstance(nxt, dict):
            dotted = ".".join(names[: i + 1])
            raise ConfigError(f"{where}: {dotted} is a value, not a table; cannot set a key inside it",
                              "fix the file by hand")
        cur = nxt
    return cur


def set_value(text: str, names: Sequence[str], value: Any, where: str = "config") -> str:
    """``text`` with ``names[0].names[1]...= value`` set (tables made as needed)."""
    doc = _parse(text, where)
    table = _table_at(doc, names[:-1], where, create=True)
    if isinstance(table.get(names[-1]), dict) and not isinstance(value, dict):
        raise ConfigError(f"{where}: {'.'.join(names)} is a table; a value would replace all of it",
                          "fix the file by hand")
    _put(table, names[-1], value)
    return _tidy(text, doc.as_string())


def _put(table: Any, key: str, value: Any) -> None:
    """``table[key] = value``; a new key goes right after the table's last key, not after the
    blank lines and comments that end it (they usually introduce the next table)."""
    import tomlkit
    from tomlkit.items import AoT, Table

    if key in table or not isinstance(table, Table):
        table[key] = value
        return
    body = table.value.body
    keys = [i for i, (k, v) in enumerate(body) if k is not None and not isinstance(v, (Table, AoT))]
    if not keys or keys[-1] + 1 >= len(body):
        table[key] = value
        return
    table.value._insert_at(keys[-1] + 1, key, tomlkit.item(value))


def _tidy(before: str, after: str) -> str:
    """``after`` ending as ``before`` did: tomlkit leaves a blank line after a key it appends at the end."""
    if before == "" or before.endswith("\n"):
        return after.rstrip("\n") + "\n" if after.strip() else ""
    return after


def unset_value(text: str, names: Sequence[str], where: str = "config") -> tuple[str, bool]:
    """``text`` without ``names`` (a key or a whole table), and whether it was there.

    Tables this leaves empty are removed too (``[hooks]`` after its last key,
    ``remote`` above ``[remote.x]``), so a set followed by an unset gives the
    file back as it was.
    """
    doc = _parse(text, where)
    chain = [doc]
    for n in names[:-1]:
        nxt = chain[-1].get(n)
        if not isinstance(nxt, dict):
            return text, False
        chain.append(nxt)
    if names[-1] not in chain[-1]:
        return text, False
    del chain[-1][names[-1]]
    for i in range(len(chain) - 1, 0, -1):
        if len(chain[i]) == 0:
            del chain[i - 1][names[i - 1]]
        else:
            break
    return _tidy(text, doc.as_string()), True


def _fmt_key(k: str) -> str:
    return k if _BARE_KEY.match(k) else _fmt_value(k)


def _fmt_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        esc = v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{esc}"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dumps_toml(data: Mapping[str, Any]) -> str:
    """Serialise nested dicts of scalars/lists to TOML, tables after scalars (a new file: ``dvx init``)."""
    lines: list[str] = []

    def emit(prefix: list[str], table: Mapping[str, Any]) -> None:
        scalars = [(k, v) for k, v in table.items() if not isinstance(v, Mapping)]
        tables = [(k, v) for k, v in table.items() if isinstance(v, Mapping)]
        if prefix and (scalars or not tables):
            if lines:
                lines.append("")
            lines.append("[" + ".".join(_fmt_key(p) for p in prefix) + "]")
        for k, v in scalars:
            lines.append(f"{_fmt_key(k)} = {_fmt_value(v)}")
        for k, v in tables:
            emit([*prefix, k], v)

    emit([], data)
    return "\n".join(lines) + "\n"
