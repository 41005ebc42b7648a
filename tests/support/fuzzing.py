"""What the property-based API runs share: hostile values, and checking an answer against the
OpenAPI document the app serves (status listed, body valid against that status's schema)."""

from __future__ import annotations

import httpx
import jsonschema
from hypothesis import strategies as st

HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "'",
        '"; DROP TABLE discogs.releases; --',
        "%",
        "_",
        "\\",
        "\x00",
        "\x1f",
        "ö" * 300,
        "1e309",
        "NaN",
        "-0",
        "9" * 40,
        "{}",
        "[]",
        "null",
        "true",
        "../..",
        "%00",
        "<script>",
        "Ｒｏｃｋ",
        "𝄞",
        "\u202e",
        "Rock,Jazz",
    ]
)
TEXT = st.text(max_size=40) | HOSTILE


def check_against_openapi(document: dict, operation: dict, response: httpx.Response) -> None:
    """No 500; the status is documented for the operation; the body matches its schema."""
    assert response.status_code != 500, response.text
    status = str(response.status_code)
    assert status in operation["responses"], (status, response.text[:300])
    content = operation["responses"][status].get("content")
    if not content:
        return
    media = response.headers["content-type"].split(";")[0]
    assert media in content, (media, list(content))
    schema = {**content[media]["schema"], "components": document["components"]}
    jsonschema.validate(response.json(), schema, cls=jsonschema.Draft202012Validator)
