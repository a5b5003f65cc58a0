import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from apps.core.models import APIKey, Scope
from apps.core.services import api_key_create


class Command(BaseCommand):
    help = (
        "Create the demo admin user and a demo API key (development only) and write them, with Flower's "
        "basic-auth pair, to var/demo-credentials.env. Existing credentials are kept and printed again."
    )

    def handle(self, *args, **options):
        path = settings.VAR_DIR / "demo-credentials.env"
        values = {}
        if path.exists():
            values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        User = get_user_model()
        if "DEMO_ADMIN_PASSWORD" not in values or not User.objects.filter(username="admin").exists():
            values["DEMO_ADMIN_USER"] = "admin"
            values["DEMO_ADMIN_PASSWORD"] = secrets.token_urlsafe(12)
            user, _ = User.objects.get_or_create(username="admin", defaults={"email": "admin@example.com"})
            user.is_staff = user.is_superuser = True
            user.set_password(values["DEMO_ADMIN_PASSWORD"])
            user.save()
        prefix = values.get("DEMO_API_KEY", "").split(".")[0]
        if not prefix or not APIKey.objects.filter(prefix=prefix, revoked=False).exists():
            _, values["DEMO_API_KEY"] = api_key_create(name="demo", scopes=list(Scope.values))
        values.setdefault("FLOWER_BASIC_AUTH", f"flower:{secrets.token_urlsafe(12)}")
        path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        path.chmod(0o600)
        self.stdout.write(self.style.WARNING("Development credentials (also in var/demo-credentials.env):"))
        self.stdout.write(f"  admin user:   {values['DEMO_ADMIN_USER']} / {values['DEMO_ADMIN_PASSWORD']}")
        self.stdout.write(f"  API key:      {values['DEMO_API_KEY']}")
        self.stdout.write(f"  Flower login: {values['FLOWER_BASIC_AUTH']}")
        if values.get("DEMO_USERS"):  # written by seed_demo --users: "login:role,..." sharing one password
            logins = ", ".join(f"{login} ({role})" for login, _, role in
                               (item.partition(":") for item in values["DEMO_USERS"].split(",")))
            self.stdout.write(f"  console users: {logins} / password {values['DEMO_USERS_PASSWORD']}")
