"""The Celery beat schedule, in one place, read by `celery beat` (docker-compose `beat`, or the
embedded worker that `make run` starts with `-B`).

Each entry carries a comment saying why it runs when it does. Crontab times are in
CELERY_TIMEZONE, which is the program's timezone.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    # Daily at 08:00 program time: creators get due-in-a-week, due-today and overdue reminders
    # in their working morning. Safe to run more often or on several workers: each reminder
    # kind is claimed once per milestone in the database.
    "send-milestone-reminders": {
        "task": "programs.tasks.send_milestone_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    # Mondays at 08:30 program time, after the reminders: the staff digest of overdue
    # milestones and updates awaiting review, claimed once per week.
    "send-staff-digest": {
        "task": "programs.tasks.send_staff_digest",
        "schedule": crontab(hour=8, minute=30, day_of_week="mon"),
    },
    # Finds payments the database holds as unfinished that no worker is moving: a task lost
    # when the broker restarted (Redis here keeps nothing on disk), or a worker killed between
    # the provider paying and the answer being recorded. Every PAYOUT_SWEEP_EVERY seconds (a
    # minute in production, so nothing waits long once it is stale); a run that finds nothing
    # costs one query. The settings add its schedule, which is a setting itself.
    "sweep-disbursements": {
        "task": "donations.tasks.sweep_disbursements",
    },
    # Webhooks: hands on events whose fan-out message was lost, and sends the deliveries whose
    # next attempt is due (retries hours apart wait in the database, not in the broker). Every
    # WEBHOOK_SWEEP_EVERY seconds (a minute); a run that finds nothing costs two queries.
    "sweep-webhooks": {
        "task": "changemakers.webhooks.tasks.sweep_webhooks",
    },
}
