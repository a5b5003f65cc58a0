from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.labels import Channel, Sentiment
from apps.registry.models import Task
from apps.scoring.models import ReviewItem

from .selectors import ConversationFilters, period_range

PERIOD_CHOICES = [
    ("today", _("Today")), ("this_week", _("This week")), ("last_week", _("Last week")),
    ("this_month", _("This month")), ("last_30_days", _("Last 30 days")),
]
GROUP_CHOICES = [("day", _("Daily")), ("week", _("Weekly")), ("month", _("Monthly"))]


class DateInput(forms.DateInput):
    input_type = "date"


class OverviewFilterForm(forms.Form):
    """GET filters shared by the overview, the conversation list and the exports.

    A preset ``period`` (today, this week, ...) replaces the explicit dates; ``group``
    picks the bucket of the trend charts.
    """

    period = forms.ChoiceField(label=_("Period"), required=False, choices=[("", _("Custom range")), *PERIOD_CHOICES])
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput)
    group = forms.ChoiceField(label=_("Group by"), required=False, choices=GROUP_CHOICES)
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)
    intent = forms.CharField(label=_("Intent"), required=False, max_length=64,
                             widget=forms.TextInput(attrs={"list": "intent-options", "autocomplete": "off"}))

    def __init__(self, *args, teams: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("All channels")), *Channel.choices]
        self.fields["team"].choices = [("", _("All teams")), *[(t, t) for t in (teams or [])]]

    def clean(self):
        data = super().clean()
        if data.get("period"):
            data["date_from"], data["date_to"] = period_range(data["period"], today=timezone.localdate())
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data

    def _valid_data(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        return self.cleaned_data

    def to_filters(self, **extra) -> ConversationFilters:
        """The filters of the valid fields (a view answers 400 before using an invalid form)."""
        data = self._valid_data()
        return ConversationFilters(
            date_from=data.get("date_from"), date_to=data.get("date_to"), channel=data.get("channel") or "",
            team=data.get("team") or "", intent=(data.get("intent") or "").strip(),
            group=data.get("group") or "day", **extra,
        )


class ConversationFilterForm(OverviewFilterForm):
    """The overview's filters plus the drill-down keys the charts link with."""

    date = forms.DateField(label=_("Day"), required=False, widget=DateInput)
    sentiment = forms.ChoiceField(label=_("Sentiment"), required=False)
    quality = forms.TypedChoiceField(label=_("Quality"), required=False, coerce=int, empty_value=None,
                                     choices=[("", "—")] + [(str(i), str(i)) for i in range(1, 6)])
    agent = forms.IntegerField(label=_("Agent id"), required=False, min_value=1)
    review = forms.ChoiceField(label=_("Review"), required=False)
    uncertain = forms.NullBooleanField(label=_("Uncertain"), required=False, widget=forms.Select(choices=[
        ("unknown", "—"), ("true", _("Yes")), ("false", _("No"))]))
    q = forms.CharField(label=_("Search id"), required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sentiment"].choices = [("", _("All")), *Sentiment.choices]
        self.fields["review"].choices = [
            ("", _("All")), ("any", _("In review queue")), ("none", _("Not in queue")), *ReviewItem.Status.choices,
        ]

    def to_filters(self, **extra) -> ConversationFilters:
        data = self._valid_data()
        base = super().to_filters()
        date_from, date_to = base.date_from, base.date_to
        if data.get("date"):
            date_from = date_to = data["date"]
        return ConversationFilters(
            date_from=date_from, date_to=date_to, channel=base.channel, team=base.team, intent=base.intent,
            sentiment=data.get("sentiment") or "", quality=data.get("quality"), agent_id=data.get("agent"),
            review_status=data.get("review") or "", uncertain=data.get("uncertain"),
            search=(data.get("q") or "").strip(), **extra,
        )


SENTIMENT_KEYS = {"1": Sentiment.NEGATIVE, "2": Sentiment.NEUTRAL, "3": Sentiment.POSITIVE}


class ReviewForm(forms.Form):
    intent = forms.CharField(label=_("Intent"), max_length=64,
                             widget=forms.TextInput(attrs={"list": "intent-options", "autocomplete": "off"}))
    sentiment = forms.ChoiceField(label=_("Sentiment"), choices=Sentiment.choices, widget=forms.RadioSelect)
    quality = forms.FloatField(label=_("Quality (1–5)"), min_value=1, max_value=5,
                               widget=forms.NumberInput(attrs={"step": "any", "min": "1", "max": "5"}))


class PickForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=64, required=False)


class ConfirmForm(forms.Form):
    reason = forms.CharField(label=_("Reason (recorded in the audit trail)"), max_length=255, required=False)
    confirm = forms.BooleanField(label=_("I confirm this change of the production model"), required=True)


class JobStartForm(forms.Form):
    KIND_CHOICES = [
        ("score", _("Batch scoring")),
        ("assess", _("Quality assessment")),
        ("retrain", _("Retraining")),
    ]
    kind = forms.ChoiceField(label=_("Job"), choices=KIND_CHOICES)
    date = forms.DateField(label=_("Assessment date"), required=False, widget=DateInput)
    task = forms.ChoiceField(label=_("Task to retrain"), required=False)
    only_unscored = forms.BooleanField(label=_("Only conversations the production models have not scored"),
                                       required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["task"].choices = [("", _("All tasks")), *Task.choices]
