"""The attribution the Discogs API terms require next to Discogs data (reference §6)."""

from __future__ import annotations

from pydantic import BaseModel

ATTRIBUTION_TEXT = "Data provided by Discogs."
ATTRIBUTION_URL = "https://www.discogs.com/"
NON_AFFILIATION_NOTICE = (
    "cratedigger uses Discogs data but is not affiliated with, sponsored or endorsed by Discogs. "
    "'Discogs' is a trademark of Zink Media, LLC."
)


class Attribution(BaseModel):
    """Rendered by front ends next to the data: the notice, its followable link and the notice of
    non-affiliation."""

    text: str = ATTRIBUTION_TEXT
    url: str = ATTRIBUTION_URL
    notice: str = NON_AFFILIATION_NOTICE


ATTRIBUTION = Attribution()
