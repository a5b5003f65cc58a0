from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.exceptions import NotFound
from apps.core.filters import FilterSet
from apps.core.pagination import CreatedCursorPagination

from . import selectors, services
from .models import Job
from .serializers import JobListOutputSerializer, JobOutputSerializer, RetrainJobInputSerializer, ScoreJobInputSerializer

IDEMPOTENCY_HEADER = OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
                                      description="Same key → the same job is returned (201 first, then 200).")


def _idempotency_key(request, data) -> str | None:
    """The header's key, else the body's; the body's is taken out of the job's parameters either way."""
    body_key = data.pop("idempotency_key", None)
    return request.headers.get("Idempotency-Key") or body_key


def _actor(request):
    return request.user if getattr(request.user, "pk", None) else None


class JobScoreApi(APIView):
    throttle_scope = "bulk"

    @extend_schema(request=ScoreJobInputSerializer, responses={201: JobOutputSerializer, 200: JobOutputSerializer},
                   parameters=[IDEMPOTENCY_HEADER], summary="Submit a batch scoring job")
    def post(self, request):
        data = ScoreJobInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        key = _idempotency_key(request, params)
        params = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in params.items() if v not in (None, False, [], "")}
        job, created = services.job_submit(kind="score", params=params, created_by=_actor(request), idempotency_key=key)
        return Response(JobOutputSerializer(job).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class JobRetrainApi(APIView):
    required_scope = "admin"

    @extend_schema(request=RetrainJobInputSerializer, responses={201: JobOutputSerializer, 200: JobOutputSerializer},
                   parameters=[IDEMPOTENCY_HEADER], summary="Train candidates now (promoted only when better)")
    def post(self, request):
        data = RetrainJobInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = dict(data.validated_data)
        key = _idempotency_key(request, params)
        job, created = services.job_submit(kind="retrain", params=params, created_by=_actor(request), idempotency_key=key)
        return Response(JobOutputSerializer(job).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class JobFilter(FilterSet):
    """``kind`` and ``status`` must be one of their choices (400 with the field's message otherwise)."""

    class Meta:
        model = Job
        fields = ["kind", "status"]


class JobListApi(generics.ListAPIView):
    serializer_class = JobListOutputSerializer
    pagination_class = CreatedCursorPagination
    filterset_class = JobFilter

    def get_queryset(self):
        return selectors.job_list()


class JobDetailApi(APIView):
    @extend_schema(responses={200: JobOutputSerializer}, summary="A job's status, progress, timings and result")
    def get(self, request, job_id: int):
        try:
            job = selectors.job_get(job_id=job_id)
        except ObjectDoesNotExist:
            raise NotFound(f"Job {job_id} does not exist.")
        return Response(JobOutputSerializer(job).data)


class JobCancelApi(APIView):
    @extend_schema(request=None, responses={200: JobOutputSerializer}, summary="Cancel a queued or running job")
    def post(self, request, job_id: int):
        try:
            services.job_cancel(job_id=job_id, user=_actor(request))
        except ObjectDoesNotExist:
            raise NotFound(f"Job {job_id} does not exist.")
        return Response(JobOutputSerializer(selectors.job_get(job_id=job_id)).data)


class JobResumeApi(APIView):
    @extend_schema(request=None, responses={200: JobOutputSerializer},
                   summary="Resume a job: re-send what is pending, re-run what failed (never what succeeded)")
    def post(self, request, job_id: int):
        try:
            services.job_resume(job_id=job_id, user=_actor(request))
        except ObjectDoesNotExist:
            raise NotFound(f"Job {job_id} does not exist.")
        return Response(JobOutputSerializer(selectors.job_get(job_id=job_id)).data)
