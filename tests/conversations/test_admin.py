import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.conversations.models import Conversation
from tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

CSV = (
    "conversation_id,customer_id,started_at,speaker,text,seq\n"
    "z1,u1,2026-11-01T10:00:00+08:00,customer,我要改密码 13900001111,0\n"
    "z1,u1,2026-11-01T10:00:00+08:00,agent,好的,1\n"
)


@pytest.mark.parametrize("url", [
    "/admin/conversations/conversation/", "/admin/customers/customer/", "/admin/agents/agent/",
])
def test_changelists_render(admin_user_client, url):
    MessageFactory()
    resp = admin_user_client.get(url)
    assert resp.status_code == 200


def test_conversation_page_shows_masked_messages(admin_user_client):
    message = MessageFactory(text="[PHONE] 请回电")
    resp = admin_user_client.get(f"/admin/conversations/conversation/{message.conversation_id}/change/")
    assert resp.status_code == 200 and "[PHONE] 请回电" in resp.content.decode()


def test_admin_import_writes_and_masks(admin_user_client):
    upload = SimpleUploadedFile("c.csv", CSV.encode(), content_type="text/csv")
    resp = admin_user_client.post("/admin/conversations/conversation/import/", {"file": upload})
    assert resp.status_code == 302
    conv = Conversation.objects.get(external_id="z1")
    assert "13900001111" not in conv.customer_text and "[PHONE]" in conv.customer_text


def test_admin_import_reports_bad_rows(admin_user_client):
    bad = CSV.replace(",agent,", ",robot,")
    upload = SimpleUploadedFile("c.csv", bad.encode(), content_type="text/csv")
    resp = admin_user_client.post("/admin/conversations/conversation/import/", {"file": upload})
    assert resp.status_code == 200 and "<td>3</td>" in resp.content.decode()
    assert Conversation.objects.count() == 0


def test_anonymous_admin_redirects_to_login(client):
    assert client.get("/admin/conversations/conversation/").status_code == 302


def test_conversation_page_shows_rule_suggestions(admin_user_client):
    from apps.scoring.models import SuggestionRule
    from apps.scoring.services.suggestions import suggestion_rules_invalidate

    SuggestionRule.objects.create(intent="投诉建议", text_zh="记录投诉并升级处理", text_en="Record and escalate", priority=0)
    suggestion_rules_invalidate()
    message = MessageFactory(text="我要投诉")
    conv = message.conversation
    conv.predicted_intent, conv.predicted_sentiment, conv.predicted_quality = "投诉建议", "negative", 2.0
    conv.save()
    resp = admin_user_client.get(f"/admin/conversations/conversation/{conv.pk}/change/")
    assert "记录投诉并升级处理" in resp.content.decode()


@pytest.mark.parametrize("query", [
    "started_at__year=1", "started_at__year=9999", "started_at__year=x", "started_at__year=2026&started_at__month=13",
    "started_at__gte=0001-01-01", "started_at__lt=9999-12-31",
])
def test_changelist_date_garbage_gives_the_plain_changelist(admin_user_client, query):
    MessageFactory()
    url = "/admin/conversations/conversation/"
    resp = admin_user_client.get(f"{url}?{query}")
    assert resp.status_code == 302 and resp["Location"] == f"{url}?e=1"
    assert admin_user_client.get(resp["Location"]).status_code == 200


@pytest.mark.parametrize("url", [
    "/admin/customers/customer/?created_at__year=1", "/admin/jobs/job/?created_at__year=10000",
    "/admin/core/auditevent/?at__year=1", "/admin/webhooks/webhookdelivery/?created_at__year=1",
])
def test_other_date_hierarchies_refuse_far_years(admin_user_client, url):
    assert admin_user_client.get(url).status_code == 302


def test_changelist_date_hierarchy_inside_the_window(admin_user_client):
    message = MessageFactory()
    year = message.conversation.started_at.year
    resp = admin_user_client.get(f"/admin/conversations/conversation/?started_at__year={year}")
    assert resp.status_code == 200 and message.conversation.external_id in resp.content.decode()
