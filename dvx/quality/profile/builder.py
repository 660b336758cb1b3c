"""The column builder interface: one column's profile accumulated batch by batch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dvx.quality.profile.model import ColumnProfile

if TYPE_CHECKING:
    import pyarrow as pa


class ColumnBuilder:
    """Counts rows and nulls; subclasses take in the non-null values.

    Used as is for an all-null (``null`` kind) column, which has nothing else to count.
    """

    def __init__(self, col: ColumnProfile) -> None:
        self.col = col

    def add(self, arr: pa.Array) -> None:
        """Take in one batch's column."""
        c = self.col
        c.count += len(arr)
        c.null_count += arr.null_count
        if len(arr) != arr.null_count:
            self.add_values(arr)

    def add_values(self, arr: pa.Array) -> None:
        """Take in a column holding at least one non-null value."""

    def finish(self) -> ColumnProfile:
        """The column's profile after the last batch."""
        return self.col
