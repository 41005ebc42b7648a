"""A local stand-in for data.discogs.com: a real HTTP server on 127.0.0.1 with fault injection.

It serves one or more months of dump files under the official host's URL scheme: the landing page
`/` links the year folders (`?prefix=data%2FYYYY%2F`), a year page links each file
(`?download=data%2FYYYY%2F<name>`), and a download streams the bytes. A month's CHECKSUM.txt is
generated from the real files in Discogs' single-space format, in shuffled order. Faults (all
mutable while the server runs) imitate what the real host does: drop the connection mid-file,
answer 429 with Retry-After, serve a wrong checksum, be slow, ignore Range, omit Content-Length
(chunked transfer, like the official host), or list a month without some of its files.

    with DumpHost.serving({"20200806": Path("tests/data/discogs/20200806")}) as host:
        host.faults.drop_after["discogs_20200806_releases.xml.gz"] = [300_000]
        ... DISCOGS_DUMP_BASE_URL=host.base_url ...

Run `python -m tests.support.dump_host DIR [--port N]` to serve a folder of monthly folders.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

_RANGE = re.compile(r"bytes=(\d+)-$")
_WRITE_BYTES = 16 * 1024


@dataclass
class Faults:
    # file name → list of byte counts: each request of that file (in turn) is cut after that many
    # body bytes; the list is consumed, so [300_000] breaks exactly one request.
    drop_after: dict[str, list[int]] = field(default_factory=dict)
    # Answer this many next download requests (or listing requests) with 429.
    rate_limit_downloads: int = 0
    rate_limit_listings: int = 0
    retry_after: str = "3574"
    # File names whose CHECKSUM entry is wrong.
    wrong_checksum: set[str] = field(default_factory=set)
    # Seconds to wait after every 16 KiB written.
    slow_seconds_per_write: float = 0.0
    range_support: bool = True
    content_length: bool = True
    # File names left out of the listing (and 404 on download): an incomplete month.
    unpublished: set[str] = field(default_factory=set)
    # Answer downloads with a 302 to `/files/<key>` (the official host redirects to storage).
    redirect_downloads: bool = False


@dataclass
class LoggedRequest:
    path: str
    query: dict[str, str]
    range: str | None
    status: int
    body_bytes: int = 0
    method: str = "GET"


class DumpHost:
    def __init__(self, months: dict[str, Path | dict[str, bytes]], port: int = 0) -> None:
        self.files: dict[str, bytes] = {}
        self.years: dict[str, str] = {}  # file name → year
        for stamp, source in months.items():
            contents = (
                {p.name: p.read_bytes() for p in sorted(source.iterdir()) if p.is_file()}
                if isinstance(source, Path)
                else dict(source)
            )
            for name, data in contents.items():
                if name.startswith(f"discogs_{stamp}_"):
                    self.files[name] = data
                    self.years[name] = stamp[:4]
            checksum_name = f"discogs_{stamp}_CHECKSUM.txt"
            if checksum_name not in contents:
                self.years[checksum_name] = stamp[:4]
                self.files[checksum_name] = b""  # rendered per request (faults may change it)
        self.faults = Faults()
        self.landing_links = True  # False: `/` links no year folders (callers must guess them)
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> DumpHost:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @classmethod
    @contextlib.contextmanager
    def serving(cls, months: dict[str, Path | dict[str, bytes]]) -> Iterator[DumpHost]:
        host = cls(months).start()
        try:
            yield host
        finally:
            host.stop()

    # --- content ----------------------------------------------------------------------------
    def checksum_text(self, stamp: str) -> bytes:
        lines = []
        for name, data in self.files.items():
            if name.startswith(f"discogs_{stamp}_") and name.endswith(".xml.gz"):
                digest = hashlib.sha256(data).hexdigest()
                if name in self.faults.wrong_checksum:
                    digest = hashlib.sha256(data + b"tampered").hexdigest()
                lines.append(f"{digest} {name}\n")
        random.Random(stamp).shuffle(lines)  # the real file's line order is not stable either
        return "".join(lines).encode()

    def content(self, name: str) -> bytes:
        if name.endswith("_CHECKSUM.txt") and not self.files[name]:
            return self.checksum_text(name.split("_")[1])
        return self.files[name]

    def published(self) -> list[str]:
        return sorted(n for n in self.files if n not in self.faults.unpublished)

    def downloads(self, name: str) -> list[LoggedRequest]:
        """GET requests for `name`, by its download link or its redirect target."""
        return [
            r
            for r in self.requests
            if r.method == "GET"
            and (r.query.get("download", "").endswith("/" + name) or r.path.endswith("/" + name))
        ]

    def _log(self, entry: LoggedRequest) -> None:
        with self._lock:
            self.requests.append(entry)

    def _take(self, attribute: str) -> bool:
        with self._lock:
            left = getattr(self.faults, attribute)
            if left > 0:
                setattr(self.faults, attribute, left - 1)
                return True
            return False

    def _drop_point(self, name: str) -> int | None:
        with self._lock:
            points = self.faults.drop_after.get(name)
            return points.pop(0) if points else None

    # --- HTTP -------------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: tests read host.requests instead

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                entry = LoggedRequest(parts.path, query, self.headers.get("Range"), 200)
                host._log(entry)
                if "download" in query and host.faults.redirect_downloads:
                    entry.status = 302
                    self.send_response(302)
                    self.send_header("Location", "/files/" + quote(query["download"]))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif "download" in query:
                    self._download(query["download"], entry)
                elif parts.path.startswith("/files/"):
                    self._download(unquote(parts.path[len("/files/") :]), entry)
                elif parts.path == "/":
                    if host._take("rate_limit_listings"):
                        self._status(429, entry, {"Retry-After": host.faults.retry_after})
                    else:
                        self._listing(query.get("prefix"), entry)
                else:
                    self._status(404, entry)

            def do_HEAD(self) -> None:
                # Like the official host: no Content-Length on HEAD; redirects as on GET.
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                entry = LoggedRequest(parts.path, query, None, 200, method="HEAD")
                host._log(entry)
                if "download" in query and host.faults.redirect_downloads:
                    entry.status = 302
                    self.send_response(302)
                    self.send_header("Location", "/files/" + quote(query["download"]))
                else:
                    self.send_response(200)
                self.end_headers()

            def _status(
                self, status: int, entry: LoggedRequest, headers: dict[str, str] | None = None
            ) -> None:
                entry.status = status
                body = f"{status}\n".encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _listing(self, prefix: str | None, entry: LoggedRequest) -> None:
                names = host.published()
                if prefix is None:
                    years = sorted({host.years[n] for n in names}, reverse=True)
                    years = years if host.landing_links else []
                    links = [
                        f'<li><a href="?prefix={quote(f"data/{y}/", safe="")}">{y}</a></li>'
                        for y in years
                    ]
                else:
                    year = prefix.strip("/").rsplit("/", 1)[-1]
                    links = [
                        f'<li><a href="?download={quote(f"data/{year}/{n}", safe="")}">{n}</a>'
                        f" {len(host.content(n))} bytes</li>"
                        for n in names
                        if host.years[n] == year
                    ]
                body = (
                    "<!doctype html><html><head><title>Discogs Data</title></head><body>"
                    f"<ul>{''.join(links)}</ul></body></html>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _download(self, key: str, entry: LoggedRequest) -> None:
                name = key.rsplit("/", 1)[-1]
                if name not in host.files or name in host.faults.unpublished:
                    self._status(404, entry)
                    return
                if host._take("rate_limit_downloads"):
                    self._status(429, entry, {"Retry-After": host.faults.retry_after})
                    return
                data = host.content(name)
                start = 0
                match = _RANGE.match(self.headers.get("Range", ""))
                if match and host.faults.range_support and int(match[1]) < len(data):
                    start = int(match[1])
                    entry.status = 206
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                if host.faults.range_support:
                    self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Type", "application/octet-stream")
                chunked = not host.faults.content_length
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(data) - start))
                self.end_headers()
                drop = host._drop_point(name)
                body = memoryview(data)[start:]
                sent = 0
                try:
                    while sent < len(body):
                        piece = body[sent : sent + _WRITE_BYTES]
                        if drop is not None and sent + len(piece) > drop:
                            piece = piece[: max(0, drop - sent)]
                            self._write(piece, chunked)
                            sent += len(piece)
                            entry.body_bytes = sent
                            self.close_connection = True
                            self.connection.shutdown(2)  # cut mid-file, no terminator
                            return
                        self._write(piece, chunked)
                        sent += len(piece)
                        if host.faults.slow_seconds_per_write:
                            time.sleep(host.faults.slow_seconds_per_write)
                    if chunked:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                entry.body_bytes = sent

            def _write(self, piece: memoryview, chunked: bool) -> None:
                if not piece:
                    return
                if chunked:
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + bytes(piece) + b"\r\n")
                else:
                    self.wfile.write(piece)

        return Handler


def main() -> None:  # pragma: no cover - manual use
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of YYYYMMDD month folders")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    months = {p.name: p for p in sorted(args.folder.iterdir()) if re.fullmatch(r"\d{8}", p.name)}
    host = DumpHost(months, port=args.port).start()
    print(f"serving {', '.join(months)} at {host.base_url}/ (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    host.stop()


if __name__ == "__main__":
    main()
