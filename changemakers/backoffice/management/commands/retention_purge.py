"""Delete what is past its retention period (changemakers.backoffice.retention)."""

from django.core.management.base import BaseCommand

from changemakers.backoffice.retention import retention_purge


class Command(BaseCommand):
    help = (
        "Delete declined applications past their retention period, expired single-use links "
        "and sessions, and personal data exports past their lifetime. The run is audited."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be deleted."
        )

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        counts = retention_purge(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        for name, count in counts.items():
            self.stdout.write(f"{verb} {count} {name.replace('_', ' ')}")
