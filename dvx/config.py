"""Configuration: TOML files layered system < global < project < local < environment.

- system: ``/etc/dvx/config`` (``$DVX_SYSTEM_CONFIG_DIR/config`` when set);
- global (per user): ``$DVX_GLOBAL_CONFIG_DIR/config``, else
  ``$XDG_CONFIG_HOME/dvx/config``, else ``~/.config/dvx/config``;
- project: ``.dvx/config`` (committed);
- local: ``.dvx/config.local`` (git-ignored: secrets and personal settings).

Each file overrides the ones before it key by key. ``DVX_<SECTION>_<KEY>``
environment variables override all of them, for CI, and
``DVX_REMOTE_<NAME>_<KEY>`` one key of one remote (docs/config.md). Reads use
tomllib; writes change one key with tomlkit (:mod:`dvx._tomledit`), keeping
every comment and the order of what people wrote.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from dvx._configkeys import (
    CONFIG_NAME,
    REMOTE_BOOL_KEYS,
    REMOTE_INT_KEYS,
    REMOTE_STR_KEYS,
    SECRET_KEYS,
    env_name,
    global_config_path,
    squash,
    system_config_path,
    value_problem,
)
from dvx._fsutil import atomic_write
from dvx._textfile import config_error, line_of_key, parse_toml, read_text
from dvx.errors import ConfigError

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

# The layers, lowest precedence first (the environment comes after them all).
SCOPES = ("system", "global", "project", "local")

# The keys dvx itself reads and the TOML type each must have (bool is not an
# int here, although Python says it is). Other keys are kept as written.
_TYPES: dict[str, dict[str, type]] = {
    "core": {"format": int, "autostage": bool, "remote": str},
    "chunking": {"algorithm": str, "min_size": int, "avg_size": int, "max_size": int},
    "cache": {"compression": str, "fsync": bool, "dir": str, "shared": str, "type": str},
    "hooks": {"fetch": bool},
    "compute": {"scheduler": str, "repo_url": str},
}
# Keys checked where they are read (dvx.gc.roots, dvx.remote.session), with
# their own messages; `dvx config` still knows their types.
_TYPES_ELSEWHERE: dict[str, dict[str, type]] = {
    "core": {"lock_stale": str, "lock_wait": str},
    "gc": {"repack": float, "grace": str},
}
_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("cache", "compression"): ("none", "zstd"),
    ("cache", "shared"): ("none", "group"),
    # auto: clone from the cache where the file system can (btrfs, XFS, APFS), else copy; copy: never clone.
    ("cache", "type"): ("auto", "copy"),
}
_TYPE_NAMES = {int: "an integer", bool: "true or false", str: "a string", float: "a number"}
# Fixed when a repository is created: never in a user or system file.
_PROJECT_ONLY = ("chunking", "core.format")
# Defaults of keys dvx reads that `dvx init` does not write.
_READ_DEFAULTS: dict[str, dict[str, Any]] = {"hooks": {"fetch": False}}

def known_type(section: str, key: str) -> type | None:
    """The type dvx requires of ``[section] key``, None when dvx does not read it."""
    return _TYPES.get(section, {}).get(key) or _TYPES_ELSEWHERE.get(section, {}).get(key)


def known_keys() -> list[str]:
    """``section.key`` of every key dvx reads outside ``[remote.*]``, sorted."""
    return sorted(f"{s}.{k}" for reg in (_TYPES, _TYPES_ELSEWHERE) for s, keys in reg.items() for k in keys)


def has_type(value: Any, typ: type) -> bool:
    """``isinstance`` where True/False do not count as integers (and integers count as numbers)."""
    if typ is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if typ is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, typ)


def _check(path: Path, text: str, data: dict[str, Any], scope: str = "project") -> None:
    """ConfigError ``file:line: [section] key must be ...`` for a known key of the wrong type."""

    def fail(table: str | None, key: str, what: str) -> NoReturn:
        line = line_of_key(text, table, key)
        where = f"{path}:{line}" if line is not None else str(path)
        name = f"[{table}] {key}" if table else key
        raise ConfigError(f"{where}: {name} {what}", "fix the file by hand")

    if scope in ("system", "global"):
        core = data.get("core")
        if "chunking" in data:
            fail(None, "chunking", "is fixed when a repository is created: only in a repository's .dvx/config")
        if isinstance(core, dict) and "format" in core:
            fail("core", "format", "is a repository's format: only in a repository's .dvx/config")
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
    bad = value_problem(data)
    if bad is not None:
        fail(*bad)
    remotes = data.get("remote")
    if remotes is None:
        return
    if not isinstance(remotes, dict):
        fail(None, "remote", f"must be a table of remotes ([remote.NAME]), got {type(remotes).__name__}")
    for name, spec in remotes.items():
        if not isinstance(spec, dict):
            fail("remote", name, f"must be a table ([remote.{name}]), got {type(spec).__name__}")


@dataclass
class ConfigFile:
    """One layer: its scope, path, text as read ("" when absent) and parsed data."""

    scope: str
    path: Path
    text: str
    data: dict[str, Any]

    @property
    def exists(self) -> bool:
        return bool(self.text) or self.path.is_file()


def _load_file(path: Path, scope: str = "project") -> ConfigFile:
    """One config file, checked; empty when it does not exist."""
    err = config_error(str(path))
    text = read_text(path, err)
    if text is None:
        return ConfigFile(scope, path, "", {})
    data = parse_toml(text, err)
    _check(path, text, data, scope)
    return ConfigFile(scope, path, text, data)


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


class Config:
    """The merged configuration seen from one repository's ``.dvx`` directory (None: outside any)."""

    def __init__(self, dvx_dir: str | os.PathLike[str] | None) -> None:
        self.dir = Path(dvx_dir) if dvx_dir is not None else None
        self.files: dict[str, ConfigFile] = {
            "system": _load_file(system_config_path(), "system"),
            "global": _load_file(global_config_path(), "global"),
        }
        if self.dir is not None:
            self.files["project"] = _load_file(self.dir / CONFIG_NAME, "project")
            self.files["local"] = _load_file(self.dir / LOCAL_NAME, "local")

    @property
    def path(self) -> Path:
        """``.dvx/config``."""
        return self.file("project").path

    @property
    def local_path(self) -> Path:
        """``.dvx/config.local``."""
        return self.file("local").path

    @property
    def repo_data(self) -> dict[str, Any]:
        return self.file("project").data

    @property
    def local_data(self) -> dict[str, Any]:
        return self.file("local").data

    def file(self, scope: str) -> ConfigFile:
        """The layer ``scope``; UsageError for project/local outside a repository."""
        if scope not in SCOPES:
            raise ValueError(scope)
        f = self.files.get(scope)
        if f is None:
            from dvx.errors import NotARepoError

            raise NotARepoError(f"not inside a dvx repository: there is no {scope} config file",
                                "run it inside a repository, or use --global or --system")
        return f

    def _files_merged(self) -> dict[str, Any]:
        merged = _merge(DEFAULTS, _READ_DEFAULTS)
        for scope in SCOPES:
            if scope in self.files:
                merged = _merge(merged, self.files[scope].data)
        return merged

    @property
    def data(self) -> dict[str, Any]:
        """Defaults < system < global < project < local < environment."""
        merged = self._files_merged()
        for name, (section, remote, key) in self.env_overrides(merged).items():
            value = os.environ[name]
            if remote is not None:
                table = merged["remote"][remote]
                table[key] = _coerce(name, value, table[key]) if isinstance(table.get(key), (bool, int)) else value
                continue
            got = _coerce(name, value, merged[section][key])
            if section == "chunking" and got != merged[section][key]:
                # Fixed at `dvx init`: another value would give every file other chunk ids.
                raise ConfigError(
                    f"environment variable {name}={value!r:.80} would change [chunking] {key} = "
                    f"{merged[section][key]!r} of {self.where('chunking', key, files_only=True)}; the chunking parameters "
                    "of a repository are fixed at `dvx init`", f"unset {name}")
            merged[section][key] = got
            choices = _CHOICES.get((section, key))
            if choices and got not in choices:
                raise ConfigError(f"environment variable {name} must be one of {', '.join(map(repr, choices))}, "
                                  f"got {value!r:.80}", f"unset {name} or fix it")
        return merged

    def env_overrides(self, merged: dict[str, Any] | None = None) -> dict[str, tuple[str, str | None, str]]:
        """Environment variables that override a key: name -> (section, remote name or None, key).

        ``DVX_<SECTION>_<KEY>`` overrides a key some layer sets (or has a
        default); ``DVX_REMOTE_<NAME>_<KEY>`` one key of a configured remote
        (:func:`env_name`; the key's underscores are optional:
        ``ENDPOINT_URL`` or ``ENDPOINTURL``). ConfigError when a variable
        names two remotes.
        """
        merged = self._files_merged() if merged is None else merged
        sec = merged.get("remote")
        remotes: dict[str, Any] = sec if isinstance(sec, dict) else {}
        by_env: dict[str, list[str]] = {}
        for r in remotes:
            if isinstance(remotes[r], dict):
                by_env.setdefault(env_name(r), []).append(r)
        out: dict[str, tuple[str, str | None, str]] = {}
        for name in os.environ:
            if not name.startswith("DVX_") or name.count("_") < 2:
                continue
            if name.startswith("DVX_REMOTE_"):
                rest = name[len("DVX_REMOTE_"):]
                # The longest remote name first: remotes "a" and "a_b" both prefix DVX_REMOTE_A_B_URL.
                for mangled in sorted(by_env, key=len, reverse=True):
                    if not rest.startswith(mangled + "_") or len(rest) == len(mangled) + 1:
                        continue
                    if len(by_env[mangled]) > 1:
                        raise ConfigError(f"environment variable {name}: remotes {' and '.join(sorted(by_env[mangled]))} "
                                          f"both read DVX_REMOTE_{mangled}_*", f"unset {name} or rename a remote")
                    remote = by_env[mangled][0]
                    key = rest[len(mangled) + 1:]
                    known = [*remotes[remote], *REMOTE_INT_KEYS, *REMOTE_BOOL_KEYS, *REMOTE_STR_KEYS, *SECRET_KEYS]
                    match = [k for k in known if squash(k) == squash(key)]
                    out[name] = ("remote", remote, match[0] if match else key.lower())
                    break
                continue
            section, _, key = name[4:].lower().partition("_")
            if section in merged and isinstance(merged[section], dict) and key in merged[section]:
                out[name] = (section, None, key)
        return out

    def where(self, table: str | None, key: str, files_only: bool = False) -> str:
        """``file:line`` (or ``file``, or ``environment variable NAME``) that sets ``key`` of ``[table]``;
        ``files_only``: the file, ignoring the environment."""
        parts = table.split(".") if table else []
        for name, (section, remote, k) in ({} if files_only else self.env_overrides()).items():
            if k == key and table == (f"{section}.{remote}" if remote else section):
                return f"environment variable {name}"
        for scope in reversed(SCOPES):
            f = self.files.get(scope)
            if f is None:
                continue
            cur: Any = f.data
            for part in (parts[:1] + [".".join(parts[1:])] if len(parts) > 1 else parts):
                cur = cur.get(part) if isinstance(cur, dict) else None
            if isinstance(cur, dict) and key in cur:
                line = line_of_key(f.text, table, key)
                return f"{f.path}:{line}" if line is not None else str(f.path)
        return str(self.files["project"].path if "project" in self.files else self.files["global"].path)

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

    def _scope(self, local: bool, scope: str | None) -> str:
        return scope or ("local" if local else "project")

    def set(self, names: list[str], value: Any, *, local: bool = False, scope: str | None = None) -> None:
        """Set ``a.b.c = value`` in one file (project by default) and save it, keeping the rest as written."""
        from dvx._tomledit import set_value

        f = self.file(self._scope(local, scope))
        self._save(f, set_value(f.text, names, value, str(f.path)))

    def unset(self, names: list[str], *, local: bool = False, scope: str | None = None) -> bool:
        """Remove ``a.b.c`` (a key or a table) from one file; True when something was removed."""
        f = self.file(self._scope(local, scope))
        cur: Any = f.data
        for n in names:
            if not isinstance(cur, dict) or n not in cur:
                return False
            cur = cur[n]
        from dvx._tomledit import unset_value

        text, removed = unset_value(f.text, names, str(f.path))
        if removed:
            self._save(f, text)
        return removed

    def _save(self, f: ConfigFile, text: str) -> None:
        """Check ``text`` as a read would, then write it atomically: dvx never writes a file it would refuse."""
        data = parse_toml(text, config_error(str(f.path)))
        _check(f.path, text, data, f.scope)
        try:
            f.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(f.path, text.encode())
        except OSError as e:
            raise ConfigError(f"{f.path}: cannot write: {e.strerror or e}",
                              "check the folder's permissions (the system file needs root)") from None
        f.text, f.data = text, data


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
