"""Repository configuration: ``.dvx/config`` (committed) and ``.dvx/config.local``.

Both are TOML. The local file overrides the committed one key by key and is
where secrets go (it is git-ignored). ``DVX_<SECTION>_<KEY>`` environment
variables override both, for CI. Written back with a small TOML emitter that
keeps key order stable so the file diffs well in git.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from dvx._fsutil import atomic_write
from dvx._textfile import config_error, line_of_key, parse_toml, read_text
from dvx.errors import ConfigError

CONFIG_NAME = "config"
LOCAL_NAME = "config.local"

# The repository format: `[core] format`, checked on every open (docs/format.md, "Format versions").
REPO_FORMAT = 1

# Written at `dvx init`; the chunking parameters must never change for a
# repository afterwards or chunk ids stop matching (docs/format.md).
DEFAULTS: dict[str, dict[str, Any]] = {
    "core": {"format": REPO_FORMAT, "autostage": False},
    "chunking": {
        "algorithm": "fastcdc-gear-v1",
        "min_size": 16384,
        "avg_size": 65536,
        "max_size": 262144,
    },
    # Local packs hold chunks raw by default: zstd level 1 runs at ~224 MB/s
    # per core on a numeric CSV here, which alone would make `dvx add` of a
    # 1 GiB CSV slower than `dvc add` (2.6 s). Remote packs are zstd-compressed
    # where it saves at least 1/8 (the network is the bottleneck there).
    # Set compression = "zstd" to compress the local cache too. fsync = true:
    # every local pack is fsync'ed, and its packs/<xx>/ folder synced, before
    # an index names it (docs/format.md, "Power loss"); fsync = false opts
    # out: a power cut may then lose packs that an index names; `dvx fsck`
    # finds and `dvx fsck --repair`/`dvx pull` heal it.
    "cache": {"compression": "none", "fsync": True},
}

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


# The keys dvx itself reads and the TOML type each must have (bool is not an
# int here, although Python says it is). Other keys are kept as written.
_TYPES: dict[str, dict[str, type]] = {
    "core": {"format": int, "autostage": bool, "remote": str},
    "chunking": {"algorithm": str, "min_size": int, "avg_size": int, "max_size": int},
    "cache": {"compression": str, "fsync": bool, "dir": str, "shared": str, "type": str},
}
_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("cache", "compression"): ("none", "zstd"),
    ("cache", "shared"): ("none", "group"),
    # auto: clone from the cache where the file system can (btrfs, XFS, APFS), else copy; copy: never clone.
    ("cache", "type"): ("auto", "copy"),
}
_TYPE_NAMES = {int: "an integer", bool: "true or false", str: "a string"}


def has_type(value: Any, typ: type) -> bool:
    """``isinstance`` where True/False do not count as integers."""
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, typ)


def _check(path: Path, text: str, data: dict[str, Any]) -> None:
    """ConfigError ``file:line: [section] key must be ...`` for a known key of the wrong type."""

    def fail(table: str | None, key: str, what: str) -> NoReturn:
        line = line_of_key(text, table, key)
        where = f"{path}:{line}" if line is not None else str(path)
        name = f"[{table}] {key}" if table else key
        raise ConfigError(f"{where}: {name} {what}", "fix the file by hand")

    for section, keys in _TYPES.items():
        if section not in data:
            continue
        table = data[section]
        if not isinstance(table, dict):
            fail(None, section, f"must be a table ([{section}]), got {type(table).__name__}")
        for key, typ in keys.items():
            if key in table and not has_type(table[key], typ):
                fail(section, key, f"must be {_TYPE_NAMES[typ]}, got {table[key]!r:.80}")
            choices = _CHOICES.get((section, key))
            if choices and key in table and table[key] not in choices:
                fail(section, key, f"must be one of {', '.join(map(repr, choices))}, got {table[key]!r:.80}")
    remotes = data.get("remote")
    if remotes is None:
        return
    if not isinstance(remotes, dict):
        fail(None, "remote", f"must be a table of remotes ([remote.NAME]), got {type(remotes).__name__}")
    for name, spec in remotes.items():
        if not isinstance(spec, dict):
            fail("remote", name, f"must be a table ([remote.{name}]), got {type(spec).__name__}")


def _load_file(path: Path) -> tuple[str, dict[str, Any]]:
    """(text, parsed data) of one config file; ("", {}) when it does not exist."""
    err = config_error(str(path))
    text = read_text(path, err)
    if text is None:
        return "", {}
    data = parse_toml(text, err)
    _check(path, text, data)
    return text, data


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


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
    """Serialise nested dicts of scalars/lists to TOML, tables after scalars."""
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


class Config:
    """The merged configuration of one repository's ``.dvx`` directory."""

    def __init__(self, dvx_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(dvx_dir)
        self.path = self.dir / CONFIG_NAME
        self.local_path = self.dir / LOCAL_NAME
        self._repo_text, self.repo_data = _load_file(self.path)
        self._local_text, self.local_data = _load_file(self.local_path)

    @property
    def data(self) -> dict[str, Any]:
        """Defaults < committed < local < environment."""
        merged = _merge(_merge(DEFAULTS, self.repo_data), self.local_data)
        for name, value in os.environ.items():
            if not name.startswith("DVX_") or name.count("_") < 2:
                continue
            section, _, key = name[4:].lower().partition("_")
            if section in merged and isinstance(merged[section], dict) and key in merged[section]:
                got = _coerce(name, value, merged[section][key])
                if section == "chunking" and got != merged[section][key]:
                    # Fixed at `dvx init`: another value would give every file other chunk ids.
                    raise ConfigError(
                        f"environment variable {name}={value!r:.80} would change [chunking] {key} = "
                        f"{merged[section][key]!r} of {self.where('chunking', key)}; the chunking parameters "
                        "of a repository are fixed at `dvx init`", f"unset {name}")
                merged[section][key] = got
                choices = _CHOICES.get((section, key))
                if choices and merged[section][key] not in choices:
                    raise ConfigError(f"environment variable {name} must be one of {', '.join(map(repr, choices))}, "
                                      f"got {value!r:.80}", f"unset {name} or fix it")
        return merged

    def where(self, table: str | None, key: str) -> str:
        """``file:line`` (or ``file``) that sets ``key`` of ``[table]``: the local file when it does."""
        for path, text, data in ((self.local_path, self._local_text, self.local_data),
                                 (self.path, self._repo_text, self.repo_data)):
            cur: Any = data
            for part in (table.split(".") if table else []):
                cur = cur.get(part) if isinstance(cur, dict) else None
            if isinstance(cur, dict) and key in cur:
                line = line_of_key(text, table, key)
                return f"{path}:{line}" if line is not None else str(path)
        return str(self.path)

    def get(self, section: str, key: str, default: Any = None) -> Any:
        """One value, ``default`` when absent."""
        table = self.data.get(section)
        return table.get(key, default) if isinstance(table, dict) else default

    def section(self, *names: str) -> dict[str, Any]:
        """A (possibly nested) table, ``{}`` when absent."""
        cur: Any = self.data
        for n in names:
            cur = cur.get(n, {}) if isinstance(cur, dict) else {}
        return dict(cur) if isinstance(cur, dict) else {}

    def set(self, names: list[str], value: Any, *, local: bool = False) -> None:
        """Set ``a.b.c = value`` in the committed (or local) file and save it."""
        data = self.local_data if local else self.repo_data
        cur = data
        for n in names[:-1]:
            cur = cur.setdefault(n, {})
        cur[names[-1]] = value
        self.save(local=local)

    def unset(self, names: list[str], *, local: bool = False) -> bool:
        """Remove ``a.b.c``; True when something was removed."""
        data = self.local_data if local else self.repo_data
        cur: Any = data
        for n in names[:-1]:
            cur = cur.get(n)
            if not isinstance(cur, dict):
                return False
        if names[-1] not in cur:
            return False
        del cur[names[-1]]
        self.save(local=local)
        return True

    def save(self, *, local: bool = False) -> None:
        """Write the committed (or local) file atomically."""
        target = self.local_path if local else self.path
        atomic_write(target, dumps_toml(self.local_data if local else self.repo_data).encode())


def _coerce(name: str, text: str, like: Any) -> Any:
    """The value of environment variable ``name`` as the type of the value it overrides."""
    if isinstance(like, bool):
        low = text.strip().lower()
        if low in {"1", "true", "yes", "on"}:
            return True
        if low in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"environment variable {name} must be true or false, got {text!r:.80}", f"unset {name} or fix it")
    if isinstance(like, int):
        if not re.fullmatch(r"\s*[0-9]{1,19}\s*", text):
            raise ConfigError(f"environment variable {name} must be a non-negative integer, got {text!r:.80}", f"unset {name} or fix it")
        return int(text)
    return text
