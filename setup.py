"""Build of the optional C kernels of the exact kNN search (everything else is in pyproject.toml).

``optional=True``: without a C compiler the package still installs, and the search uses its numpy
kernels (same results, slower).
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "pairspace.neighbors._ckernels",
    ["src/pairspace/neighbors/_kernels.c"],
    extra_compile_args=["-O3", "-ffp-contract=off"],  # no fused ops: the same scores in every path
    optional=True,
)])
