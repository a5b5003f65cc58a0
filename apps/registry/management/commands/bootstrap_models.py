"""Train intent/sentiment/quality from the labelled conversations, promote them, queue a scoring job.

Used by ``make demo`` so a newcomer sees predictions within minutes::

    python manage.py seed_demo && python manage.py bootstrap_models --backend linear
"""
from django.core.management.base import BaseCommand, CommandError

from apps.jobs import services as job_services
from apps.jobs.models import Job
from apps.registry import training
from apps.registry.models import ModelVersion, Task


class Command(BaseCommand):
    help = "Train, register and promote the first models from labelled conversations, then queue a scoring job."

    def add_arguments(self, parser):
        parser.add_argument("--backend", default="linear", help="ml backend for intent/sentiment (default linear)")
        parser.add_argument("--tasks", nargs="+", choices=Task.values, default=list(Task.values))
        parser.add_argument("--no-score", action="store_true", help="do not queue the scoring job")
        parser.add_argument("--if-better", action="store_true",
                            help="promote only candidates that beat production (default: always promote)")

    def handle(self, *args, **options):
        job, _ = job_services.job_create(
            kind="retrain", enqueue=False,
            params={"tasks": options["tasks"], "backend": options["backend"], "reason": "bootstrap_models",
                    "promote": "if_better" if options["if_better"] else "always"},
        )
        try:
            results = training.retrain_run(job_id=job.pk)  # in-process: no worker needed for the first models
        except Exception as exc:
            job_services.job_finish(job_id=job.pk, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise CommandError(f"training failed: {exc}", returncode=1) from exc
        for task, outcome in results.items():
            line = f"{task}: {outcome['decision']}"
            if outcome.get("version"):
                line += f" v{outcome['version']} {outcome.get('candidate') or ''}"
            if outcome.get("reason"):
                line += f" ({outcome['reason']})"
            self.stdout.write(line)
        if not any(o["decision"] == "promoted" for o in results.values()):
            if not ModelVersion.objects.filter(status=ModelVersion.Status.PRODUCTION).exists():
                raise CommandError("no model could be trained: seed or import labelled conversations first "
                                   "(python manage.py seed_demo)", returncode=1)
        if options["no_score"]:
            self.stdout.write(self.style.SUCCESS(f"models ready (job {job.pk})"))
            return
        score, _ = job_services.job_submit(kind="score", params={"all": True})
        self.stdout.write(self.style.SUCCESS(
            f"models ready (job {job.pk}); scoring job {score.pk} queued - a worker will pick it up"))
