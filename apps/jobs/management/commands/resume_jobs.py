"""Recover jobs a worker, broker or database fault left behind, from the command line."""
from django.core.exceptions import ObjectDoesNotExist
from django.core.management.base import BaseCommand, CommandError

from apps.core.exceptions import ApplicationError
from apps.jobs.services import job_resume, jobs_watchdog


class Command(BaseCommand):
    help = ("Resume the given jobs now (re-send what is pending, re-run what failed), or with no id run the "
            "watchdog once (finish complete jobs, re-send stalled chunks and unsent jobs).")

    def add_arguments(self, parser):
        parser.add_argument("job_ids", nargs="*", type=int, metavar="JOB_ID")

    def handle(self, *args, job_ids, **options):
        if not job_ids:
            actions = jobs_watchdog()
            for job_id, action in actions.items():
                self.stdout.write(f"job {job_id}: {action}")
            self.stdout.write(f"{len(actions)} job(s) recovered")
            return
        errors = 0
        for job_id in job_ids:
            try:
                job = job_resume(job_id=job_id)
            except ObjectDoesNotExist:
                self.stderr.write(f"job {job_id}: does not exist")
                errors += 1
                continue
            except ApplicationError as exc:
                self.stderr.write(f"job {job_id}: {exc.message}")
                errors += 1
                continue
            self.stdout.write(f"job {job.pk}: {job.status}, {job.done + job.failed}/{job.total}")
        if errors:
            raise CommandError(f"{errors} job(s) could not be resumed", returncode=1)
