"""Remote configuration: ``[remote.<name>]`` tables in ``.dvx/config``.

A remote has a ``url`` and optional keys (``endpoint_url``, ``region``,
``profile``, ``jobs``, ``pack_size``; any other key is passed to the fsspec
filesystem as a storage option). ``[core] remote = "<name>"`` names the
default. Secrets (access keys, tokens, passwords) may only be written to
``.dvx/config.local``, which is git-ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dvx.config import Config, has_type
from dvx.errors import RemoteConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Keys whose values are credentials: never in the committed file.
SECRET_KEYS = frozenset(
    {
        "access_key_id",
        "secret_access_key",
        "session_token",
        "key",
        "secret",
        "token",
        "password",
        "account_key",
        "sas_token",
        "connection_string",
        "client_secret",
    }
)
# Keys dvx itself interprets; values are coerced to these types.
INT_KEYS = frozenset({"jobs", "pack_size", "connect_timeout", "read_timeout", "retries"})
BOOL_KEYS = frozenset({"anon", "use_ssl", "verify"})

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


def _coerce(key: str, value: Any) -> Any:
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
                value = _coerce(key, value)
        except RemoteConfigError:
            value = None  # reported below with the value as written
        bad = None
        if key in INT_KEYS and (not has_type(value, int) or value < (0 if key == "retries" else 1)):
            bad = "a non-negative integer" if key == "retries" else "a positive integer"
        elif key in BOOL_KEYS and not isinstance(value, bool):
            bad = "true or false"
        elif key in ("url", "compression", "endpoint_url", "region", "profile") and not isinstance(value, str):
            bad = "a string"
        elif key in ("client_kwargs", "config_kwargs") and not isinstance(value, dict):
            bad = "a table"
        if bad:
            where = cfg.where(f"remote.{name}", key)
            local = "--local " if where.startswith(str(cfg.local_path)) else ""
            hint = "fix the file by hand" if bad == "a table" else f"run `dvx remote modify {local}{name} {key} VALUE`"
            raise RemoteConfigError(f"{where}: remote {name!r}: {key} must be {bad}, got {shown!r:.80}", hint)
        out[key] = value
    return out


def _check_url(url: str) -> None:
    if not url or url.strip() != url:
        raise RemoteConfigError(f"invalid remote URL {url!r}", "use s3://bucket/prefix, a folder or file:///path")


def add_remote(cfg: Config, name: str, url: str, default: bool = False, local: bool = False) -> RemoteSpec:
    """Add remote ``name`` at ``url`` (optionally the default); RemoteConfigError if it exists."""
    _check_name(name)
    _check_url(url)
    if name in _remotes(cfg):
        raise RemoteConfigError(
            f"remote {name!r} already exists",
            f"change it with `dvx remote modify {name} url {url}` or remove it first",
        )
    cfg.set(["remote", name, "url"], url, local=local)
    if default:
        cfg.set(["core", "remote"], name, local=local)
    return get_remote(cfg, name)


def modify_remote(cfg: Config, name: str, key: str, value: Any, local: bool = False) -> RemoteSpec:
    """Set ``key = value`` for remote ``name`` (``value=None`` removes it); secrets only with ``local=True``."""
    _check_name(name)
    if name not in _remotes(cfg):
        raise RemoteConfigError(f"no remote named {name!r}", f"see `dvx remote list`; {_HINT_ADD}")
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
        raise RemoteConfigError(f"invalid remote option name {key!r}")
    if key.lower() in SECRET_KEYS and not local:
        raise RemoteConfigError(
            f"refusing to write secret {key!r} of remote {name!r} to the committed .dvx/config",
            f"use `dvx remote modify --local {name} {key} VALUE` (stored in the git-ignored "
            ".dvx/config.local) or the AWS_* environment variables",
        )
    if value is None:  # --unset
        if key == "url":
            raise RemoteConfigError(f"remote {name!r} needs a url; it cannot be unset")
        cfg.unset(["remote", name, key], local=local)
        return get_remote(cfg, name)
    if key == "url":
        _check_url(str(value))
    cfg.set(["remote", name, key], _coerce(key, value), local=local)
    return get_remote(cfg, name)


def list_remotes(cfg: Config) -> list[RemoteSpec]:
    """Every configured remote, sorted by name."""
    return [get_remote(cfg, n) for n in sorted(_remotes(cfg))]


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
    """Remove remote ``name`` from both files (and as default)."""
    if name not in _remotes(cfg):
        raise RemoteConfigError(f"no remote named {name!r}", "see `dvx remote list`")
    for local in (False, True):
        cfg.unset(["remote", name], local=local)
        data = cfg.local_data if local else cfg.repo_data
        if data.get("core", {}).get("remote") == name:
            cfg.unset(["core", "remote"], local=local)


def set_default(cfg: Config, name: str, local: bool = False) -> RemoteSpec:
    """Make ``name`` the default remote."""
    if name not in _remotes(cfg):
        raise RemoteConfigError(f"no remote named {name!r}", f"see `dvx remote list`; {_HINT_ADD}")
    cfg.set(["core", "remote"], name, local=local)
    return get_remote(cfg, name)
