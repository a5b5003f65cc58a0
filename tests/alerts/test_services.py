"""Alert rules after the nightly assessment: alerts, webhook deliveries and e-mail files;
the weekly team report e-mail with its charts."""
import datetime as dt
import email
from email import policy

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.alerts.models import Alert, AlertRule, TeamReport
from apps.core.hooks import assessment_finished
from apps.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.factories import AgentFactory, ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 8)  # a Sunday


def at(day, hour):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def mail_dir(settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    return tmp_path / "mail"


def _mails(mail_dir):
    if not mail_dir.exists():
        return []
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(mail_dir.iterdir())]


@pytest.fixture
def centre(db):
    """Team 'north': a weak agent (quality 2.0) and a good one (4.5); its lead has an e-mail address."""
    weak = AgentFactory(name="Weak", team="north")
    good = AgentFactory(name="Good", team="north")
    for i in range(6):
        day = DAY - dt.timedelta(days=i)
        ConversationFactory(agent=weak, started_at=at(day, 10), predicted_quality=2.0, predicted_sentiment="negative")
        ConversationFactory(agent=good, started_at=at(day, 11), predicted_quality=4.5, predicted_sentiment="positive")
    lead = get_user_model().objects.create_user(username="lead", email="lead@example.com", password="pw-123456!")
    from apps.agents.models import TeamLead

    TeamLead.objects.create(user=lead, team="north")
    return {"weak": weak, "good": good}


def test_agent_under_threshold_raises_an_alert_a_webhook_and_an_email(centre, mail_dir):
    rule = AlertRule.objects.create(name="Low quality", metric="mean_quality", scope="agent", window_days=7,
                                    comparison="below", threshold=3.0, min_volume=5, email_to="qa@example.com")
    WebhookSubscription.objects.create(name="crm", url="http://127.0.0.1:9/hook", events=["alert.raised"],
                                       secret="s" * 32)
    assessment_finished.send(sender=None, date=DAY, job_id=1, result={})
    alert = Alert.objects.get()
    assert (alert.rule, alert.subject_key, alert.value, alert.n) == (rule, str(centre["weak"].pk), 2.0, 6)
    assert alert.window_start == DAY - dt.timedelta(days=6) and alert.team == "north"
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "alert.raised" and delivery.payload["alert_id"] == alert.pk
    assert delivery.payload["value"] == 2.0 and alert.webhook_deliveries == 1
    [mail] = _mails(mail_dir)
    assert set(mail["To"].split(", ")) == {"qa@example.com", "lead@example.com"}
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Low quality" in html and "2.0" in html
    # The same night again (a replayed assessment): nothing new, nothing sent twice.
    assessment_finished.send(sender=None, date=DAY, job_id=1, result={})
    assert Alert.objects.count() == 1 and WebhookDelivery.objects.count() == 1 and len(_mails(mail_dir)) == 1


def test_subjects_within_threshold_or_too_small_raise_nothing(centre, mail_dir):
    AlertRule.objects.create(name="Very low", metric="mean_quality", scope="agent", window_days=7,
                             comparison="below", threshold=1.5)
    AlertRule.objects.create(name="Tiny window", metric="mean_quality", scope="agent", window_days=1,
                             comparison="below", threshold=3.0, min_volume=5)
    AlertRule.objects.create(name="Off", metric="mean_quality", scope="agent", comparison="below", threshold=5,
                             active=False)
    assessment_finished.send(sender=None, date=DAY, job_id=1, result={})
    assert not Alert.objects.exists() and not _mails(mail_dir)


def test_team_negative_share_and_operations_metrics(centre, mail_dir):
    from ml.features import conversation_features

    messages = [{"speaker": "customer", "text": "在吗", "sent_at": at(DAY, 9)},
                {"speaker": "agent", "text": "在的", "sent_at": at(DAY, 9) + dt.timedelta(minutes=20)}]
    c = ConversationFactory(agent=centre["good"], started_at=at(DAY, 9), ended_at=at(DAY, 10),
                            predicted_quality=4.0, predicted_sentiment="neutral",
                            features=conversation_features(messages))
    for seq, m in enumerate(messages, start=1):
        MessageFactory(conversation=c, seq=seq, **m)
    AlertRule.objects.create(name="Negative team", metric="negative_share", scope="team", comparison="above",
                             threshold=0.4, min_volume=5, send_webhook=False)
    AlertRule.objects.create(name="Slow reply", metric="first_response_s", scope="all", comparison="above",
                             threshold=600, min_volume=1, send_webhook=False)
    assessment_finished.send(sender=None, date=DAY, job_id=1, result={})
    team = Alert.objects.get(rule__name="Negative team")
    assert team.subject_key == "north" and team.value == pytest.approx(6 / 13, abs=1e-4)
    slow = Alert.objects.get(rule__name="Slow reply")
    assert slow.subject_key == "all" and slow.value == pytest.approx(1200.0)
    assert not WebhookDelivery.objects.exists()
    assert {m["To"] for m in _mails(mail_dir)} == {"lead@example.com"}  # the team's lead; no team for 'all'


def test_qa_score_and_auto_fails_from_the_daily_qa_rows(centre):
    from apps.qa.models import QaDailyAgent, Scorecard, ScorecardVersion

    version = ScorecardVersion.objects.create(scorecard=Scorecard.objects.create(name="card"), number=1)
    for i in range(3):
        QaDailyAgent.objects.create(date=DAY - dt.timedelta(days=i), agent=centre["weak"], team="north",
                                    scorecard_version=version, n=4, score_sum=4 * 55.0, auto_fails=1)
        QaDailyAgent.objects.create(date=DAY - dt.timedelta(days=i), agent=centre["good"], team="north",
                                    scorecard_version=version, n=4, score_sum=4 * 90.0, auto_fails=0)
    AlertRule.objects.create(name="QA", metric="qa_score", scope="agent", comparison="below", threshold=70,
                             min_volume=10, send_webhook=False)
    AlertRule.objects.create(name="Fails", metric="auto_fails", scope="team", comparison="above", threshold=2,
                             min_volume=10, send_webhook=False)
    assessment_finished.send(sender=None, date=DAY, job_id=1, result={})
    qa = Alert.objects.get(rule__name="QA")
    assert qa.subject_key == str(centre["weak"].pk) and qa.value == pytest.approx(55.0) and qa.n == 12
    fails = Alert.objects.get(rule__name="Fails")
    assert fails.subject_key == "north" and fails.value == 3


def test_console_lists_alerts_and_acknowledging_needs_the_permission(centre, client, django_user_model):
    from django.contrib.auth.models import Permission

    AlertRule.objects.create(name="Low quality", metric="mean_quality", scope="agent", comparison="below",
                             threshold=3.0, send_webhook=False)
    assessment_finished.send(sender=None, date=DAY, job_id=1, result={})
    alert = Alert.objects.get()
    staff = django_user_model.objects.create_user(username="staff", password="pw-123456!", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="conversations",
                                                      codename="view_conversation"))
    client.force_login(staff)
    page = client.get("/dashboard/alerts/")
    assert page.status_code == 200 and f'data-alert="{alert.pk}"' in page.content.decode()
    assert "/acknowledge/" not in page.content.decode()
    assert client.post(f"/dashboard/alerts/{alert.pk}/acknowledge/").status_code == 403
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="alerts", codename="change_alert"))
    client.post(f"/dashboard/alerts/{alert.pk}/acknowledge/")
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == staff
    assert client.get("/dashboard/alerts/").context["page"].object_list.count() == 0


def test_weekly_team_report_email_has_figures_and_inline_charts(centre, mail_dir):
    TeamReport.objects.create(team="north", recipients="boss@example.com", language="en")
    TeamReport.objects.create(team="nobody-leads-this", language="en")
    from apps.alerts.reports import team_reports_send

    sent = team_reports_send(today=DAY + dt.timedelta(days=1))  # Monday: reports the week up to DAY
    assert sent == {"north": ["boss@example.com", "lead@example.com"], "nobody-leads-this": []}
    [mail] = _mails(mail_dir)
    assert "north" in mail["Subject"] and "2026-03-02" in mail["Subject"] and "2026-03-08" in mail["Subject"]
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert 'src="cid:trend"' in html and 'src="cid:agents"' in html
    assert "Criteria failed most" in html and "Weak" in html
    images = {part["Content-ID"]: part.get_content() for part in mail.walk() if part.get_content_type() == "image/png"}
    assert set(images) == {"<trend>", "<agents>"}
    assert all(png.startswith(b"\x89PNG") for png in images.values())
    report = TeamReport.objects.get(team="north")
    assert report.last_sent_at and "lead@example.com" in report.last_sent_to


def test_every_led_team_gets_a_report_unless_switched_off(centre, mail_dir):
    from apps.agents.models import TeamLead
    from apps.alerts.reports import team_reports_send

    south_lead = get_user_model().objects.create_user(username="s", email="south@example.com", password="x-1234567!")
    TeamLead.objects.create(user=south_lead, team="south")
    TeamReport.objects.create(team="south", active=False)
    assert team_reports_send(today=DAY + dt.timedelta(days=1)) == {"north": ["lead@example.com"]}
    assert TeamReport.objects.get(team="north").language == "zh-hans"  # created on the first send
    html = _mails(mail_dir)[0].get_body(preferencelist=("html",)).get_content()
    assert "最常未通过的评分项" in html and "Criteria failed most" not in html  # the team's language


def test_default_rules_come_with_the_migration():
    from importlib import import_module

    defaults = import_module("apps.alerts.migrations.0003_default_alert_rules").DEFAULT_RULES
    assert {r["metric"] for r in defaults} >= {"mean_quality", "qa_score", "negative_share", "auto_fails",
                                               "model_agreement"}


def test_weekly_reports_schedule_is_a_beat_entry():
    from django_celery_beat.models import PeriodicTask

    entry = PeriodicTask.objects.get(name="weekly team reports")
    assert entry.task == "alerts.send_team_reports" and entry.crontab.day_of_week == "1"
