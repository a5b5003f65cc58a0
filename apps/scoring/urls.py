from django.urls import path

from .api import PredictApi, PredictBatchApi

urlpatterns = [
    path("predict", PredictApi.as_view(), name="predict"),
    path("predict/batch", PredictBatchApi.as_view(), name="predict-batch"),
]
