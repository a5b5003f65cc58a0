from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination


class _StrictPageSize:
    """``page_size`` must be an integer from 1 to ``max_page_size`` (400 naming it otherwise)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if not 1 <= value <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [
                _("Must be an integer from 1 to %(max)d.") % {"max": self.max_page_size}]})
        return value

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters


class DefaultPagination(_StrictPageSize, PageNumberPagination):
    pass


class CreatedCursorPagination(_StrictPageSize, CursorPagination):
    """For long time-ordered lists: stable under inserts, O(1) per page."""

    ordering = "-id"
