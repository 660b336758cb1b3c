"""HyperLogLog distinct count with 2**12 one-byte registers over 32-bit hashes
(relative error about 1.6 %)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dvx.quality.sketches.codec import from_b64, to_b64

HLL_P = 12
_HLL_M = 1 << HLL_P
_U32 = np.uint32


class DistinctSketch:
    """HyperLogLog over 32-bit hashes with 2**12 one-byte registers."""

    __slots__ = ("registers",)

    def __init__(self) -> None:
        self.registers = np.zeros(_HLL_M, dtype=np.uint8)

    def update_hashes(self, h: np.ndarray) -> None:
        """Add 32-bit hashes (uint32 array from :func:`hash32`)."""
        if len(h) == 0:
            return
        h = np.asarray(h, dtype=np.uint32)
        idx = (h >> _U32(32 - HLL_P)).astype(np.intp)
        # The rank falls as the low bits grow, so a register's maximum rank is
        # the rank of its smallest hash (its hashes share their top bits): one
        # minimum.at over the hashes (1.4 ns a value here) and the ranks of
        # 4096 words, against 8.6 ns for a rank per hash and maximum.at.
        # (minimum.at over the masked low words ran at 7.5 ns.) 2**32 - 1
        # marks an empty register; it is also a real hash of register 4095,
        # looked for only when that register seems empty.
        full = np.uint32(0xFFFFFFFF)
        low = np.full(_HLL_M, full, dtype=np.uint32)
        np.minimum.at(low, idx, h)
        seen = low != full
        if not seen[-1]:
            seen[-1] = bool(np.any(h == full))
        # rank = leading zeros of the low 20 bits + 1, read off the float32
        # exponent (exact for 20-bit integers); 0 maps to 21.
        w = (low & _U32((1 << (32 - HLL_P)) - 1)).astype(np.float32)
        exp = (w.view(np.uint32) >> _U32(23)).astype(np.int16) - 127
        rank = np.where(w > 0, (32 - HLL_P) - exp, 33 - HLL_P).astype(np.uint8)
        np.maximum(self.registers, np.where(seen, rank, 0).astype(np.uint8), out=self.registers)

    def merge(self, other: DistinctSketch) -> DistinctSketch:
        """Union of both sketches."""
        out = DistinctSketch()
        out.registers = np.maximum(self.registers, other.registers)
        return out

    def estimate(self) -> float:
        """Estimated number of distinct values (linear counting when small)."""
        m = float(_HLL_M)
        zeros = int(np.count_nonzero(self.registers == 0))
        alpha = 0.7213 / (1 + 1.079 / m)
        raw = alpha * m * m / float(np.sum(np.ldexp(1.0, -self.registers.astype(np.int64))))
        if raw <= 2.5 * m and zeros:
            return m * math.log(m / zeros)
        return raw

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: the registers as base64."""
        return {"p": HLL_P, "registers": to_b64(self.registers.tobytes())}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DistinctSketch:
        """Inverse of :meth:`to_dict`."""
        if int(d["p"]) != HLL_P:
            raise ValueError(f"distinct sketch: p={d['p']} is not {HLL_P}")
        s = cls()
        regs = np.frombuffer(from_b64(d["registers"]), dtype=np.uint8)
        if len(regs) != _HLL_M:
            raise ValueError("distinct sketch: wrong register count")
        s.registers = regs.copy()
        return s

