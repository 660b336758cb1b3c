"""Base64 text for the sketches' binary arrays in a profile's JSON form."""

from __future__ import annotations

import base64


def to_b64(data: bytes) -> str:
    """``data`` as base64 text."""
    return base64.b64encode(data).decode("ascii")


def from_b64(text: str) -> bytes:
    """Inverse of :func:`to_b64`; ValueError (binascii.Error) on anything else."""
    return base64.b64decode(text.encode("ascii"), validate=True)
