from django.urls import path

from .api import JobCancelApi, JobDetailApi, JobListApi, JobResumeApi, JobRetrainApi, JobScoreApi

urlpatterns = [
    path("jobs/", JobListApi.as_view(), name="job-list"),
    path("jobs/score", JobScoreApi.as_view(), name="job-score"),
    path("jobs/retrain", JobRetrainApi.as_view(), name="job-retrain"),
    path("jobs/<int:job_id>/", JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<int:job_id>/cancel", JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<int:job_id>/resume", JobResumeApi.as_view(), name="job-resume"),
]
