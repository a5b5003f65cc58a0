from django.db.models import QuerySet

from .models import Job


def job_list() -> QuerySet[Job]:
    """Jobs for the API list (its filterset narrows them by kind and status)."""
    return Job.objects.select_related("created_by").defer("steps")


def job_get(*, job_id: int) -> Job:
    return Job.objects.select_related("created_by").get(pk=job_id)
