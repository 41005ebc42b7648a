"""host.json queue settings match what the pipeline's code assumes."""

from __future__ import annotations

import json
from pathlib import Path

from shared.pipeline.load import MAX_DEQUEUE_COUNT

HOST_JSON = Path(__file__).resolve().parents[2] / "host.json"


def test_queue_settings_for_cpu_bound_loaders() -> None:
    queues = json.loads(HOST_JSON.read_text())["extensions"]["queues"]
    # One execution per instance (batchSize + newBatchThreshold): lxml parsing is CPU-bound, so
    # the platform scales out instead, and each instance holds at most one loader connection.
    assert queues["batchSize"] + queues["newBatchThreshold"] == 1
    # The load handler marks a chunk poisoned on this attempt; both must agree.
    assert queues["maxDequeueCount"] == MAX_DEQUEUE_COUNT
    assert queues["messageEncoding"] == "base64"  # what shared.storage.clients.queue sends
