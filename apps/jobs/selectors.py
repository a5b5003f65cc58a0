from django.db.models import QuerySet

from .models import Job


def job_list(*, kind: str | None = None, status: str | None = None) -> QuerySet[Job]:
    qs = Job.objects.select_related("created_by").defer("steps")
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs


def job_get(*, job_id: int) -> Job:
    return Job.objects.select_related("created_by").get(pk=job_id)
