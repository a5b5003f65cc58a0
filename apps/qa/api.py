"""QA API: scorecards (versions, publishing), results with answers and evidence, disputes, trying a rule.

Scorecard writes need the ``admin`` scope (an API key) or the manager role (a signed-in user).
Results and disputes are scoped by role: an agent user sees only its own, a team lead its teams'.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.auth import APIKeyUser
from apps.core.exceptions import Conflict, NotFound
from apps.core.filters import FilterSet, IdentifierFilter
from apps.core.pagination import DefaultPagination
from apps.core.permissions import HasScope
from apps.core.roles import Role, user_role
from apps.jobs.serializers import JobOutputSerializer

from . import selectors, services
from .calibration import calibration_report
from .jobs import qa_score_submit, rule_try
from .models import CalibrationSession, CriterionAnswer, Dispute, QaResult, Scorecard, ScorecardVersion
from .serializers import (
    MAX_ID,
    DisputeInSerializer,
    DisputeOutSerializer,
    DisputeResolveInSerializer,
    PublishInSerializer,
    QaScoreJobInSerializer,
    ResultOutSerializer,
    RuleTryInSerializer,
    ScorecardInSerializer,
    ScorecardOutSerializer,
    VersionOutSerializer,
    VersionUpdateInSerializer,
)


class ScopeOrConsoleRole(permissions.BasePermission):
    """API keys need the view's scope; a signed-in user needs a console role (``manager_only``: manager)."""

    message = "You lack the role or scope this endpoint needs."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if isinstance(user, APIKeyUser):
            return HasScope().has_permission(request, view)
        role = user_role(user)
        if getattr(view, "manager_only", False) and request.method not in permissions.SAFE_METHODS:
            return role == Role.MANAGER
        return role is not None


def _actor(request):
    return request.user




def _id(value: int, what: str) -> int:
    """A URL id the database can hold (404 otherwise, like an id that does not exist)."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"{what} {value} does not exist.")
    return value


class QaApi(APIView):
    permission_classes = [ScopeOrConsoleRole]


class ScorecardAdminApi(QaApi):
    """Reads need ``read``; writes need the ``admin`` scope (or the manager role)."""

    manager_only = True

    @property
    def required_scope(self) -> str:
        return "read" if self.request.method in permissions.SAFE_METHODS else "admin"


class ScorecardListApi(ScorecardAdminApi):

    @extend_schema(responses={200: ScorecardOutSerializer(many=True)}, summary="Scorecards and their versions")
    def get(self, request):
        return Response(ScorecardOutSerializer(Scorecard.objects.order_by("name"), many=True).data)

    @extend_schema(request=ScorecardInSerializer, responses={201: ScorecardOutSerializer},
                   summary="Create a scorecard (its first version is a draft)")
    def post(self, request):
        data = ScorecardInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if Scorecard.objects.filter(name=data.validated_data["name"]).exists():
            raise Conflict(_("A scorecard with this name exists."), {"name": _("Names must be unique.")})
        # Validated again, field by field, by the service (rules included).
        scorecard = services.scorecard_create(**{**data.validated_data, "sections": request.data.get("sections")},
                                              created_by=_actor(request))
        return Response(ScorecardOutSerializer(scorecard).data, status=status.HTTP_201_CREATED)


def _version(version_id: int) -> ScorecardVersion:
    version = ScorecardVersion.objects.select_related("scorecard").filter(pk=_id(version_id, "Scorecard version")).first()
    if version is None:
        raise NotFound(f"Scorecard version {version_id} does not exist.")
    return version


class ScorecardDraftApi(ScorecardAdminApi):
    @extend_schema(request=None, responses={201: VersionOutSerializer},
                   summary="The scorecard's draft version (a copy of its newest version when none exists)")
    def post(self, request, scorecard_id: int):
        scorecard = Scorecard.objects.filter(pk=_id(scorecard_id, "Scorecard")).first()
        if scorecard is None:
            raise NotFound(f"Scorecard {scorecard_id} does not exist.")
        version = services.scorecard_draft_create(scorecard=scorecard, actor=_actor(request))
        return Response(VersionOutSerializer(version).data, status=status.HTTP_201_CREATED)


class ScorecardVersionApi(ScorecardAdminApi):
    @extend_schema(responses={200: VersionOutSerializer}, summary="A scorecard version with its sections and criteria")
    def get(self, request, version_id: int):
        return Response(VersionOutSerializer(_version(version_id)).data)

    @extend_schema(request=VersionUpdateInSerializer, responses={200: VersionOutSerializer, 409: None},
                   summary="Replace a draft version's content (a published version is immutable: 409)")
    def patch(self, request, version_id: int):
        data = VersionUpdateInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.scorecard_version_update(
            version=_version(version_id), sections=request.data.get("sections"),
            pass_threshold=data.validated_data.get("pass_threshold"), actor=_actor(request),
        )
        return Response(VersionOutSerializer(version).data)


class ScorecardPublishApi(ScorecardAdminApi):
    @extend_schema(request=PublishInSerializer, responses={200: VersionOutSerializer},
                   summary="Publish a draft version (and activate its scorecard; optionally re-score)")
    def post(self, request, version_id: int):
        data = PublishInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.scorecard_version_publish(
            version=_version(version_id), actor=_actor(request), activate=data.validated_data["activate"],
            rescore_since=data.validated_data["rescore_since"],
        )
        return Response(VersionOutSerializer(version).data)


class ResultFilter(FilterSet):
    conversation = IdentifierFilter(field_name="conversation__external_id",
                                    help_text="The conversation's external id.")

    class Meta:
        model = QaResult
        fields = ["auto_failed"]


class ResultListApi(QaApi, generics.ListAPIView):
    required_scope = "read"
    serializer_class = ResultOutSerializer
    pagination_class = DefaultPagination
    filterset_class = ResultFilter

    def get_queryset(self):
        return selectors.results_for_user(user=self.request.user).order_by("-computed_at", "-id")

    @extend_schema(summary="QA results with answers and evidence")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ResultDetailApi(QaApi):
    required_scope = "read"

    @extend_schema(responses={200: ResultOutSerializer}, summary="One QA result with its answers and evidence")
    def get(self, request, result_id: int):
        result = services.result_get_for(user=request.user, result_id=_id(result_id, "QA result"))
        return Response(ResultOutSerializer(result).data)


class DisputeFilter(FilterSet):
    class Meta:
        model = Dispute
        fields = ["status"]


class DisputeListApi(QaApi, generics.ListAPIView):
    pagination_class = DefaultPagination
    filterset_class = DisputeFilter

    @property
    def required_scope(self) -> str:
        return "read" if self.request.method in permissions.SAFE_METHODS else "write"

    @extend_schema(summary="Disputes you may see")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.disputes_for_user(user=self.request.user).order_by("-created_at", "-id")

    def get_serializer_class(self):
        return DisputeOutSerializer if self.request is None or self.request.method == "GET" else DisputeInSerializer

    @extend_schema(request=DisputeInSerializer, responses={201: DisputeOutSerializer},
                   summary="Dispute one criterion answer of your own result (agent users)")
    def post(self, request):
        data = DisputeInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answer_id = data.validated_data["answer"]
        answer = CriterionAnswer.objects.filter(pk=answer_id).first() if 1 <= answer_id <= MAX_ID else None
        if answer is None:
            raise NotFound("No such criterion answer.", {"answer": "Unknown id."})
        dispute = services.dispute_open(answer=answer, actor=request.user, comment=data.validated_data["comment"],
                                        proposed_answer=data.validated_data["proposed_answer"])
        return Response(DisputeOutSerializer(dispute).data, status=status.HTTP_201_CREATED)


class DisputeResolveApi(QaApi):
    required_scope = "write"

    @extend_schema(request=DisputeResolveInSerializer, responses={200: DisputeOutSerializer},
                   summary="Accept (score recomputed) or reject (with a reason) a dispute")
    def post(self, request, dispute_id: int):
        data = DisputeResolveInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dispute = selectors.disputes_for_user(user=request.user).filter(pk=_id(dispute_id, "Dispute")).first()
        if dispute is None:
            raise NotFound(f"Dispute {dispute_id} does not exist.")
        dispute = services.dispute_resolve(dispute=dispute, actor=request.user, **data.validated_data)
        return Response(DisputeOutSerializer(dispute).data)


class RuleTryApi(QaApi):
    required_scope = "admin"
    manager_only = True

    @extend_schema(
        request=RuleTryInSerializer,
        responses={200: inline_serializer("RuleTryOut", {"result": serializers.DictField(required=False),
                                                         "job": serializers.IntegerField(required=False)})},
        summary="Dry-run a rule on the last N days (large ranges run as a qa_try job)",
    )
    def post(self, request):
        if user_role(request.user) not in (Role.MANAGER, Role.TEAM_LEAD, Role.REVIEWER):
            raise PermissionDenied
        data = RuleTryInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        out = rule_try(params=dict(data.validated_data), created_by=request.user)
        return Response(out, status=status.HTTP_202_ACCEPTED if "job" in out else status.HTTP_200_OK)


class QaScoreJobApi(QaApi):
    required_scope = "write"
    manager_only = True

    @extend_schema(
        request=QaScoreJobInSerializer, responses={201: JobOutputSerializer, 200: JobOutputSerializer},
        summary="Score conversations with a scorecard version on the queue (a qa_score job)",
    )
    def post(self, request):
        data = QaScoreJobInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version_id = data.validated_data.get("version")
        version = ScorecardVersion.objects.filter(pk=version_id).first() if version_id else services.active_version()
        if version_id and version is None:
            raise NotFound(f"Scorecard version {version_id} does not exist.", {"version": version_id})
        if version is None:
            raise Conflict(_("No scorecard is active; publish one or name a version."), {"version": _("Required.")})
        if version.status == ScorecardVersion.Status.DRAFT:
            raise Conflict(_("Publish the version before scoring with it."), {"version": _("This version is a draft.")})
        key = request.headers.get("Idempotency-Key")
        params = {name: request.data[name] for name in data.validated_data if name in request.data}
        job, created = qa_score_submit(params=params, created_by=request.user, idempotency_key=key)
        return Response(JobOutputSerializer(job).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class CalibrationReportApi(QaApi):
    required_scope = "read"

    @extend_schema(responses={200: inline_serializer("CalibrationRow", {
        "criterion": serializers.CharField(), "conversations": serializers.IntegerField(),
        "percent_agreement": serializers.FloatField(allow_null=True), "fleiss_kappa": serializers.FloatField(allow_null=True),
    }, many=True)}, summary="Agreement per criterion in a calibration session")
    def get(self, request, session_id: int):
        if user_role(request.user) not in (Role.MANAGER, Role.TEAM_LEAD, Role.REVIEWER, Role.INTEGRATION):
            raise PermissionDenied
        session = CalibrationSession.objects.filter(pk=_id(session_id, "Calibration session")).first()
        if session is None:
            raise NotFound(f"Calibration session {session_id} does not exist.")
        return Response(calibration_report(session=session))
