"""ModelAdmin parts shared by the apps' admin modules."""
import re

from django.contrib.admin.options import IncorrectLookupParameters

from .dates import QUERY_DATE_MAX, QUERY_DATE_MIN, date_range_pattern


class DateHierarchyWindowMixin:
    """Date-hierarchy and date lookups in a changelist URL stay inside the query window.

    Django builds the hierarchy's range from ``?<field>__year=`` with no bound, so year 1 or 9999
    overflows when converted to UTC or to the next year (a 500). Out-of-window values here are
    wacky lookup parameters, which Django answers with the plain changelist and its ``?e=1``
    notice.
    """

    def get_changelist_instance(self, request):
        if self.date_hierarchy:
            self._check_date_params(request.GET, self.date_hierarchy)
        return super().get_changelist_instance(request)

    @staticmethod
    def _check_date_params(params, field: str) -> None:
        written_date = re.compile(date_range_pattern(QUERY_DATE_MIN, QUERY_DATE_MAX))
        for key, value in params.items():
            if not key.startswith(f"{field}__"):
                continue
            lookup = key.removeprefix(f"{field}__")
            if lookup in ("month", "day", "isnull"):
                continue  # Django refuses an impossible month or day itself
            if lookup == "year":
                if not (value.isdigit() and QUERY_DATE_MIN.year <= int(value) <= QUERY_DATE_MAX.year):
                    raise IncorrectLookupParameters(f"{key} must be a year from {QUERY_DATE_MIN.year} to "
                                                    f"{QUERY_DATE_MAX.year}.")
            elif not written_date.match(value):
                raise IncorrectLookupParameters(f"{key} must be a date from {QUERY_DATE_MIN} to {QUERY_DATE_MAX}.")
