import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.funchost.conftest import build_test_app
from tests.support.funchost import LocalFunctionHost
from tests.support.funchost.timers import next_occurrence


def test_next_occurrence_uses_six_field_ncrontab_in_utc():
    start = datetime(2026, 11, 21, 2, 59, 59, tzinfo=UTC)
    assert next_occurrence("0 0 3 * * *", start) == datetime(2026, 11, 21, 3, 0, 0, tzinfo=UTC)
    assert next_occurrence("*/5 * * * * *", start) == datetime(2026, 11, 21, 3, 0, 0, tzinfo=UTC)
    assert next_occurrence("0 10 * * * *", start) == datetime(2026, 11, 21, 3, 10, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="6 fields"):
        next_occurrence("0 3 * * *", start)


def test_a_timer_fires_on_its_schedule(settings, recorder, fast_config, tmp_path):
    app = build_test_app(recorder, schedule="*/1 * * * * *")
    with LocalFunctionHost(
        app, settings, config=fast_config, queues=False, timer_status_dir=tmp_path
    ):
        deadline = time.monotonic() + 10
        while len(recorder.timer_calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(recorder.timer_calls) >= 2
    assert not any(recorder.timer_calls), "on-time runs are not past due"
    status = json.loads((tmp_path / "tick.json").read_text())
    assert datetime.fromisoformat(status["next"]) > datetime.now(UTC) - timedelta(seconds=5)


def test_an_occurrence_missed_while_down_fires_past_due_at_start(
    settings, recorder, fast_config, tmp_path
):
    missed = datetime.now(UTC) - timedelta(hours=1)
    (tmp_path / "tick.json").write_text(json.dumps({"last": None, "next": missed.isoformat()}))
    app = build_test_app(recorder, schedule="0 0 0 1 1 *")  # next real occurrence is far away
    with LocalFunctionHost(
        app, settings, config=fast_config, queues=False, timer_status_dir=tmp_path
    ):
        assert recorder.event.wait(5)
    assert recorder.timer_calls == [True]


def test_a_schedule_binding_expression_is_resolved_from_settings(settings, recorder, fast_config):
    app = build_test_app(recorder, schedule="%DUMP_SCHEDULE%")
    host = LocalFunctionHost(app, settings, config=fast_config, queues=False, timers=False)
    assert host.specs["tick"].schedule == settings.dump_schedule == "0 0 3 * * *"
    assert host.specs["work"].queue_name == settings.load_queue
