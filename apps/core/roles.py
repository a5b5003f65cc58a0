"""Console roles as Django groups, and the object-level limits that go with them: the one place
that decides what a person may do.

Four groups: ``manager`` (everything), ``team_lead`` (their teams only, as listed by
``agents.TeamLead`` rows), ``reviewer`` (grades any conversation it is assigned, reads all)
and ``agent`` (only the results of the ``agents.Agent`` linked to the user through
``Agent.user``). ``ROLE_PERMISSIONS`` gives each group its Django permissions, which the console's
actions and the API's scopes check; ``user_role`` names the role that the QA console and API and
the scoping helpers check. A superuser counts as a manager and holds every permission. Anyone
else in none of the groups, staff or not, has no role and no permission: the staff flag only
lets a user sign in to the Django admin, where model permissions decide again. An API key with
the ``admin`` scope counts as a manager; another key is an ``integration``: it reads everything
and grades nothing.

The scoping helpers filter any queryset by a lookup path to the agent (``"agent"`` on a
conversation, ``"conversation__agent"`` on a QA result), so this module imports no other app.
"""
from __future__ import annotations

from django.apps import apps as django_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q, QuerySet


class Role:
    MANAGER = "manager"
    TEAM_LEAD = "team_lead"
    REVIEWER = "reviewer"
    AGENT = "agent"
    # Not a group: an API key without the ``admin`` scope (reads everything, grades nothing).
    INTEGRATION = "integration"


# Highest first: a user in several groups gets the widest role.
ROLE_ORDER = [Role.MANAGER, Role.TEAM_LEAD, Role.REVIEWER, Role.AGENT]

_QA_READ = [
    "qa.view_scorecard", "qa.view_scorecardversion", "qa.view_section", "qa.view_criterion",
    "qa.view_qaresult", "qa.view_criterionanswer", "qa.view_dispute",
]
_REVIEW = [
    "qa.view_assignment", "qa.change_assignment", "qa.change_criterionanswer",
    "qa.view_calibrationsession", "qa.view_calibrationgrade", "qa.add_calibrationgrade",
]
_RESOLVE = ["qa.change_dispute"]

# Model permissions of each group (``app_label.codename``). A permission whose model is not
# installed is skipped by ``roles_setup``.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.MANAGER: _QA_READ + _REVIEW + _RESOLVE + [
        "qa.add_scorecard", "qa.change_scorecard", "qa.add_scorecardversion", "qa.change_scorecardversion",
        "qa.add_section", "qa.change_section", "qa.delete_section",
        "qa.add_criterion", "qa.change_criterion", "qa.delete_criterion",
        "qa.view_samplingrule", "qa.add_samplingrule", "qa.change_samplingrule", "qa.delete_samplingrule",
        "qa.add_assignment", "qa.add_calibrationsession", "qa.change_calibrationsession",
        "agents.view_agent", "agents.view_teamlead", "agents.add_teamlead", "agents.change_teamlead",
        "agents.delete_teamlead", "conversations.view_conversation",
        "core.api_read", "core.api_write", "core.api_predict",
        # The console's actions: promote and roll back, start jobs, start retraining, acknowledge alerts.
        "registry.change_modelversion", "registry.add_modelversion", "jobs.add_job", "alerts.change_alert",
    ],
    Role.TEAM_LEAD: _QA_READ + _REVIEW + _RESOLVE + [
        "qa.view_samplingrule", "qa.add_calibrationsession", "agents.view_agent",
        "conversations.view_conversation", "core.api_read",
    ],
    Role.REVIEWER: _QA_READ + _REVIEW + ["agents.view_agent", "conversations.view_conversation", "core.api_read"],
    Role.AGENT: ["qa.view_qaresult", "qa.view_criterionanswer", "qa.view_dispute", "qa.add_dispute"],
}


def roles_setup() -> dict[str, int]:
    """Create the four groups and give each exactly its permissions; safe to run again."""
    counts: dict[str, int] = {}
    # Permissions are created per app after its migrations; an app migrated later than the one
    # whose ``post_migrate`` runs this would otherwise not have its permissions yet.
    labels = {name.split(".", 1)[0] for names in ROLE_PERMISSIONS.values() for name in names}
    for app_config in django_apps.get_app_configs():
        if app_config.label in labels:
            create_permissions(app_config, verbosity=0)
    with transaction.atomic():
        for role, names in ROLE_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=role)
            q = Q(pk__in=[])
            for name in names:
                app_label, codename = name.split(".", 1)
                q |= Q(content_type__app_label=app_label, codename=codename)
            perms = list(Permission.objects.filter(q))
            group.permissions.set(perms)
            counts[role] = len(perms)
    return counts


def user_role(user) -> str | None:
    """The widest role of ``user``, or None when it has no console role."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    api_key = getattr(user, "api_key", None)
    if api_key is not None:  # an integration: its key's scopes decide
        return Role.MANAGER if api_key.has_scope("admin") else Role.INTEGRATION
    if not getattr(user, "is_active", True):
        return None
    if getattr(user, "is_superuser", False):
        return Role.MANAGER
    names = set(user.groups.values_list("name", flat=True)) if hasattr(user, "groups") else set()
    for role in ROLE_ORDER:
        if role in names:
            return role
    return None


def user_teams(user) -> set[str]:
    """The teams a team lead leads (empty for other users)."""
    if not hasattr(user, "led_teams"):
        return set()
    return set(user.led_teams.values_list("team", flat=True))


def user_agent_id(user) -> int | None:
    """The id of the ``Agent`` linked to ``user``, if any."""
    try:
        agent = user.agent
    except Exception:  # RelatedObjectDoesNotExist of a user without a linked agent
        return None
    return agent.pk if agent is not None else None


def scope_queryset(user, queryset: QuerySet, *, agent_path: str) -> QuerySet:
    """Limit ``queryset`` to what ``user`` may see; ``agent_path`` leads from its model to ``Agent``.

    Managers and reviewers see everything, team leads the rows of their teams' agents, an
    agent user the rows of its own linked agent, anyone else nothing.
    """
    role = user_role(user)
    if role in (Role.MANAGER, Role.REVIEWER, Role.INTEGRATION):
        return queryset
    if role == Role.TEAM_LEAD:
        prefix = f"{agent_path}__" if agent_path else ""
        return queryset.filter(**{f"{prefix}team__in": sorted(user_teams(user))})
    if role == Role.AGENT:
        agent_id = user_agent_id(user)
        if agent_id is None:
            return queryset.none()
        return queryset.filter(**{f"{agent_path}__pk" if agent_path else "pk": agent_id})
    return queryset.none()


def user_can_see_agent(user, agent) -> bool:
    """Whether ``user`` may see the work of ``agent`` (an ``Agent`` or None)."""
    role = user_role(user)
    if role in (Role.MANAGER, Role.REVIEWER, Role.INTEGRATION):
        return True
    if agent is None:
        return False
    if role == Role.TEAM_LEAD:
        return agent.team in user_teams(user)
    if role == Role.AGENT:
        return user_agent_id(user) == agent.pk
    return False


def user_can_resolve_for_agent(user, agent) -> bool:
    """Whether ``user`` may resolve disputes and override answers on ``agent``'s work."""
    role = user_role(user)
    if role == Role.MANAGER:
        return True
    if role == Role.TEAM_LEAD:
        return agent is not None and agent.team in user_teams(user)
    return role == Role.REVIEWER
