"""Who may open the manager's console pages, and what a team lead sees on them.

The console's pages (overview, conversations, agents, teams, review queue, models, jobs,
alerts) need the ``CONSOLE_PERMISSION`` Django permission, which the manager, team lead and
reviewer groups of ``apps.core.roles`` hold and the agent group does not (a superuser holds
every permission). A signed-in user without it answers 403, except that a user who may read
QA results (an agent user) is sent from the overview to their own QA results instead.
Anonymous visitors go to the sign-in page.

What a team lead sees is narrowed with the roles module's scoping helpers: conversations and
agents of their teams only.
"""
from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from apps.core.roles import Role, scope_queryset, user_can_see_agent, user_role, user_teams

CONSOLE_PERMISSION = "conversations.view_conversation"
OWN_RESULTS_PERMISSION = "qa.view_qaresult"
OWN_RESULTS_URL = "qa:results"


def console_required(view=None, *, agent_redirect: bool = False):
    """Let through users holding ``CONSOLE_PERMISSION``; sign-in page for anonymous users, 403 otherwise.

    With ``agent_redirect`` a user without it who may read QA results is redirected to their own
    QA results page instead of answering 403.
    """

    def decorator(view_func):
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated or not user.is_active:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if user.has_perm(CONSOLE_PERMISSION):
                return view_func(request, *args, **kwargs)
            if agent_redirect and user.has_perm(OWN_RESULTS_PERMISSION):
                return redirect(OWN_RESULTS_URL)
            raise PermissionDenied

        return wrapper

    return decorator(view) if view is not None else decorator


# Roles whose console pages are narrowed; every other holder of the permission sees everything.
_SCOPED_ROLES = (Role.TEAM_LEAD, Role.AGENT)


def led_teams(user) -> set[str] | None:
    """The teams a team lead's pages are limited to; None for users who see every team."""
    return user_teams(user) if user_role(user) == Role.TEAM_LEAD else None


def conversations_scoped(user, queryset):
    """``queryset`` (of conversations) limited to what ``user`` may see."""
    if user_role(user) in _SCOPED_ROLES:
        return scope_queryset(user, queryset, agent_path="agent")
    return queryset


def agent_visible_or_403(user, agent) -> None:
    """Raise PermissionDenied unless ``user`` may see the work of ``agent``."""
    if user_role(user) in _SCOPED_ROLES and not user_can_see_agent(user, agent):
        raise PermissionDenied


def team_visible_or_403(user, team: str) -> None:
    """Raise PermissionDenied when ``user`` is a team lead and ``team`` is not one of theirs."""
    teams = led_teams(user)
    if teams is not None and team not in teams:
        raise PermissionDenied
