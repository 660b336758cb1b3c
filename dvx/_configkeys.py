"""Names the configuration layers share: file locations, remote option kinds, secrets, env names.

Kept apart from :mod:`dvx.config` so the merge logic there stays short; it
imports nothing of dvx.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

CONFIG_NAME = "config"
SYSTEM_DIR_ENV = "DVX_SYSTEM_CONFIG_DIR"
GLOBAL_DIR_ENV = "DVX_GLOBAL_CONFIG_DIR"

# Remote options dvx interprets (any other key goes to the fsspec filesystem).
REMOTE_INT_KEYS = frozenset({"jobs", "pack_size", "connect_timeout", "read_timeout", "retries"})
REMOTE_BOOL_KEYS = frozenset({"anon", "use_ssl", "verify"})
REMOTE_STR_KEYS = frozenset({"url", "compression", "endpoint_url", "region", "profile"})
# Keys whose values are credentials: never in the committed file, shown as *** in listings.
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
MASK = "***"


def system_config_path() -> Path:
    """``/etc/dvx/config``, or ``$DVX_SYSTEM_CONFIG_DIR/config`` (tests, unusual installs)."""
    return Path(os.environ.get(SYSTEM_DIR_ENV) or "/etc/dvx") / CONFIG_NAME


def global_config_path() -> Path:
    """The per-user file: ``$DVX_GLOBAL_CONFIG_DIR``, ``$XDG_CONFIG_HOME/dvx`` or ``~/.config/dvx``, then ``config``."""
    d = os.environ.get(GLOBAL_DIR_ENV)
    if not d:
        xdg = os.environ.get("XDG_CONFIG_HOME")
        d = os.path.join(xdg, "dvx") if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".config", "dvx")
    return Path(d) / CONFIG_NAME


def env_name(name: str) -> str:
    """A remote name as it appears in ``DVX_REMOTE_<NAME>_<KEY>``: upper case, every
    character other than a letter or digit (``-``, ``.``) replaced by ``_``."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def squash(key: str) -> str:
    """``key`` without underscores, upper case: how ``DVX_REMOTE_*`` keys are compared."""
    return key.replace("_", "").upper()


_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"\s*([0-9]{1,9}(?:\.[0-9]{1,6})?)\s*([smhdw]?)\s*")
DURATION_KEYS = frozenset({("gc", "grace"), ("core", "lock_stale"), ("core", "lock_wait")})


def parse_duration(value: object) -> float:
    """Seconds of ``"30s"``, ``"30m"``, ``"1.5h"``, ``"2d"``, ``"1w"``, or a number of seconds
    (``0``, ``"90"``); ValueError saying what is wrong otherwise. One parser for every duration
    key (``DURATION_KEYS``), so ``dvx config`` refuses what a command reading the key would."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1e12:
        return float(value)
    m = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        raise ValueError(f"must be a duration such as \"30m\", \"1h\" or \"2d\", got {value!r:.80}")
    return float(m.group(1)) * _DURATION_UNITS[m.group(2)]


def value_problem(data: dict[str, object]) -> tuple[str, str, str] | None:
    """``(section, key, what is wrong)`` for the first duration key or ``[gc] repack`` of a parsed
    config file whose value the command reading it would refuse; None when all are fine."""
    for section, key in sorted(DURATION_KEYS):
        table = data.get(section)
        if isinstance(table, dict) and key in table:
            try:
                parse_duration(table[key])
            except ValueError as e:
                return section, key, str(e)
    gc = data.get("gc")
    rp = gc.get("repack") if isinstance(gc, dict) else None
    if rp is not None and (isinstance(rp, bool) or not isinstance(rp, (int, float)) or not 0 <= rp <= 1):
        return "gc", "repack", f"must be a number from 0 to 1 (the garbage share above which a pack is rewritten), got {rp!r:.40}"
    return None
