"""The Celery beat schedule, in one place, read by `celery beat` (docker-compose `beat`, or the
embedded worker that `make run` starts with `-B`).

Each entry carries a comment saying why it runs when it does.
"""

BEAT_SCHEDULE: dict[str, dict] = {
    # Finds payments the database holds as unfinished that no worker is moving: a task lost
    # when the broker restarted (Redis here keeps nothing on disk), or a worker killed between
    # the provider paying and the answer being recorded. Every minute, so nothing waits long
    # once it is stale (PAYOUT_STALE_AFTER); a run that finds nothing costs one query.
    "sweep-disbursements": {
        "task": "donations.tasks.sweep_disbursements",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
