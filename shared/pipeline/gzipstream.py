"""Decompressing a dump stream with the fastest gzip implementation available.

Measured by `python -m tests.benchmarks.pipeline` (docs/scaling.md): python-isal's igzip reads
the samples ~2.5-3× faster than the standard library's gzip (zlib-ng is close behind), which
matters because one split decompresses up to ~65 GiB sequentially.
"""

from __future__ import annotations

import gzip
import zlib
from typing import BinaryIO

try:
    from isal import igzip as _igzip
    from isal import isal_zlib as _isal_zlib
except ImportError:  # pragma: no cover - isal is pinned in requirements.txt
    _igzip = _isal_zlib = None

# Errors that mean "this is not a (complete) gzip file": permanent, never worth a retry.
GZIP_ERRORS: tuple[type[BaseException], ...] = (
    gzip.BadGzipFile,
    EOFError,
    zlib.error,
    *((_isal_zlib.error,) if _isal_zlib is not None else ()),
)


def open_gzip(fileobj: BinaryIO, implementation: str = "isal") -> BinaryIO:
    if implementation == "isal" and _igzip is not None:
        return _igzip.IGzipFile(fileobj=fileobj, mode="rb")  # type: ignore[return-value]
    if implementation == "zlib-ng":
        from zlib_ng import gzip_ng

        return gzip_ng.GzipNGFile(fileobj=fileobj, mode="rb")  # type: ignore[return-value]
    return gzip.GzipFile(fileobj=fileobj, mode="rb")  # type: ignore[return-value]
