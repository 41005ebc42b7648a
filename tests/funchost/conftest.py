from __future__ import annotations

import json
import threading
from collections import Counter

import azure.functions as func
import pytest

from tests.support.funchost.config import HostConfig, QueueOptions

FAST_QUEUES = QueueOptions(
    batch_size=2,
    new_batch_threshold=1,
    max_dequeue_count=3,
    visibility_timeout=0.0,
    max_polling_interval=0.3,
)


class Recorder:
    """What the test app's functions saw, shared with the test thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bodies: list[str] = []
        self.attempts: Counter[str] = Counter()
        self.dequeue_counts: list[int] = []
        self.timer_calls: list[bool] = []
        self.event = threading.Event()

    def record(self, body: str, dequeue_count: int) -> int:
        with self.lock:
            self.attempts[body] += 1
            self.dequeue_counts.append(dequeue_count)
            return self.attempts[body]


def build_test_app(recorder: Recorder, schedule: str = "*/1 * * * * *") -> func.FunctionApp:
    """A small app exercising every trigger kind the runner supports."""
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="echo/{name}/{count:int?}", methods=["GET", "POST"])
    def echo(req: func.HttpRequest) -> func.HttpResponse:
        payload = {
            "method": req.method,
            "route": dict(req.route_params),
            "params": dict(req.params),
            "body": req.get_body().decode(),
            "header": req.headers.get("x-probe"),
        }
        return func.HttpResponse(
            json.dumps(payload),
            status_code=201,
            mimetype="application/json",
            headers={"X-Echo": "yes"},
        )

    @app.route(route="admin-only", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
    def admin_only(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("admin")

    @app.route(route="open", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def open_route(req: func.HttpRequest) -> None:
        return None

    @app.route(route="{*path}", methods=["OPTIONS"], auth_level=func.AuthLevel.ANONYMOUS)
    def preflight(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse(status_code=204)

    @app.route(route="boom", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
    def boom(req: func.HttpRequest) -> func.HttpResponse:
        raise RuntimeError("secret internals")

    @app.queue_trigger(arg_name="msg", queue_name="%LOAD_QUEUE%", connection="AzureWebJobsStorage")
    def work(msg: func.QueueMessage) -> None:
        body = msg.get_body().decode()
        attempt = recorder.record(body, msg.dequeue_count)
        if body.startswith("always-fail") or (body.startswith("fail-once") and attempt == 1):
            raise RuntimeError(f"failing {body} on attempt {attempt}")
        with recorder.lock:
            recorder.bodies.append(body)
        recorder.event.set()

    @app.timer_trigger(arg_name="timer", schedule=schedule, run_on_startup=False)
    def tick(timer: func.TimerRequest) -> None:
        with recorder.lock:
            recorder.timer_calls.append(timer.past_due)
        recorder.event.set()

    return app


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def fast_config() -> HostConfig:
    return HostConfig(route_prefix="api", queues=FAST_QUEUES)
