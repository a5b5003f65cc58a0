from django.db.models import QuerySet

from .models import ModelVersion
from .services import production_at  # noqa: F401  (the history selector lives beside the writes it reads)


def model_version_list() -> QuerySet[ModelVersion]:
    """Model versions for the API list (its filterset narrows them by task and status)."""
    return ModelVersion.objects.select_related("promoted_by").order_by("-id")


def production_versions_at(*, at) -> dict[str, ModelVersion | None]:
    from .models import Task

    return {task: production_at(task=task, at=at) for task in Task.values}
