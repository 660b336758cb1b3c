"""``dvx config``: read, set, unset and list configuration keys, as ``git config`` and ``dvc config`` do.

Keys are ``section.key`` (``core.remote``, ``cache.fsync``, ``hooks.fetch``)
or ``remote.NAME.key`` (NAME may hold dots: the last part is the key).
A value given on the command line is turned into the TOML type dvx reads for
that key (``true``/``false``, integers); a key dvx does not read is refused
(a typo would otherwise be kept silently). Writes keep every comment and the
order of the file (:mod:`dvx._tomledit`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dvx._configkeys import MASK, SECRET_KEYS
from dvx.config import SCOPES, Config, known_keys, known_type
from dvx.errors import ConfigError, DvxError, NotARepoError, UsageError

_PART = re.compile(r"^[A-Za-z0-9_-]+$")
_NAME_PART = re.compile(r"^[A-Za-z0-9_.-]+$")
_FIXED = ("chunking", "core.format")


@dataclass(frozen=True)
class ConfigEntry:
    """One key as set by one layer: ``origin`` is the file (or ``environment variable NAME``)."""

    key: str
    value: Any
    scope: str  # system, global, project, local, env (or default for a built-in value)
    origin: str

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "value": self.value, "scope": self.scope, "origin": self.origin}


@dataclass
class ConfigResult:
    """What ``dvx config`` did or found: the entries to show and, for a write, the file written."""

    action: str  # get, set, unset, list
    entries: list[ConfigEntry] = field(default_factory=list)
    written: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "entries": [e.to_json() for e in self.entries], "written": self.written}


def split_key(key: str) -> list[str]:
    """``["section", "key"]`` or ``["remote", NAME, "key"]``; UsageError for anything else."""
    parts = key.split(".")
    if len(parts) == 2 and all(_PART.match(p) for p in parts):
        return parts
    if len(parts) >= 3 and parts[0] == "remote" and _PART.match(parts[-1]) and _NAME_PART.match(".".join(parts[1:-1])):
        return ["remote", ".".join(parts[1:-1]), parts[-1]]
    raise UsageError(f"{key!r}: not a config key", "use SECTION.KEY (core.remote) or remote.NAME.KEY (remote.origin.url)")


def _open(scope: str | None, cwd: str | None) -> Config:
    """The configuration seen from ``cwd``; outside a repository only the user and system files."""
    from dvx.workspace import Workspace

    try:
        return Workspace.find(cwd or ".").config
    except NotARepoError:
        if scope in ("project", "local"):
            raise
        return Config(None)


def _typed(section: str, key: str, text: str) -> Any:
    """``text`` as the TOML type dvx reads for ``[section] key``; UsageError for unknown keys or bad values."""
    typ = known_type(section, key)
    if typ is None:
        raise UsageError(f"{section}.{key}: not a key dvx reads (known: {', '.join(known_keys())}; "
                         "remote.NAME.KEY for remotes)")
    low = text.strip().lower()
    if typ is bool:
        if low in ("true", "yes", "on", "1"):
            return True
        if low in ("false", "no", "off", "0"):
            return False
        raise UsageError(f"{section}.{key} must be true or false, got {text!r:.80}")
    try:
        if typ is int:
            return int(text)
        if typ is float:
            return float(text)
    except ValueError:
        raise UsageError(f"{section}.{key} must be {'an integer' if typ is int else 'a number'}, got {text!r:.80}") from None
    return text


def _flatten(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """(dotted key, value) of a config file's data, in file order; tables below a remote stay values."""
    out: list[tuple[str, Any]] = []
    for section, table in data.items():
        if not isinstance(table, dict):
            out.append((section, table))
            continue
        for k, v in table.items():
            if section == "remote" and isinstance(v, dict):
                out.extend((f"remote.{k}.{rk}", rv) for rk, rv in v.items())
            else:
                out.append((f"{section}.{k}", v))
    return out


def _is_secret(key: str) -> bool:
    return key.startswith("remote.") and key.rsplit(".", 1)[1].lower() in SECRET_KEYS


def _list(cfg: Config, scope: str | None, mask: bool) -> list[ConfigEntry]:
    out: list[ConfigEntry] = []
    for s in SCOPES if scope is None else (scope,):
        f = cfg.files.get(s) if scope is None else cfg.file(s)
        if f is not None:
            out.extend(ConfigEntry(k, v, s, str(f.path)) for k, v in _flatten(f.data))
    if scope is None:
        data = cfg.data
        for name, (section, remote, key) in sorted(cfg.env_overrides().items()):
            table = data[section][remote] if remote else data[section]
            dotted = f"{section}.{remote}.{key}" if remote else f"{section}.{key}"
            out.append(ConfigEntry(dotted, table[key], "env", f"environment variable {name}"))
    if mask:
        out = [ConfigEntry(e.key, MASK, e.scope, e.origin) if _is_secret(e.key) else e for e in out]
    return out


def _get(cfg: Config, names: list[str], scope: str | None) -> ConfigEntry:
    dotted = ".".join(names)
    entries = [e for e in _list(cfg, scope, mask=False) if e.key == dotted]
    if entries:
        return entries[-1]  # the layer that wins
    if scope is None:
        default = cfg.get(names[0], names[1]) if len(names) == 2 else None
        if default is not None:
            return ConfigEntry(dotted, default, "default", "built-in default")
    where = f" in {cfg.file(scope).path}" if scope else ""
    raise DvxError(f"{dotted}: not set{where}")


def _set(cfg: Config, names: list[str], text: str, scope: str) -> None:
    from dvx.remote.config import add_remote, modify_remote, set_default

    dotted = ".".join(names)
    if names[0] == "remote":
        _, name, key = names
        exists = name in cfg.section("remote")
        if key == "url" and not exists:
            add_remote(cfg, name, text, scope=scope)
        else:
            modify_remote(cfg, name, key, text, scope=scope)  # RemoteConfigError when the remote does not exist
    elif dotted == "core.remote":
        set_default(cfg, text, scope=scope)
    else:
        cfg.set(names, _typed(names[0], names[1], text), scope=scope)


def config(key: str | None = None, value: str | None = None, *, scope: str | None = None, unset: bool = False,
           list_all: bool = False, cwd: str | None = None) -> ConfigResult:
    """Get (``key``), set (``key value``), unset (``key, unset=True``) or list (``list_all``) configuration.

    ``scope`` picks one file (system, global, project, local); writes default
    to ``project`` (``.dvx/config``). A get without ``scope`` answers what dvx
    uses: the environment, then the files, then the built-in default.
    Listings show secrets as ``***``; a get of one key shows its value.
    """
    if scope is not None and scope not in SCOPES:
        raise UsageError(f"unknown config scope {scope!r} (one of {', '.join(SCOPES)})")
    if list_all:
        if key is not None or unset:
            raise UsageError("--list takes no KEY and no --unset")
        return ConfigResult("list", _list(_open(scope, cwd), scope, mask=True))
    if key is None:
        raise UsageError("give a KEY, KEY VALUE, KEY --unset or --list (KEY as in core.autostage)")
    names = split_key(key)
    cfg = _open(scope, cwd)
    if value is None and not unset:
        return ConfigResult("get", [_get(cfg, names, scope)])
    if value is not None and unset:
        raise UsageError("--unset takes no VALUE")
    if names[0] in _FIXED or ".".join(names) in _FIXED:
        raise ConfigError(f"{key}: fixed when the repository was created (`dvx init`); changing it would give every "
                          "file other object ids")
    target = scope or "project"
    written = str(cfg.file(target).path)
    if unset:
        if names[0] == "remote" and names[2] == "url":
            raise UsageError(f"{key}: a remote needs a url; remove the whole remote instead (dvx remote remove)")
        if not cfg.unset(names, scope=target):
            raise DvxError(f"{key}: not set in {written}")
        return ConfigResult("unset", written=written)
    _set(cfg, names, value or "", target)
    return ConfigResult("set", [_get(cfg, names, target)], written=written)


def display_value(value: Any) -> str:
    """A value as ``dvx config KEY`` prints it: strings bare, booleans as in TOML, the rest as JSON."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)

