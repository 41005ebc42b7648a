"""Which record extractor the parser uses: the compiled one (`shared.dumps._extract`, built by
`python setup.py build_ext --inplace`) with the Python extractors of `shared.dumps.records` as
its reference and fallback, or the Python extractors alone.

The compiled extractor hands every record it does not fully know to the Python one, so both
produce identical rows; it is only faster. When the extension is not built (or does not import)
the parser uses the Python extractors and logs one warning. `CRATEDIGGER_PURE_PYTHON=1` forces
the Python path (tests and benchmarks compare both).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import cache
from types import ModuleType

from lxml import etree

from shared.dumps.records.artists import extract_artist
from shared.dumps.records.common import Output
from shared.dumps.records.labels import extract_label
from shared.dumps.records.masters import extract_master
from shared.dumps.records.releases import extract_release

PURE_PYTHON_ENV = "CRATEDIGGER_PURE_PYTHON"

Extractor = Callable[[etree._Element, Output], object]

PYTHON_EXTRACTORS: dict[str, Extractor] = {
    "artists": extract_artist,
    "labels": extract_label,
    "masters": extract_master,
    "releases": extract_release,
}

_log = logging.getLogger(__name__)


@cache
def _compiled_module() -> ModuleType | None:
    try:
        from shared.dumps import _extract  # optional: built by setup.py
    except ImportError as exc:
        _log.warning(
            "compiled record extractor unavailable (%s); parsing with the Python extractor, "
            "about half as fast. Build it with `python setup.py build_ext --inplace`.",
            exc,
        )
        return None
    return _extract


def compiled_available() -> bool:
    return _compiled_module() is not None


def pure_python_forced() -> bool:
    return os.environ.get(PURE_PYTHON_ENV, "").strip().lower() in ("1", "true", "yes")


def extractor(entity: str, *, compiled: bool | None = None) -> Extractor:
    """A fresh extractor for one chunk of `entity`. `compiled=None` picks the compiled one
    unless `CRATEDIGGER_PURE_PYTHON` is set or it is not built; `True` requires it."""
    python = PYTHON_EXTRACTORS[entity]
    if compiled is None:
        compiled = not pure_python_forced() and compiled_available()
    if not compiled:
        return python
    module = _compiled_module()
    if module is None:
        raise RuntimeError("the compiled record extractor is not built")
    return module.CompiledExtractor(entity, python)
