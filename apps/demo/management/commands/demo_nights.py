"""``manage.py demo_nights``: the demo after a few nights of assessment, run here without workers."""
from django.core.management.base import BaseCommand, CommandError

from apps.demo.services import demo_nights_run
from apps.registry.loader import production_models


def _nights(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 90:
        raise ValueError(value)
    return number


_nights.__name__ = "number of nights (1-90)"


class Command(BaseCommand):
    help = (
        "Run the scoring jobs waiting for a worker and the nightly assessment of each of the last N days in this "
        "process (through the same services as the workers). Needs production models (bootstrap_models); "
        "nights already assessed are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--nights", type=_nights, default=7, help="Nights to assess, ending yesterday (default 7).")

    def handle(self, *args, nights, verbosity, **options):
        if not production_models(required=False):
            raise CommandError("No production models: run bootstrap_models first.", returncode=1)
        history = demo_nights_run(nights=nights)
        if verbosity:
            self.stdout.write(self.style.SUCCESS(
                f"Demo nights: {history['scored']} conversations scored, {len(history['assessed'])} nights assessed "
                f"({', '.join(history['assessed']) or 'none new'}), {history['flagged']} flagged for review."
            ))
