"""``manage.py create_api_key NAME [--scopes read,write,predict,admin]``: print a new key once."""
from django.core.management.base import BaseCommand, CommandError

from apps.core.exceptions import ApplicationError
from apps.core.models import Scope
from apps.core.services import api_key_create


class Command(BaseCommand):
    help = "Create a hashed API key for a CRM integration and print the plain key (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who uses the key, e.g. 'crm-production'.")
        parser.add_argument(
            "--scopes",
            default="read,write,predict",
            help=f"Comma-separated scopes out of {','.join(Scope.values)} (default: read,write,predict).",
        )

    def handle(self, *args, name: str, scopes: str, **options):
        wanted = [s.strip() for s in scopes.split(",") if s.strip()]
        if not name.strip():
            raise CommandError("NAME must not be empty.", returncode=2)
        if not wanted:
            raise CommandError("--scopes must name at least one scope.", returncode=2)
        try:
            api_key, key = api_key_create(name=name.strip(), scopes=wanted)
        except ApplicationError as exc:
            raise CommandError(f"{exc.message} (known: {', '.join(Scope.values)})", returncode=2) from exc
        # The key alone on stdout (scripts capture it); the summary on stderr.
        self.stdout.write(key)
        self.stderr.write(
            self.style.SUCCESS(
                f"Created API key {api_key.prefix} '{api_key.name}' with scopes {','.join(wanted)}. "
                "Store the key now: it is not shown again."
            )
        )
