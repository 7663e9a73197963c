"""The Celery beat schedule, in one place, read by `celery beat` (docker-compose `beat`, or the
embedded worker that `make run` starts with `-B`).

Each entry carries a comment saying why it runs when it does. Crontab times are in
CELERY_TIMEZONE, which is the program's timezone.
"""

from celery.schedules import crontab

BEAT_SCHEDULE: dict[str, dict] = {
    # Every quarter of an hour: each creator gets their due-in-a-week, due-today and overdue
    # reminders once 09:00 has come where they live (MILESTONE_REMINDER_HOUR in their own time
    # zone), so a run finds the creators whose morning began since the last one.
    # Safe to run more often or on several workers: each reminder kind is claimed once per
    # milestone in the database. A run held up past the next gives way to it.
    "send-milestone-reminders": {
        "task": "programs.tasks.send_milestone_reminders",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    # Every quarter of an hour, as the milestone reminders: each person signed up to an
    # opportunity is reminded once, at 09:00 (MILESTONE_REMINDER_HOUR) where they live on the
    # day before it, so a run finds those whose morning began since the last one. Each due
    # reminder is a task queued when the run commits; only sending marks it sent (under the
    # sign-up's lock), so a lost task is queued again by the next run and none goes out twice.
    "send-opportunity-reminders": {
        "task": "programs.tasks.send_opportunity_reminders",
        "schedule": crontab(minute="*/15"),
        "options": {"expires": 14 * 60},
    },
    # Hourly, five past: milestones overdue more than MILESTONE_ESCALATE_AFTER_DAYS program days
    # go to their cohort's program manager, each once (the milestone records it); an hour is
    # soon enough for something already a week late.
    "escalate-overdue-milestones": {
        "task": "programs.tasks.escalate_overdue_milestones",
        "schedule": crontab(minute=5),
        "options": {"expires": 55 * 60},
    },
    # Mondays at 08:30 program time, after the reminders: the staff digest of overdue
    # milestones and updates awaiting review, claimed once per week.
    "send-staff-digest": {
        "task": "programs.tasks.send_staff_digest",
        "schedule": crontab(hour=8, minute=30, day_of_week="mon"),
    },
    # Every 15 minutes: TikTok previews the database holds as pending whose next try is due
    # (a retry lost when the broker restarted, or waiting longer than a Celery countdown);
    # each is fetched by its own task, which re-checks the row first.
    "retry-tiktok-previews": {
        "task": "programs.tasks.retry_tiktok_previews",
        "schedule": crontab(minute="*/15"),
    },
    # Finds payments the database holds as unfinished that no worker is moving: a task lost
    # when the broker restarted (Redis here keeps nothing on disk), or a worker killed between
    # the provider paying and the answer being recorded. Every PAYOUT_SWEEP_EVERY seconds (a
    # minute in production, so nothing waits long once it is stale); a run that finds nothing
    # costs one query. The settings add its schedule, which is a setting itself.
    # Daily at 03:15 program time, when nobody works: declined applications, expired links,
    # sessions and export ZIPs past their retention period are deleted (an audited run;
    # running it twice finds nothing more the second time).
    "purge-past-retention": {
        "task": "changemakers.backoffice.tasks.purge_past_retention",
        "schedule": crontab(hour=3, minute=15),
    },
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
