"""The parser and loader tests run once per record extractor: the compiled one (with the Python
extractor as its fallback) and the pure-Python reference. Modules opt in with
`pytestmark = pytest.mark.usefixtures("extractor")`."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from shared.db.connection import connect
from shared.dumps.extractors import PURE_PYTHON_ENV, compiled_available
from shared.settings import Settings


@pytest.fixture(scope="module", params=["compiled", "python"])
def extractor(request: pytest.FixtureRequest) -> Iterator[str]:
    """Which extractor `parse_chunk` (and every loader path under it) uses in this module run.
    Module-scoped so module-scoped fixtures such as parsed samples follow it; set through the
    environment so worker processes inherit it. A missing build fails: it is not skipped."""
    if request.param == "compiled":
        assert compiled_available(), "run `make setup` to build shared/dumps/_extract"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PURE_PYTHON_ENV, "1" if request.param == "python" else "0")
        yield request.param


@pytest.fixture
def conn(settings: Settings) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the test's database (the loader's idle-connection contract)."""
    with connect(settings, autocommit=True) as connection:
        yield connection
