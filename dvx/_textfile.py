"""Strict readers for the text files people and repositories supply.

``.dvx/config``, ``expectations/dvx.toml``, suite files: all come from a
clone and are hostile until checked. Every way such a file can fail to
parse (unreadable, a directory, not UTF-8, too big, bad syntax, nested so
deep that the parser recurses out, an integer too long for ``int()``) ends
as one error naming ``file:line``, built by the caller's ``error`` factory
so each caller raises its own ``DvxError`` subclass (exit 2).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from typing import Any, NoReturn

from dvx.errors import ConfigError, DvxError

# A config, binding or suite file is a few KiB; 16 MiB leaves room for any
# honest one while keeping a hostile one from being read whole into memory.
MAX_TEXT_BYTES = 16 << 20

ErrorFactory = Callable[[str, "int | None"], DvxError]

_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_AT_EOF = re.compile(r"\s*\(at end of document\)$")


def config_error(path: str) -> ErrorFactory:
    """A factory of ``ConfigError("path[:line]: what")``."""

    def make(what: str, line: int | None) -> DvxError:
        where = f"{path}:{line}" if line is not None else path
        return ConfigError(f"{where}: {what}", "fix the file by hand")

    return make


def _fail(error: ErrorFactory, what: str, line: int | None = None) -> NoReturn:
    raise error(what, line)


def read_text(path: str | os.PathLike[str], error: ErrorFactory) -> str | None:
    """The UTF-8 text of ``path``; None when it does not exist; ``error`` when unreadable."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_TEXT_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        _fail(error, f"cannot read: {e.strerror or e}")
    if len(raw) > MAX_TEXT_BYTES:
        _fail(error, f"is larger than {MAX_TEXT_BYTES >> 20} MiB; not a configuration file")
    return decode_utf8(raw, error)


def decode_utf8(raw: bytes, error: ErrorFactory) -> str:
    """``raw`` as UTF-8; ``error`` naming the line of the first bad byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        _fail(error, f"is not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})", line)


def parse_toml(text: str, error: ErrorFactory) -> dict[str, Any]:
    """Parse TOML text; ``error`` with the line tomllib reports."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _TOML_AT.search(msg)
        if m:
            _fail(error, f"invalid TOML: {msg[: m.start()]}", int(m.group(1)))
        m = _TOML_AT_EOF.search(msg)
        if m:
            _fail(error, f"invalid TOML: {msg[: m.start()]} at the end of the file", text.rstrip().count("\n") + 1)
        _fail(error, f"invalid TOML: {msg}")
    except RecursionError:
        _fail(error, "invalid TOML: arrays or tables nested too deeply")
    except ValueError:  # an integer longer than int() accepts (sys.get_int_max_str_digits)
        _fail(error, "invalid TOML: an integer has too many digits")


def load_toml(path: str | os.PathLike[str], error: ErrorFactory | None = None) -> dict[str, Any] | None:
    """Read and parse a TOML file; None when it does not exist."""
    err = error or config_error(os.fspath(path))
    text = read_text(path, err)
    return None if text is None else parse_toml(text, err)


def line_of_key(text: str, table: str | None, key: str) -> int | None:
    """Line of ``key = ...`` under ``[table]`` (top level when None), for messages; None if not found.

    A line scanner, not a TOML parser: good enough to point at a value that
    tomllib parsed but dvx rejects (dotted or inline keys give None).
    """
    current: str | None = None
    key_re = re.compile(r"\s*(?:" + re.escape(key) + r'|"' + re.escape(key) + r'")\s*=')
    for n, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if s.startswith("[") and not s.startswith("[["):
            current = s[1:].split("]", 1)[0].strip().replace('"', "")
            continue
        if s.startswith("[["):  # an array of tables: never the table asked for
            current = "[[" + s
            continue
        if current == table and key_re.match(line):
            return n
    return None
