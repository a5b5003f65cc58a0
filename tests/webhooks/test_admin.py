import pytest

from apps.core.models import AuditEvent
from apps.webhooks.models import Event, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db


def test_admin_add_subscription_with_event_checkboxes(admin_user_client):
    page = admin_user_client.get("/admin/webhooks/webhooksubscription/add/")
    assert page.status_code == 200
    assert b'type="checkbox" name="events" value="job.finished"' in page.content
    response = admin_user_client.post("/admin/webhooks/webhooksubscription/add/", {
        "name": "crm", "url": "https://crm.example.com/hook", "events": ["job.finished", "conversation.flagged"],
        "active": "on", "new_secret": "",
    })
    assert response.status_code == 302, response.content[:2000]
    sub = WebhookSubscription.objects.get()
    assert sub.events == ["job.finished", "conversation.flagged"] and len(sub.secret) >= 32
    assert AuditEvent.objects.filter(action="webhook_subscription.create").exists()

    # editing with an empty secret keeps the secret
    secret = sub.secret
    response = admin_user_client.post(f"/admin/webhooks/webhooksubscription/{sub.pk}/change/", {
        "name": "crm", "url": "https://crm.example.com/hook2", "events": ["job.finished"], "new_secret": "",
    })
    assert response.status_code == 302
    sub.refresh_from_db()
    assert sub.secret == secret and sub.url.endswith("hook2") and sub.active is False


def test_admin_refuses_ftp_url(admin_user_client):
    response = admin_user_client.post("/admin/webhooks/webhooksubscription/add/", {
        "name": "crm", "url": "ftp://crm.example.com/hook", "events": ["job.finished"], "active": "on",
    })
    assert response.status_code == 200
    assert not WebhookSubscription.objects.exists()


def test_admin_deliveries_are_read_only_with_filters_and_redeliver(admin_user_client):
    sub = WebhookSubscription.objects.create(name="a", url="https://a.example.com", events=["job.finished"],
                                             secret="s" * 32)
    failed = WebhookDelivery.objects.create(subscription=sub, event=Event.JOB_FINISHED, payload={},
                                            status=WebhookDelivery.Status.FAILED)
    pending = WebhookDelivery.objects.create(subscription=sub, event=Event.JOB_FINISHED, payload={})
    changelist = "/admin/webhooks/webhookdelivery/"
    assert admin_user_client.get(changelist + "?status__exact=failed&event__exact=job.finished").status_code == 200
    assert admin_user_client.get(changelist + "add/").status_code == 403
    response = admin_user_client.post(changelist, {
        "action": "redeliver", "_selected_action": [failed.pk, pending.pk],
    })
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == WebhookDelivery.Status.PENDING
    detail = admin_user_client.get(f"{changelist}{failed.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
