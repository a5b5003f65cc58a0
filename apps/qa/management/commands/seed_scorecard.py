from django.core.management.base import BaseCommand

from apps.qa.default_scorecard import seed_default_scorecard


class Command(BaseCommand):
    help = "Create, publish and activate the default bank QA scorecard (zh/en) and its sampling rules; idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--no-activate", action="store_true", help="Publish without making it the active scorecard.")

    def handle(self, *args, no_activate=False, **options):
        version = seed_default_scorecard(activate=not no_activate)
        self.stdout.write(f"{version.scorecard.name}: version {version.number} ({version.status})")
