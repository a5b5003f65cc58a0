import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.conversations.imports import REQUIRED, ImportFileError, conversations_import, read_table


class Command(BaseCommand):
    help = (
        "Import conversations from CSV, JSON, JSONL or XLSX: one row per message, grouped by conversation_id. "
        f"Required columns: {', '.join(REQUIRED)}. All or nothing: a file with bad rows writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Validate and count, then roll back.")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, file, dry_run, batch_size, verbosity, **options):
        try:
            n_conversations = read_table(file)[0]["conversation_id"].nunique()
        except ImportFileError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        show = verbosity > 0 and sys.stderr.isatty()
        with tqdm(total=n_conversations, unit="conv", disable=not show, file=sys.stderr) as bar:
            report = conversations_import(path=file, dry_run=dry_run, batch_size=batch_size, progress=bar.update)
        if not report.ok:
            for error in report.errors:
                self.stderr.write(f"row {error['row']}: {error['field']}: {error['message']}")
            rows = sorted({e["row"] for e in report.errors})
            raise CommandError(
                f"{len(rows)} bad row(s) of {report.n_rows} (rows {', '.join(map(str, rows[:50]))}"
                f"{' …' if len(rows) > 50 else ''}); nothing was written.",
                returncode=1,
            )
        c = report.conversations
        prefix = "Dry run (rolled back): " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(
            f"{prefix}{report.n_rows} rows, {report.n_conversations} conversations: "
            f"{c.created} created, {c.updated} updated, {c.unchanged} unchanged."
        ))
