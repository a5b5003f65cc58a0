from django.db.models import QuerySet

from .models import ModelVersion
from .services import production_at  # noqa: F401  (the history selector lives beside the writes it reads)


def model_version_list(*, task: str | None = None, status: str | None = None) -> QuerySet[ModelVersion]:
    qs = ModelVersion.objects.select_related("promoted_by")
    if task:
        qs = qs.filter(task=task)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def production_versions_at(*, at) -> dict[str, ModelVersion | None]:
    from .models import Task

    return {task: production_at(task=task, at=at) for task in Task.values}
