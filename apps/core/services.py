from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser

from .models import APIKey, AuditEvent, Scope


def audit_record(
    *, action: str, actor: Any = None, target: Any = None, data: dict | None = None, actor_label: str = ""
) -> AuditEvent:
    """Append one audit event. ``actor`` may be a user, an API-key user or None (system)."""
    user = actor if isinstance(actor, AbstractBaseUser) else None
    if not actor_label:
        actor_label = str(actor) if actor is not None and getattr(actor, "is_authenticated", False) else "system"
    target_type = target._meta.label_lower if hasattr(target, "_meta") else ""
    target_id = str(getattr(target, "pk", "") or "")
    return AuditEvent.objects.create(
        actor=user, actor_label=actor_label[:150], action=action, target_type=target_type,
        target_id=target_id, data=data or {},
    )


def api_key_create(*, name: str, scopes: list[str] | None = None, created_by=None) -> tuple[APIKey, str]:
    """Create a hashed key; the plain key is returned once and never stored."""
    scopes = list(scopes or [Scope.READ, Scope.WRITE, Scope.PREDICT])
    unknown = set(scopes) - set(Scope.values)
    if unknown:
        from .exceptions import ApplicationError

        raise ApplicationError(f"Unknown scopes: {', '.join(sorted(unknown))}", {"scopes": sorted(Scope.values)})
    api_key, key = APIKey.objects.create_key(name=name, scopes=scopes, created_by=created_by)
    audit_record(action="api_key.create", actor=created_by, target=api_key, data={"name": name, "scopes": scopes})
    return api_key, key
