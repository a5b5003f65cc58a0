"""Content-Disposition built safely (RFC 6266) for every export."""
import pytest
from django.utils import timezone

from apps.core.http import attachment_header


@pytest.mark.parametrize("name, fallback, encoded", [
    ("plain.csv", "plain.csv", "plain.csv"),
    ('agent_"x\r\n.csv', "agent__x.csv", "agent_%22x.csv"),
    ("坐席_A1.csv", "A1.csv", "%E5%9D%90%E5%B8%AD_A1.csv"),
    ("坐席.xlsx", "download.xlsx", "%E5%9D%90%E5%B8%AD.xlsx"),
    ('a"; filename="evil.exe', "a_filename_evil.exe", "a%22%3B%20filename%3D%22evil.exe"),
])
def test_attachment_header(name, fallback, encoded):
    header = attachment_header(name)
    assert header == f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    assert "\r" not in header and "\n" not in header and header.count('filename="') == 1


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_agent_export_with_a_hostile_id_has_a_safe_header(admin_user_client, fmt):
    from urllib.parse import unquote

    from apps.agents.models import Agent

    agent = Agent.objects.create(external_id='坐席"1\r\n', name="李雷", team="cards", hired_at=timezone.now().date())
    response = admin_user_client.get(f"/dashboard/agents/{agent.pk}/export.{fmt}")
    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert header.count('filename="') == 1 and "\r" not in header and "\n" not in header
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert "坐席" in unquote(encoded)
