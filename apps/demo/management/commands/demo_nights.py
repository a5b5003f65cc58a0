"""``manage.py demo_nights``: the demo after a few nights of assessment, run here without workers."""
from django.core.management.base import BaseCommand, CommandError

from apps.demo.services import demo_disputes_open, demo_nights_run
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
        "process (through the same services as the workers), e-mail the alerts and weekly team reports, then "
        "have the demo's agent users dispute a QA "
        "answer and a team lead resolve one. Needs production models (bootstrap_models); nights already "
        "assessed are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--nights", type=_nights, default=7, help="Nights to assess, ending yesterday (default 7).")
        parser.add_argument("--disputes", type=int, default=3, choices=range(0, 11), metavar="0-10",
                            help="Demo agent users who each dispute one QA answer (default 3; the first is resolved).")

    def handle(self, *args, nights, disputes, verbosity, **options):
        if not production_models(required=False):
            raise CommandError("No production models: run bootstrap_models first.", returncode=1)
        history = demo_nights_run(nights=nights)
        opened = demo_disputes_open(n=disputes) if disputes else {"opened": 0, "resolved": 0}
        if verbosity:
            self.stdout.write(self.style.SUCCESS(
                f"Demo nights: {history['scored']} conversations scored, {len(history['assessed'])} nights assessed "
                f"({', '.join(history['assessed']) or 'none new'}), {history['flagged']} flagged for review, "
                f"{len(history['reports'])} weekly team reports e-mailed; "
                f"disputes {opened['opened']} opened / {opened['resolved']} resolved."
            ))
