"""pandera schema for data/train.csv, as a Python module (dvx reads ``schema``).

A Python suite can use a DataFrameModel and any registered check; dvx imports
it only when the suite runs.
"""

import pandera.pandas as pa
from pandera.typing import Series


class Train(pa.DataFrameModel):
    id: Series[int] = pa.Field(ge=0, unique=True)
    label: Series[str] = pa.Field(isin=["cat", "dog", "bird"])
    x: Series[float] = pa.Field(in_range={"min_value": -10, "max_value": 10})
    y: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = False  # ts is checked by train.json


schema = Train
