"""Build hook for the native content-defined chunker (dvx/_cdc.c).

Everything else lives in pyproject.toml; setuptools needs this file only to
declare the C extension.
"""
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "dvx._cdc",
            sources=["dvx/_cdc.c"],
            extra_compile_args=["-O3"],
        )
    ]
)
