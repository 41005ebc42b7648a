"""HTTP triggers on `/<routePrefix>/<route>`, with route templates, methods and auth levels."""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from tests.support.funchost.functions import FunctionSpec

log = logging.getLogger("funchost.http")

_PARAMETER = re.compile(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z]+)(?:\([^)]*\))?)?(\?)?\}")
_CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "alpha": r"[A-Za-z]+",
    "bool": r"(?i:true|false)",
    "guid": r"[0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12}",
}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def compile_route(template: str) -> re.Pattern[str]:
    """An ASP.NET-style route template (`releases/{id:int}`, `{name?}`, `{*rest}`) as a regex."""
    pattern = ""
    for segment in template.strip("/").split("/"):
        whole = _PARAMETER.fullmatch(segment)
        if whole and whole[4]:  # an optional parameter spans its whole segment
            pattern += f"(?:/(?P<{whole[2]}>{_CONSTRAINTS.get(whole[3] or '', '[^/]+')}))?"
            continue
        pattern += "/"
        position = 0
        for match in _PARAMETER.finditer(segment):
            pattern += re.escape(segment[position : match.start()])
            value = ".*" if match[1] else _CONSTRAINTS.get((match[3] or "").lower(), "[^/]+")
            pattern += f"(?P<{match[2]}>{value})"
            position = match.end()
        pattern += re.escape(segment[position:])
    return re.compile(f"^{pattern}/?$", re.IGNORECASE)


@dataclass
class Route:
    spec: FunctionSpec
    pattern: re.Pattern[str]

    @property
    def specificity(self) -> tuple[int, int]:
        # Literal routes win over parameterised ones, as in ASP.NET routing.
        return (self.pattern.pattern.count("(?P<"), -len(self.spec.route or ""))


@dataclass(frozen=True)
class Keys:
    function: str | None
    admin: str | None

    def allows(self, level: str, presented: str | None) -> bool:
        if level == "ANONYMOUS":
            return True
        if not presented:
            return False
        accepted = [self.admin] if level == "ADMIN" else [self.function, self.admin]
        return any(k and hmac.compare_digest(k.encode(), presented.encode()) for k in accepted)


class HttpFrontend:
    """Serves the HTTP functions and the host's admin endpoint on a loopback port."""

    def __init__(
        self,
        specs: list[FunctionSpec],
        *,
        route_prefix: str,
        keys: Keys,
        invoke: Callable[[FunctionSpec, object, str], object],
        run_function: Callable[[str, str | None], None],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.prefix = f"/{route_prefix}" if route_prefix else ""
        self.routes = sorted(
            (Route(s, compile_route(s.route or s.name)) for s in specs if s.kind == "http"),
            key=lambda r: r.specificity,
        )
        self.keys = keys
        self.invoke = invoke
        self.run_function = run_function
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="funchost-http")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        frontend = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Small keep-alive responses would otherwise wait for the client's delayed ACK (~40 ms).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                log.debug(format, *args)

            def handle_any(self) -> None:
                frontend.handle(self)

        for method in _METHODS:
            setattr(Handler, f"do_{method}", Handler.handle_any)
        return Handler

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        presented = handler.headers.get("x-functions-key") or params.get("code")
        if url.path.startswith("/admin/"):
            self._handle_admin(handler, url.path, body, presented)
            return
        if not url.path.startswith(self.prefix + "/") and url.path != self.prefix:
            self._reply(handler, 404, b"")
            return
        path = url.path[len(self.prefix) :] or "/"
        matches = [(route, m) for route in self.routes if (m := route.pattern.match(path))]
        if not matches:
            self._reply(handler, 404, b"")
            return
        allowed = [
            (route, m)
            for route, m in matches
            if not route.spec.methods or handler.command in route.spec.methods
        ]
        if not allowed:
            # A path that only a catch-all route (e.g. a CORS preflight) matched does not exist.
            specific = any("{*" not in (route.spec.route or "") for route, _ in matches)
            self._reply(handler, 405 if specific else 404, b"")
            return
        route, match = allowed[0]
        if not self.keys.allows(route.spec.auth_level, presented):
            self._reply(handler, 401, b"")
            return
        request = func.HttpRequest(
            method=handler.command,
            url=f"{self.base_url}{handler.path}",
            headers=dict(handler.headers.items()),
            params=params,
            route_params={k: v for k, v in match.groupdict().items() if v is not None},
            body=body,
        )
        try:
            response = self.invoke(route.spec, request, f"HTTP {handler.command} {url.path}")
        except Exception:
            self._reply(handler, 500, b"")
            return
        if response is None:
            self._reply(handler, 204, b"")
            return
        if not isinstance(response, func.HttpResponse):
            response = func.HttpResponse(str(response))
        headers = dict(response.headers.items())
        if not any(k.lower() == "content-type" for k in headers) and response.mimetype:
            content_type = response.mimetype
            if response.charset:
                content_type += f"; charset={response.charset}"
            headers["Content-Type"] = content_type
        self._reply(handler, response.status_code, response.get_body() or b"", headers)

    def _handle_admin(
        self, handler: BaseHTTPRequestHandler, path: str, body: bytes, presented: str | None
    ) -> None:
        if not self.keys.allows("ADMIN", presented):
            self._reply(handler, 401, b"")
            return
        if path == "/admin/host/status" and handler.command == "GET":
            self._reply(handler, 200, b'{"state": "Running"}', {"Content-Type": "application/json"})
            return
        match = re.fullmatch(r"/admin/functions/([A-Za-z0-9_]+)", path)
        if not match or handler.command != "POST":
            self._reply(handler, 404, b"")
            return
        try:
            payload = json.loads(body or b"{}")
            text = payload.get("input") if isinstance(payload, dict) else None
        except ValueError:
            self._reply(handler, 400, b'{"error": "body must be JSON: {\\"input\\": ...}"}')
            return
        try:
            self.run_function(match[1], None if text is None else str(text))
        except KeyError:
            self._reply(handler, 404, b"")
            return
        self._reply(handler, 202, b"")

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        handler.send_response(status)
        for key, value in (headers or {}).items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(body)
