"""gunicorn's settings for the web service (`gunicorn -c python:changemakers.gunicorn_conf`).

With several worker processes, each keeps its own request metrics: prometheus_client's
multiprocess mode writes them to `PROMETHEUS_MULTIPROC_DIR`, /metrics sums them, and a dead
worker's live gauges are dropped here. The folder is emptied when gunicorn starts, as the
client's documentation asks.
"""

import os
import shutil
from pathlib import Path


def on_starting(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
