"""Submit a scoring job from the command line, optionally waiting with a progress bar."""
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime
from tqdm import tqdm

from apps.core.exceptions import ApplicationError
from apps.jobs.models import Job
from apps.jobs.services import job_submit


class Command(BaseCommand):
    help = "Queue a scoring job (all, since a date, an agent, or conversation ids) and optionally wait for it."

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--all", action="store_true", help="every conversation")
        what.add_argument("--since", help="conversations started on/after DATE or DATETIME (ISO)")
        what.add_argument("--unscored", action="store_true", help="what the production versions have not scored")
        what.add_argument("--agent", help="agent external id")
        what.add_argument("--conversations", nargs="+", metavar="EXTERNAL_ID")
        parser.add_argument("--wait", action="store_true", help="wait for the job, showing progress")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait at most (with --wait)")
        parser.add_argument("--idempotency-key")

    def handle(self, *args, **options):
        params: dict = {}
        if options["all"]:
            params["all"] = True
        elif options["since"]:
            value = parse_datetime(options["since"]) or parse_date(options["since"])
            if value is None:
                raise CommandError(f"--since: not an ISO date: {options['since']}", returncode=2)
            params["since"] = value.isoformat()
        elif options["unscored"]:
            params["unscored"] = True
        elif options["agent"]:
            params["agent"] = options["agent"]
        else:
            params["conversations"] = options["conversations"]
        try:
            job, created = job_submit(kind="score", params=params, idempotency_key=options.get("idempotency_key"))
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=1) from exc
        self.stdout.write(f"job {job.pk} {'queued' if created else 'exists'} ({job.status})")
        if options["wait"]:
            job = self._wait(job.pk, options["timeout"], options["verbosity"])
            summary = f"job {job.pk} {job.status}: {job.done} done, {job.failed} failed of {job.total}"
            if job.status != Job.Status.SUCCEEDED:
                raise CommandError(summary + (f" - {job.error}" if job.error else ""), returncode=1)
            self.stdout.write(self.style.SUCCESS(summary))

    def _wait(self, job_id: int, timeout: float, verbosity: int) -> Job:
        bar = tqdm(total=0, unit="conv", file=sys.stderr, disable=verbosity == 0 or not sys.stderr.isatty())
        deadline = time.monotonic() + timeout
        try:
            while True:
                job = Job.objects.get(pk=job_id)
                if job.total and bar.total != job.total:
                    bar.total = job.total
                    bar.refresh()
                bar.update(job.done + job.failed - bar.n)
                if job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED):
                    return job
                if time.monotonic() > deadline:
                    raise CommandError(f"job {job_id} still {job.status} after {timeout:.0f}s", returncode=1)
                time.sleep(0.5)
        finally:
            bar.close()
