"""The Celery beat schedule, in one place, read by `celery beat` (docker-compose `beat`, or the
embedded worker that `make run` starts with `-B`).

Each entry carries a comment saying why it runs when it does. The periodic jobs of the program
(daily milestone reminders, the disbursement sweeper) are added here by the apps that own them.
"""

BEAT_SCHEDULE: dict[str, dict] = {}
