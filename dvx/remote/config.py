"""Remote configuration: ``[remote.<name>]`` tables in ``.dvx/config``.

A remote has a ``url`` and optional keys (``endpoint_url``, ``region``,
``profile``, ``jobs``, ``pack_size``; any other key is passed to the fsspec
filesystem as a storage option). ``[core] remote = "<name>"`` names the
default. Secrets (access keys, tokens, passwords) are never written to the
committed ``.dvx/config``: only to ``.dvx/config.local`` (git-ignored) or the
user or system file; listings show them as ``***``.

Every writer takes ``scope`` (``project`` by default; ``local``, ``global``,
``system``); ``local=True`` is the older spelling of ``scope="local"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dvx._configkeys import MASK, REMOTE_BOOL_KEYS, REMOTE_INT_KEYS, REMOTE_STR_KEYS, SECRET_KEYS
from dvx.config import Config, has_type
from dvx.errors import RemoteConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Kept here under their old names; the lists live in dvx._configkeys (the config layer masks secrets too).
INT_KEYS = REMOTE_INT_KEYS
BOOL_KEYS = REMOTE_BOOL_KEYS

_HINT_ADD = "add one with `dvx remote add -d NAME URL`"


@dataclass(frozen=True)
class RemoteSpec:
    """One configured remote: its name, URL and every other key (merged committed + local)."""

    name: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)
    default: bool = False


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise RemoteConfigError(
            f"invalid remote name {name!r}: use letters, digits, '_', '-' and '.'",
            "for example `dvx remote add -d storage s3://bucket/prefix`",
        )


def _remotes(cfg: Config) -> dict[str, dict[str, Any]]:
    sec = cfg.data.get("remote", {})
    return {k: dict(v) for k, v in sec.items() if isinstance(v, dict)} if isinstance(sec, dict) else {}


def coerce_option(key: str, value: Any) -> Any:
    """A remote option given as text (``dvx remote modify``, an environment variable) as its type:
    int and bool keys converted, RemoteConfigError when the text is not one; other keys unchanged."""
    if not isinstance(value, str):
        return value
    if key in INT_KEYS:
        try:
            n = int(value)
        except ValueError:
            raise RemoteConfigError(f"remote option {key} must be an integer, got {value!r}") from None
        if n < (0 if key == "retries" else 1):
            raise RemoteConfigError(f"remote option {key} must be positive, got {value!r}")
        return n
    if key in BOOL_KEYS:
        low = value.strip().lower()
        if low in {"1", "true", "yes", "on"}:
            return True
        if low in {"0", "false", "no", "off"}:
            return False
        raise RemoteConfigError(f"remote option {key} must be true or false, got {value!r}")
    return value


def _checked_options(cfg: Config, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with dvx's own keys of the right type (hand-edited TOML is not
    coerced by ``dvx remote modify``); RemoteConfigError naming file:line."""
    out = dict(spec)
    for key, value in spec.items():
        shown = value
        try:
            if key in INT_KEYS or key in BOOL_KEYS:
                value = coerce_option(key, value)
        except RemoteConfigError:
            value = None  # reported below with the value as written
        bad = None
        if key in INT_KEYS and (not has_type(value, int) or value < (0 if key == "retries" else 1)):
            bad = "a non-negative integer" if key == "retries" else "a positive integer"
        elif key in BOOL_KEYS and not isinstance(value, bool):
            bad = "true or false"
        elif key in REMOTE_STR_KEYS and not isinstance(value, str):
            bad = "a string"
        elif key in ("client_kwargs", "config_kwargs") and not isinstance(value, dict):
            bad = "a table"
        if bad:
            where = cfg.where(f"remote.{name}", key)
            flag = next((f"--{s} " for s, f in cfg.files.items() if s != "project" and where.startswith(str(f.path))), "")
            if where.startswith("environment variable"):
                hint = f"unset {where.rsplit(' ', 1)[1]} or fix it"
            elif bad == "a table":
                hint = "fix the file by hand"
            else:
                hint = f"run `dvx remote modify {flag}{name} {key} VALUE`"
            raise RemoteConfigError(f"{where}: remote {name!r}: {key} must be {bad}, got {shown!r:.80}", hint)
        out[key] = value
    return out


def _check_url(url: str) -> None:
    if not url or url.strip() != url:
        raise RemoteConfigError(f"invalid remote URL {url!r}", "use s3://bucket/prefix, a folder or file:///path")


def _scope(local: bool, scope: str | None) -> str:
    return scope or ("local" if local else "project")


def add_remote(cfg: Config, name: str, url: str, default: bool = False, local: bool = False,
               scope: str | None = None) -> RemoteSpec:
    """Add remote ``name`` at ``url`` (optionally the default); RemoteConfigError if it exists."""
    _check_name(name)
    _check_url(url)
    if name in _remotes(cfg):
        raise RemoteConfigError(
            f"remote {name!r} already exists",
            f"change it with `dvx remote modify {name} url {url}` or remove it first",
        )
    cfg.set(["remote", name, "url"], url, scope=_scope(local, scope))
    if default:
        cfg.set(["core", "remote"], name, scope=_scope(local, scope))
    return get_remote(cfg, name)


def modify_remote(cfg: Config, name: str, key: str, value: Any, local: bool = False,
                  scope: str | None = None) -> RemoteSpec:
    """Set ``key = value`` for remote ``name`` (``value=None`` removes it); secrets never in the project file."""
    _check_name(name)
    if name not in _remotes(cfg):
        raise RemoteConfigError(f"no remote named {name!r}", f"see `dvx remote list`; {_HINT_ADD}")
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
        raise RemoteConfigError(f"invalid remote option name {key!r}")
    where = _scope(local, scope)
    if key.lower() in SECRET_KEYS and where == "project" and value is not None:
        raise RemoteConfigError(
            f"refusing to write secret {key!r} of remote {name!r} to the committed .dvx/config",
            f"use `dvx remote modify --local {name} {key} VALUE` (stored in the git-ignored "
            ".dvx/config.local) or the AWS_* environment variables",
        )
    if value is None:  # --unset
        if key == "url":
            raise RemoteConfigError(f"remote {name!r} needs a url; it cannot be unset")
        if not cfg.unset(["remote", name, key], scope=where):
            elsewhere = cfg.where(f"remote.{name}", key) if key in _remotes(cfg)[name] else None
            raise RemoteConfigError(f"{cfg.file(where).path}: remote {name!r} has no {key} there",
                                    f"it is set in {elsewhere}" if elsewhere else None)
        return get_remote(cfg, name)
    if key == "url":
        _check_url(str(value))
    cfg.set(["remote", name, key], coerce_option(key, value), scope=where)
    return get_remote(cfg, name)


def list_remotes(cfg: Config) -> list[RemoteSpec]:
    """Every configured remote, sorted by name."""
    return [get_remote(cfg, n) for n in sorted(_remotes(cfg))]


def masked(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with every secret's value (and any nested table's) shown as ``***``."""
    return {k: MASK if k.lower() in SECRET_KEYS else masked(v) if isinstance(v, dict) else v for k, v in options.items()}


def get_remote(cfg: Config, name: str | None = None) -> RemoteSpec:
    """The remote ``name`` (default: ``[core] remote``); RemoteConfigError with a hint if absent."""
    remotes = _remotes(cfg)
    default = cfg.get("core", "remote")
    if name is None:
        if not default:
            if remotes:
                raise RemoteConfigError(
                    "no default remote is set",
                    f"pass -r NAME ({', '.join(sorted(remotes))}) or run `dvx remote default NAME`",
                )
            raise RemoteConfigError("no remote is configured", _HINT_ADD)
        name = str(default)
    spec = remotes.get(name)
    if spec is None:
        what = f"{cfg.where('core', 'remote')}: default remote" if name == default else "remote"
        raise RemoteConfigError(f"{what} {name!r} is not configured", f"see `dvx remote list`; {_HINT_ADD}")
    spec = _checked_options(cfg, name, spec)
    url = spec.pop("url", None)
    if not url:
        raise RemoteConfigError(
            f"remote {name!r} has no url in {cfg.path}", f"run `dvx remote modify {name} url URL`"
        )
    return RemoteSpec(name, url, spec, default=(name == default))


def remove_remote(cfg: Config, name: str) -> None:
    """Remove remote ``name`` from every file that defines it (and as default there)."""
    if name not in _remotes(cfg):
        raise RemoteConfigError(f"no remote named {name!r}", "see `dvx remote list`")
    for scope, f in list(cfg.files.items()):
        if not f.text:
            continue
        cfg.unset(["remote", name], scope=scope)
        core = f.data.get("core")
        if isinstance(core, dict) and core.get("remote") == name:
            cfg.unset(["core", "remote"], scope=scope)


def set_default(cfg: Config, name: str, local: bool = False, scope: str | None = None) -> RemoteSpec:
    """Make ``name`` the default remote."""
    if name not in _remotes(cfg):
        raise RemoteConfigError(f"no remote named {name!r}", f"see `dvx remote list`; {_HINT_ADD}")
    cfg.set(["core", "remote"], name, scope=_scope(local, scope))
    return get_remote(cfg, name)
