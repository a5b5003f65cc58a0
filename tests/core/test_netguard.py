"""Outbound webhooks reach only allowed addresses: public by default, others when configured."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from apps.core.netguard import DisallowedAddress, address_allowed, guarded_session, url_check


@pytest.fixture
def default_policy(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    return settings


@pytest.mark.parametrize("address, allowed", [
    ("8.8.8.8", True), ("2606:4700:4700::1111", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("0.0.0.0", False), ("::1", False), ("::ffff:127.0.0.1", False),
    ("fd00::1", False), ("224.0.0.1", False), ("100.64.0.1", False),
])
def test_default_policy_is_public_only(default_policy, address, allowed):
    assert address_allowed(address) is allowed


def test_private_ranges_when_allowed_but_never_link_local(default_policy):
    default_policy.WEBHOOK_ALLOW_PRIVATE = True
    assert address_allowed("127.0.0.1") and address_allowed("10.1.2.3") and address_allowed("::1")
    assert not address_allowed("169.254.169.254")


def test_listed_networks_are_allowed(default_policy):
    default_policy.WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16", "169.254.169.254/32"]
    assert address_allowed("10.20.3.4") and address_allowed("169.254.169.254")
    assert not address_allowed("10.21.0.1")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/h", "http://localhost/h", "http://[::1]/h",
                                 "http://169.254.169.254/latest/meta-data", "http://0x7f000001/h"])
def test_url_check_refuses_internal_hosts(default_policy, url):
    with pytest.raises(DisallowedAddress):
        url_check(url)


@pytest.fixture
def local_server():
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_session_refuses_at_connect_time(default_policy, local_server):
    base, hits = local_server
    with guarded_session() as session, pytest.raises(requests.ConnectionError, match="WEBHOOK_ALLOWED_NETWORKS"):
        session.post(f"{base}/h", data=b"{}", timeout=5)
    assert hits == []
    default_policy.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with guarded_session() as session:
        assert session.post(f"{base}/h", data=b"{}", timeout=5).status_code == 204
    assert hits == ["/h"]


@pytest.mark.django_db
def test_subscriptions_to_internal_addresses_are_refused_with_422(api_client, default_policy):
    response = api_client.post("/api/v1/webhooks/subscriptions",
                               {"name": "crm", "url": "http://127.0.0.1:9000/h", "events": ["job.finished"]},
                               format="json")
    assert response.status_code == 422  # well-formed, refused by the network policy
    assert "127.0.0.1" in response.json()["message"] and response.json()["extra"]["url"]


@pytest.mark.django_db
def test_a_delivery_to_a_now_refused_address_fails_without_a_request(default_policy, local_server):
    from apps.webhooks import services
    from apps.webhooks.models import WebhookDelivery

    base, hits = local_server
    default_policy.WEBHOOK_ALLOW_PRIVATE = True
    subscription = services.subscription_create(name="crm", url=f"{base}/h", events=["job.finished"])
    delivery = WebhookDelivery.objects.create(subscription=subscription, event="job.finished", payload={"job_id": 1})
    default_policy.WEBHOOK_ALLOW_PRIVATE = False
    delivery = services.delivery_attempt(delivery_id=delivery.pk)
    assert delivery.status == WebhookDelivery.Status.FAILED and "WEBHOOK_ALLOWED_NETWORKS" in delivery.last_error
    assert hits == []
