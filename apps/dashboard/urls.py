from django.urls import path

from . import views, views_ops, views_teams

app_name = "dashboard"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("conversations/", views.conversation_list, name="conversations"),
    path("conversations/export.<str:fmt>", views.conversation_export, name="conversation_export"),
    path("conversations/<int:pk>/", views.conversation_detail, name="conversation"),
    path("conversations/<int:pk>/review/", views.conversation_pick, name="conversation_pick"),
    path("agents/<int:pk>/", views.agent_report, name="agent"),
    path("agents/<int:pk>/export.<str:fmt>", views.agent_export, name="agent_export"),
    path("teams/", views_teams.team_list, name="teams"),
    path("teams/<str:team>/", views_teams.team_detail, name="team"),
    path("review/", views.review_queue, name="review"),
    path("review/start/", views.review_start, name="review_start"),
    path("review/agreement/", views.review_agreement, name="agreement"),
    path("review/<int:pk>/", views.review_item, name="review_item"),
    path("models/", views_ops.model_list, name="models"),
    path("models/<int:pk>/confusion.png", views_ops.model_confusion, name="model_confusion"),
    path("models/<int:pk>/promote/", views_ops.model_promote, name="model_promote"),
    path("models/<str:task>/rollback/", views_ops.model_rollback, name="model_rollback"),
    path("jobs/", views_ops.job_list, name="jobs"),
    path("jobs/status.json", views_ops.job_status, name="job_status"),
    path("jobs/<int:pk>/", views_ops.job_detail, name="job"),
]
