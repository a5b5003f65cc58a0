import pytest


@pytest.fixture
def known(db):
    from tests.dashboard.data import make_known_data

    return make_known_data()


def _grant(user, *names: str):
    from django.contrib.auth.models import Permission

    for name in names:
        app_label, codename = name.split(".", 1)
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


@pytest.fixture
def staff_user(db, django_user_model):
    """A staff user holding only the console permission: sees every page, runs no action."""
    from apps.dashboard.access import CONSOLE_PERMISSION

    user = django_user_model.objects.create_user(username="manager", password="pw-123456!", is_staff=True)
    _grant(user, CONSOLE_PERMISSION)
    return user


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


CONSOLE_ACTION_PERMISSIONS = [
    ("registry", "change_modelversion"), ("registry", "add_modelversion"), ("jobs", "add_job"),
]


@pytest.fixture
def manager_user(db, django_user_model):
    """A staff user holding the permissions of the console's actions (promote, roll back, start jobs)."""
    from django.contrib.auth.models import Permission

    from apps.dashboard.access import CONSOLE_PERMISSION

    user = django_user_model.objects.create_user(username="boss", password="pw-123456!", is_staff=True)
    for app_label, codename in CONSOLE_ACTION_PERMISSIONS:
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    _grant(user, CONSOLE_PERMISSION)
    return user


@pytest.fixture
def manager_client(client, manager_user):
    client.force_login(manager_user)
    return client
