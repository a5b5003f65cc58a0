from django.urls import path

from . import api

urlpatterns = [
    path("qa/scorecards/", api.ScorecardListApi.as_view(), name="qa-scorecard-list"),
    path("qa/scorecards/<int:scorecard_id>/draft", api.ScorecardDraftApi.as_view(), name="qa-scorecard-draft"),
    path("qa/versions/<int:version_id>/", api.ScorecardVersionApi.as_view(), name="qa-version-detail"),
    path("qa/versions/<int:version_id>/publish", api.ScorecardPublishApi.as_view(), name="qa-version-publish"),
    path("qa/results/", api.ResultListApi.as_view(), name="qa-result-list"),
    path("qa/results/<int:result_id>/", api.ResultDetailApi.as_view(), name="qa-result-detail"),
    path("qa/disputes/", api.DisputeListApi.as_view(), name="qa-dispute-list"),
    path("qa/disputes/<int:dispute_id>/resolve", api.DisputeResolveApi.as_view(), name="qa-dispute-resolve"),
    path("qa/score", api.QaScoreJobApi.as_view(), name="qa-score"),
    path("qa/rules/try", api.RuleTryApi.as_view(), name="qa-rule-try"),
    path("qa/calibrations/<int:session_id>/report", api.CalibrationReportApi.as_view(), name="qa-calibration-report"),
]
