from django.urls import path

from .api import ModelVersionListApi, ProductionAtApi

urlpatterns = [
    path("models/", ModelVersionListApi.as_view(), name="model-list"),
    path("models/production", ProductionAtApi.as_view(), name="model-production-at"),
]
