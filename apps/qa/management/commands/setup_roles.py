from django.core.management.base import BaseCommand

from apps.core.roles import roles_setup


class Command(BaseCommand):
    help = "Create the console role groups (manager, team_lead, reviewer, agent) with their permissions."

    def handle(self, *args, **options):
        for role, n in roles_setup().items():
            self.stdout.write(f"{role}: {n} permissions")
