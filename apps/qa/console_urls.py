from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "qa"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="qa/login.html"), name="login"),
    path("results/", views.result_list, name="results"),
    path("results/<int:result_id>/", views.result_detail, name="result"),
    path("disputes/", views.dispute_list, name="disputes"),
    path("assignments/", views.assignment_list, name="assignments"),
    path("try/", views.rule_try_page, name="try"),
    path("calibration/<int:session_id>/", views.calibration_detail, name="calibration"),
]
