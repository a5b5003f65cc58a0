import json

from django.core.management.base import BaseCommand, CommandError

from apps.core.exceptions import ApplicationError
from apps.qa.learned import criterion_model_train
from apps.qa.models import Criterion


class Command(BaseCommand):
    help = (
        "Train a learned model for a QA criterion from reviewers' answers, register it as task "
        "qa:<key> and promote it if it beats the production model (by id or key; a key names its newest criterion)."
    )

    def add_arguments(self, parser):
        parser.add_argument("criterion", help="Criterion id, or key (e.g. tone).")
        parser.add_argument("--no-promote", action="store_true", help="Register the candidate without promoting it.")

    def handle(self, *args, criterion, no_promote=False, **options):
        query = Criterion.objects.filter(pk=int(criterion)) if criterion.isdigit() else Criterion.objects.filter(key=criterion)
        found = query.order_by("-pk").values_list("pk", flat=True).first()
        if found is None:
            raise CommandError(f"No criterion {criterion!r}.")
        try:
            result = criterion_model_train(criterion_id=found, promote=not no_promote)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} {exc.extra or ''}") from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False, indent=2))
