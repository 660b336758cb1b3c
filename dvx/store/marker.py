"""The ``dvx-store`` file at a store root: the store format version (docs/format.md, "Format versions").

Its bytes are exactly ``b"dvx-store 1\\n"``. A reader refuses a store whose
marker names another version (exit 2, "upgrade dvx") or is not a marker; a
store without one (made before markers existed) is read as format 1 and
gets the marker with its next write.
"""

from __future__ import annotations

import os
import re
from typing import Any

from dvx.errors import FormatVersionError
from dvx.store.layout import put_file

MARKER_NAME = "dvx-store"
STORE_FORMAT = 1
MARKER_BYTES = b"dvx-store %d\n" % STORE_FORMAT
_MAX = 64  # bytes read: a marker is one short line
_LINE = re.compile(rb"dvx-store ([0-9]{1,9})\n")


def marker_path(root: str) -> str:
    """``root/dvx-store``."""
    return f"{root}/{MARKER_NAME}"


def _read(fs: Any, local: bool, path: str) -> bytes | None:
    if local:
        try:
            with open(path, "rb") as f:
                return f.read(_MAX + 1)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except IsADirectoryError:
            return b"<a directory>"
    try:
        data: bytes = fs.cat_file(path, start=0, end=_MAX + 1)  # one ranged GET
        return data
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return b"<a directory>"


def check_marker(fs: Any, local: bool, root: str, where: str) -> bool:
    """True when the store's marker is present and says format 1, False when there is none;
    FormatVersionError naming the file for another version or other bytes."""
    path = marker_path(root)
    data = _read(fs, local, path)
    if data is None:
        return False
    shown = path if local and where == root else f"{where}: {MARKER_NAME}"
    m = _LINE.fullmatch(data)
    if m is None:
        raise FormatVersionError(
            f"{shown}: not a dvx store marker (expected {MARKER_BYTES!r}, got {data[:_MAX]!r}); "
            f"this dvx reads store format {STORE_FORMAT}",
            "a newer dvx may have written it: upgrade dvx; otherwise restore the file",
        )
    version = int(m.group(1))
    if version != STORE_FORMAT:
        raise FormatVersionError(
            f"{shown}: store format {version}, this dvx reads store format {STORE_FORMAT}",
            "upgrade dvx" if version > STORE_FORMAT else "restore the file",
        )
    return True


def write_marker(fs: Any, local: bool, root: str) -> None:
    """Write the marker atomically (temp + rename locally, one PUT on a remote)."""
    if local:
        os.makedirs(root, exist_ok=True)
    put_file(fs, local, marker_path(root), MARKER_BYTES)
