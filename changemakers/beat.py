"""The Celery beat schedule, in one place, read by `celery beat` (docker-compose `beat`, or the
embedded worker that `make run` starts with `-B`).

Each entry carries a comment saying why it runs when it does. The periodic jobs of the program
(daily milestone reminders, the disbursement sweeper) are added here by the apps that own them.
Crontab times are in CELERY_TIMEZONE, which is the program's timezone.
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
}
