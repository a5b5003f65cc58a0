from django.core.management.base import BaseCommand

from apps.scoring.services.retrieval import reply_index_rebuild


class Command(BaseCommand):
    help = "Rebuild the reply-suggestion index now (incremental; --full refits the vocabulary)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true")

    def handle(self, *args, full, **options):
        result = reply_index_rebuild(full=full)
        self.stdout.write(self.style.SUCCESS(f"Reply index: {result}"))
