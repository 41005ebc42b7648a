"""A fake Discogs API: a real HTTP server on 127.0.0.1 serving realistic account payloads.

It behaves like api.discogs.com where the sync cares: token auth (401), private resources (403),
unknown users (404), `X-Discogs-Ratelimit*` headers on every answer, a limit of `limit` requests
per moving `window_seconds` answered with bare 429s (no Retry-After, empty body), pagination with
absolute `urls.next` and optional short pages, and injectable faults (429 bursts, 500/502, slow
answers, answers slower than the client's timeout, invalid JSON, 401/403/404).

Used by the sync tests, the sync benchmark and the demo; `window_seconds` lets tests shrink the
minute without changing the semantics.
"""

from __future__ import annotations

import collections
import json
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

GENRES = ["Electronic", "Rock", "Jazz", "Funk / Soul", "Hip Hop", "Classical", "Reggae", "Pop"]
STYLES = ["House", "Techno", "Dub", "Ambient", "Krautrock", "Hard Bop", "Disco", "Post-Punk"]
FORMATS = [
    {"name": "Vinyl", "qty": "1", "descriptions": ["LP", "Album"]},
    {"name": "Vinyl", "qty": "1", "descriptions": ['12"', "33 ⅓ RPM", "EP"]},
    {"name": "CD", "qty": "1", "descriptions": ["Album"]},
    {"name": "Vinyl", "qty": "2", "text": "180 g", "descriptions": ["LP", "Compilation"]},
    {"name": "Cassette", "qty": "1", "descriptions": ["Album"]},
]
CONDITIONS = [
    "Mint (M)",
    "Near Mint (NM or M-)",
    "Very Good Plus (VG+)",
    "Very Good (VG)",
    "Good Plus (G+)",
]
SLEEVES = [*CONDITIONS, "Generic", "Not Graded", "No Cover"]
_EPOCH = datetime(2012, 1, 1, tzinfo=UTC)
_OFFSET = timedelta(hours=-7)


def discogs_time(moment: datetime) -> str:
    """ISO 8601 with a -07:00 offset, as Discogs sends it."""
    from datetime import timezone

    return moment.astimezone(timezone(_OFFSET)).isoformat(timespec="seconds")


def format_money(amount: float, currency: str) -> str:
    symbols = {"USD": "$", "GBP": "£", "EUR": "€", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
    if currency == "JPY":
        return f"¥{round(amount):,}"
    if currency in symbols:
        return f"{symbols[currency]}{amount:,.2f}"
    return f"{currency} {amount:,.2f}"


@dataclass
class Fault:
    """One injected misbehaviour, consumed by the next matching request."""

    kind: str  # "status", "slow", "invalid_json", "html"
    status: int = 200
    delay: float = 0.0
    path_contains: str = ""


@dataclass
class FakeUser:
    username: str
    user_id: int
    curr_abbr: str = "USD"
    private: bool = False
    owned_by_token: bool = True
    folders: dict[int, str] = field(default_factory=lambda: {1: "Uncategorized"})
    fields: list[dict[str, Any]] = field(default_factory=list)
    collection: list[dict[str, Any]] = field(default_factory=list)
    wants: list[dict[str, Any]] = field(default_factory=list)
    listings: list[dict[str, Any]] = field(default_factory=list)
    value: dict[str, str] | None = None
    # page number -> number of items on that page (fewer than per_page): Discogs' short pages.
    short_pages: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RequestRecord:
    at: float
    path: str
    query: dict[str, str]
    status: int


class FakeDiscogs:
    def __init__(
        self,
        *,
        token: str = "fake-token",
        limit: int = 60,
        window_seconds: float = 60.0,
        seed: int = 5,
    ) -> None:
        self.token = token
        self.limit = limit
        self.window = window_seconds
        self.users: dict[str, FakeUser] = {}
        self.faults: list[Fault] = []
        # Some responses come without `urls` (the client must fall back to page < pages).
        self.send_page_urls = True
        self.requests: list[RequestRecord] = []
        self._in_flight = 0
        self._recent: collections.deque[float] = collections.deque()
        self._lock = threading.RLock()
        self._rng = random.Random(seed)
        self._next_release = 1_000_000
        self._next_instance = 500_000_000
        self._next_listing = 2_000_000_000
        self._clock_offset = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeDiscogs:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeDiscogs:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- data -----------------------------------------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        collection: int = 0,
        wants: int = 0,
        listings: int = 0,
        curr_abbr: str = "USD",
        private: bool = False,
    ) -> FakeUser:
        with self._lock:
            user = FakeUser(
                username=username,
                user_id=len(self.users) + 1,
                curr_abbr=curr_abbr,
                private=private,
                folders={1: "Uncategorized", 2: "Records", 3: "Sell pile"},
                fields=[
                    {
                        "id": 1,
                        "name": "Media",
                        "type": "dropdown",
                        "position": 1,
                        "public": True,
                        "options": CONDITIONS,
                    },
                    {
                        "id": 2,
                        "name": "Sleeve",
                        "type": "dropdown",
                        "position": 2,
                        "public": True,
                        "options": SLEEVES,
                    },
                    {
                        "id": 3,
                        "name": "Notes",
                        "type": "textarea",
                        "position": 3,
                        "public": False,
                        "lines": 3,
                    },
                ],
            )
            self.users[username.lower()] = user
            self.add_collection_items(username, collection)
            self.add_wants(username, wants)
            self.add_listings(username, listings)
            user.value = None
            return user

    def user(self, username: str) -> FakeUser:
        return self.users[username.lower()]

    def _tick(self) -> datetime:
        self._clock_offset += 1
        return _EPOCH + timedelta(hours=self._clock_offset)

    def basic_information(self, release_id: int) -> dict[str, Any]:
        rng = self._rng
        master = rng.choice([0, 0, release_id + 7_000_000])
        artist_id = rng.randint(1, 900_000)
        label_id = rng.randint(1, 90_000)
        image = (
            f"https://i.discogs.com/{release_id}/rs:fit/g:sm/q:40/h:150/w:150/R-{release_id}.jpeg"
        )
        return {
            "id": release_id,
            "master_id": master,
            "master_url": f"https://api.discogs.com/masters/{master}" if master else None,
            "resource_url": f"https://api.discogs.com/releases/{release_id}",
            "thumb": image,
            "cover_image": image.replace("h:150/w:150", "h:600/w:600"),
            "title": f"Title {release_id}",
            "year": rng.choice([0, *range(1965, 2025)]),
            "formats": [rng.choice(FORMATS)],
            "labels": [
                {
                    "name": f"Label {label_id}",
                    "catno": f"CAT-{release_id % 9999:04d}",
                    "entity_type": "1",
                    "entity_type_name": "Label",
                    "id": label_id,
                    "resource_url": f"https://api.discogs.com/labels/{label_id}",
                }
            ],
            "artists": [
                {
                    "name": f"Artist {artist_id}",
                    "anv": "",
                    "join": "",
                    "role": "",
                    "tracks": "",
                    "id": artist_id,
                    "resource_url": f"https://api.discogs.com/artists/{artist_id}",
                }
            ],
            "genres": rng.sample(GENRES, 2),
            "styles": rng.sample(STYLES, 2),
        }

    def add_collection_items(self, username: str, count: int) -> list[dict[str, Any]]:
        with self._lock:
            user = self.user(username)
            added = []
            for _ in range(count):
                self._next_release += self._rng.choice([1, 1, 3, 17])
                self._next_instance += 1
                notes = []
                if self._rng.random() < 0.6:
                    notes.append({"field_id": 1, "value": self._rng.choice(CONDITIONS)})
                    notes.append({"field_id": 2, "value": self._rng.choice(SLEEVES)})
                if self._rng.random() < 0.1:
                    notes.append({"field_id": 3, "value": "signed copy\r\nbought in Berlin"})
                item = {
                    "id": self._next_release,
                    "instance_id": self._next_instance,
                    "date_added": discogs_time(self._tick()),
                    "rating": self._rng.choice([0, 0, 0, 3, 4, 5]),
                    "folder_id": self._rng.choice(list(user.folders)),
                    "basic_information": self.basic_information(self._next_release),
                }
                if notes:
                    item["notes"] = notes
                user.collection.append(item)
                added.append(item)
            return added

    def add_wants(self, username: str, count: int) -> list[dict[str, Any]]:
        with self._lock:
            user = self.user(username)
            added = []
            for _ in range(count):
                self._next_release += 5
                rid = self._next_release
                want = {
                    "id": rid,
                    "rating": self._rng.choice([0, 4, 5]),
                    "notes": self._rng.choice(["", "any pressing", "only the 1st press"]),
                    "notes_public": False,
                    "resource_url": f"https://api.discogs.com/users/{username}/wants/{rid}",
                    "date_added": discogs_time(self._tick()),
                    "basic_information": self.basic_information(rid),
                }
                user.wants.append(want)
                added.append(want)
            return added

    def add_listings(self, username: str, count: int) -> list[dict[str, Any]]:
        with self._lock:
            user = self.user(username)
            added = []
            for _ in range(count):
                self._next_release += 2
                self._next_listing += 1
                rid, lid = self._next_release, self._next_listing
                price = round(self._rng.uniform(2, 250), 2)
                listing = {
                    "id": lid,
                    "status": "For Sale",
                    "condition": self._rng.choice(CONDITIONS),
                    "sleeve_condition": self._rng.choice(SLEEVES),
                    "posted": discogs_time(self._tick()),
                    "price": {"value": price, "currency": user.curr_abbr},
                    "original_price": {
                        "curr_abbr": user.curr_abbr,
                        "curr_id": 1,
                        "value": price,
                        "formatted": format_money(price, user.curr_abbr),
                    },
                    "allow_offers": self._rng.random() < 0.5,
                    "ships_from": "Germany",
                    "comments": "Plays fine. Light marks.",
                    "audio": False,
                    "uri": f"https://www.discogs.com/sell/item/{lid}",
                    "resource_url": f"https://api.discogs.com/marketplace/listings/{lid}",
                    "seller": {"id": user.user_id, "username": user.username},
                    "release": {
                        "id": rid,
                        "description": f"Artist - Title {rid} (LP, Album)",
                        "artist": "Artist",
                        "title": f"Title {rid}",
                        "format": "LP, Album",
                        "catalog_number": f"CAT {rid % 1000}",
                        "year": 1999,
                        "thumbnail": f"https://i.discogs.com/{rid}.jpeg",
                        "resource_url": f"https://api.discogs.com/releases/{rid}",
                    },
                }
                user.listings.append(listing)
                added.append(listing)
            return added

    def set_value(self, username: str, minimum: float, median: float, maximum: float) -> None:
        user = self.user(username)
        user.value = {
            "minimum": format_money(minimum, user.curr_abbr),
            "median": format_money(median, user.curr_abbr),
            "maximum": format_money(maximum, user.curr_abbr),
        }

    # --- faults and observations ------------------------------------------------------------------

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def consume(self, count: int) -> None:
        """Other tenants behind the same egress IP sent `count` requests, evenly spread over
        the last window (so they leave it at the same steady rate)."""
        with self._lock:
            now = time.monotonic()
            spread = [now - self.window * (1 - (i + 1) / count) for i in range(count)]
            self._recent = collections.deque(sorted([*self._recent, *spread]))

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def count(self, path_contains: str = "", status: int | None = None) -> int:
        return sum(
            1
            for r in self.requests
            if path_contains in r.path and (status is None or r.status == status)
        )

    def max_in_window(self, window: float | None = None) -> int:
        """The most requests we received within any moving window (for budget assertions)."""
        window = window or self.window
        times = sorted(r.at for r in self.requests)
        best, start = 0, 0
        for end, moment in enumerate(times):
            while times[start] <= moment - window:
                start += 1
            best = max(best, end - start + 1)
        return best

    # --- request handling ----------------------------------------------------------------------

    def handle(self, path: str, query: dict[str, str], headers: Any) -> tuple[int, dict, bytes]:
        now = time.monotonic()
        arrived = time.time()
        with self._lock:
            while self._recent and self._recent[0] <= now - self.window:
                self._recent.popleft()
            self._recent.append(now)
            used = len(self._recent)
            fault = self._take_fault(f"{path}?{urlencode(query)}")
            self._in_flight += 1
        rate_headers = {
            "X-Discogs-Ratelimit": str(self.limit),
            "X-Discogs-Ratelimit-Used": str(min(used, self.limit)),
            "X-Discogs-Ratelimit-Remaining": str(max(self.limit - used, 0)),
        }
        try:
            status, body, extra = self._answer(path, query, headers, used, fault)
            self.requests.append(RequestRecord(arrived, path, query, status))
        finally:
            with self._lock:
                self._in_flight -= 1
        return status, {**rate_headers, **extra}, body

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait for answers still being worked on (e.g. a slow one the client gave up on)."""
        deadline = time.monotonic() + timeout
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.01)

    def _take_fault(self, target: str) -> Fault | None:
        # `path_contains` is matched against the path and query, e.g. "/releases" or "page=3".
        for index, fault in enumerate(self.faults):
            if fault.path_contains in target:
                return self.faults.pop(index)
        return None

    def _answer(
        self, path: str, query: dict[str, str], headers: Any, used: int, fault: Fault | None
    ) -> tuple[int, bytes, dict[str, str]]:
        json_type = {"Content-Type": "application/json"}
        if used > self.limit:
            return 429, b"", json_type
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.kind == "status":
                if fault.status == 429:
                    return 429, b"", json_type
                return fault.status, _json({"message": f"Injected HTTP {fault.status}"}), json_type
            if fault.kind == "invalid_json":
                return 200, b'{"pagination": {"page": 1, "pag', json_type
            if fault.kind == "html":
                html = b"<html><body>Checking your connection...</body></html>"
                return fault.status, html, {"Content-Type": "text/html"}
        if headers.get("Authorization") != f"Discogs token={self.token}":
            message = {"message": "You must authenticate to access this resource."}
            return 401, _json(message), json_type
        try:
            return 200, _json(self._route(path, query)), json_type
        except _HttpError as error:
            return error.status, _json({"message": error.message}), json_type

    def _route(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        parts = [p for p in path.split("/") if p]
        if parts == ["oauth", "identity"]:
            owner = next((u for u in self.users.values() if u.owned_by_token), None)
            if owner is None:
                raise _HttpError(401, "You must authenticate to access this resource.")
            return {"id": owner.user_id, "username": owner.username}
        if len(parts) < 2 or parts[0] != "users":
            raise _HttpError(404, "The requested resource was not found.")
        with self._lock:
            user = self.users.get(parts[1].lower())
            if user is None:
                raise _HttpError(404, "User does not exist or may have been deleted.")
            rest = parts[2:]
            base = f"{self.base_url}/users/{user.username}"
            if not rest:
                return self._profile(user, base)
            private = user.private or not user.owned_by_token
            if rest == ["collection", "folders"]:
                return {"folders": self._folders(user, base)}
            if rest == ["collection", "fields"]:
                return {"fields": list(user.fields)}
            if rest == ["collection", "value"]:
                if not user.owned_by_token:
                    raise _HttpError(403, "You don't have permission to access this resource.")
                return user.value or {
                    "minimum": format_money(0, user.curr_abbr),
                    "median": format_money(0, user.curr_abbr),
                    "maximum": format_money(0, user.curr_abbr),
                }
            if rest == ["collection", "folders", "0", "releases"]:
                if private:
                    raise _HttpError(403, "You don't have permission to access this resource.")
                items = _sorted(user.collection, query, "date_added", "instance_id")
                return self._paged(user, items, "releases", path, query)
            if rest == ["wants"]:
                if private:
                    raise _HttpError(403, "You don't have permission to access this resource.")
                items = _sorted(user.wants, query, "date_added", "id")
                return self._paged(user, items, "wants", path, query)
            if rest == ["inventory"]:
                items = _sorted(user.listings, query, "posted", "id")
                return self._paged(user, items, "listings", path, query)
        raise _HttpError(404, "The requested resource was not found.")

    def _profile(self, user: FakeUser, base: str) -> dict[str, Any]:
        return {
            "id": user.user_id,
            "username": user.username,
            "name": f"{user.username} (fake)",
            "profile": "Collector.",
            "location": "Berlin",
            "registered": "2010-05-02T10:00:00-07:00",
            "curr_abbr": user.curr_abbr,
            "num_collection": len(user.collection),
            "num_wantlist": len(user.wants),
            "num_for_sale": sum(1 for listing in user.listings if listing["status"] == "For Sale"),
            "num_lists": 0,
            "rank": 12.0,
            "rating_avg": 4.9,
            "collection_folders_url": f"{base}/collection/folders",
            "collection_fields_url": f"{base}/collection/fields",
            "wantlist_url": f"{base}/wants",
            "inventory_url": f"{base}/inventory",
            "uri": f"https://www.discogs.com/user/{user.username}",
            "resource_url": base,
            "avatar_url": "https://i.discogs.com/avatar.jpeg",
        }

    def _folders(self, user: FakeUser, base: str) -> list[dict[str, Any]]:
        counts = collections.Counter(item["folder_id"] for item in user.collection)
        folders = [
            {
                "id": 0,
                "name": "All",
                "count": len(user.collection),
                "resource_url": f"{base}/collection/folders/0",
            }
        ]
        for folder_id, name in sorted(user.folders.items()):
            folders.append(
                {
                    "id": folder_id,
                    "name": name,
                    "count": counts.get(folder_id, 0),
                    "resource_url": f"{base}/collection/folders/{folder_id}",
                }
            )
        return folders

    def _paged(
        self, user: FakeUser, items: list[dict], key: str, path: str, query: dict[str, str]
    ) -> dict[str, Any]:
        per_page = max(1, min(int(query.get("per_page", 50)), 100))
        page = max(1, int(query.get("page", 1)))
        # Page layout: per_page each, except injected short pages (no item is skipped).
        sizes, remaining, number = [], len(items), 1
        while remaining > 0:
            size = min(user.short_pages.get(number, per_page), remaining)
            sizes.append(size)
            remaining -= size
            number += 1
        pages = max(len(sizes), 1)
        start = sum(sizes[: page - 1])
        chunk = items[start : start + sizes[page - 1]] if page <= len(sizes) else []

        def url(number: int) -> str:
            params = {**query, "page": str(number), "per_page": str(per_page)}
            return f"{self.base_url}{path}?{urlencode(params)}"

        urls: dict[str, str] = {}
        if self.send_page_urls and page > 1:
            urls["first"], urls["prev"] = url(1), url(page - 1)
        if self.send_page_urls and page < pages:
            urls["next"], urls["last"] = url(page + 1), url(pages)
        pagination = {
            "page": page,
            "pages": pages,
            "per_page": per_page,
            "items": len(items),
            "urls": urls,
        }
        return {"pagination": pagination, key: [json.loads(json.dumps(i)) for i in chunk]}


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _sorted(items: list[dict], query: dict[str, str], date_key: str, id_key: str) -> list[dict]:
    reverse = query.get("sort_order", "asc") == "desc"
    return sorted(
        items,
        key=lambda item: (datetime.fromisoformat(item[date_key]), item[id_key]),
        reverse=reverse,
    )


def _json(body: object) -> bytes:
    return json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeDiscogs
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        status, headers, body = self.fake.handle(parts.path, query, self.headers)
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); nothing to do

    def log_message(self, format: str, *args: object) -> None:
        return


def main(argv: list[str] | None = None) -> int:
    """Serve a fake Discogs for manual tries: point DISCOGS_API_BASE_URL at it."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.support.fake_discogs")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="fake-token")
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:ITEMS",
        help="a user with that many collection items (repeatable; default digger:250)",
    )
    args = parser.parse_args(argv)
    fake = FakeDiscogs(token=args.token)
    handler = type("Handler", (_Handler,), {"fake": fake})
    fake._server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    for spec in args.user or ["digger:250"]:
        name, _, count = spec.partition(":")
        size = int(count or 100)
        fake.add_user(name, collection=size, wants=size // 10, listings=size // 20)
        fake.set_value(name, size * 0.5, size * 2.0, size * 9.0)
    print(f"fake Discogs at {fake.base_url} (token {args.token!r}); Ctrl-C to stop", flush=True)
    try:
        fake._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake._server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
