"""Re-create the default beat schedules if they were deleted (existing ones are left as edited)."""
from django.core.management.base import BaseCommand

from apps.jobs.services import schedules_setup


class Command(BaseCommand):
    help = "Create the default django-celery-beat schedules that are missing (idempotent)."

    def handle(self, *args, **options):
        created = schedules_setup()
        self.stdout.write(f"{len(created)} schedule(s) created: {', '.join(created) or 'none missing'}")
