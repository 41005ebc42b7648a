"""Builds the compiled record extractor (shared/dumps/_extract.pyx) in place:
`python setup.py build_ext --inplace` (the Makefile's setup step runs it). The app is not
installed as a package; this only compiles the one extension next to its Python fallback."""

import lxml
from Cython.Build import cythonize
from setuptools import Extension, setup

setup(
    name="cratedigger-extract",
    packages=[],
    py_modules=[],
    ext_modules=cythonize(
        [
            Extension(
                "shared.dumps._extract",
                ["shared/dumps/_extract.pyx"],
                include_dirs=lxml.get_include(),
                extra_compile_args=["-O2"],
            )
        ],
        compiler_directives={"language_level": "3"},
    ),
)
