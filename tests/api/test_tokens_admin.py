"""Tokens are issued and revoked by the security administrator (admin or command) and the
pull log is read by the audit administrator; county staff see neither."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import ApiPull, ApiToken
from accounts.roles import Role
from tests import factories as f


@pytest.fixture
def admins(world):
    return {
        "security": f.user("security", Role.SECURITY_ADMIN, None),
        "audit": f.user("auditor", Role.AUDIT_ADMIN, None),
        "province": f.user("province_api", Role.PROVINCE, world.province),
    }


def test_security_admin_issues_a_token_shown_once(client, admins):
    client.force_login(admins["security"])
    response = client.post(
        reverse("admin:accounts_apitoken_add"),
        {"user": admins["province"].pk, "name": "省防返贫监测系统", "expires_at": ""},
        follow=True,
    )
    assert response.status_code == 200
    token = ApiToken.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    key = shown[0].rsplit("：", 1)[-1]
    assert key.startswith(token.prefix)
    assert token.created_by == admins["security"]
    page = client.get(reverse("admin:accounts_apitoken_change", args=[token.pk]))
    assert key not in page.content.decode()
    api = client.__class__(headers={"authorization": f"Token {key}"})
    assert api.get("/api/v1/villages/").status_code == 200


def test_tokens_are_only_for_province_accounts_in_the_admin(client, admins, world):
    client.force_login(admins["security"])
    response = client.post(
        reverse("admin:accounts_apitoken_add"),
        {"user": world.official_a.pk, "name": "县里的脚本", "expires_at": ""},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "user" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_revoke_action(client, admins):
    out = io.StringIO()
    call_command("api_token", "issue", "--username", "province_api", "--name", "省系统", stdout=out)
    token = ApiToken.objects.get()
    client.force_login(admins["security"])
    client.post(
        reverse("admin:accounts_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == admins["security"]


def test_command_issues_lists_and_revokes(admins):
    out = io.StringIO()
    call_command("api_token", "issue", "--username", "province_api", "--name", "省系统", stdout=out)
    key = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get()
    assert key.startswith(token.prefix)
    out = io.StringIO()
    call_command("api_token", "list", stdout=out)
    assert f"{token.prefix}\tprovince_api\t省系统\tok" in out.getvalue()
    call_command("api_token", "revoke", "--prefix", token.prefix, stdout=io.StringIO())
    assert ApiToken.objects.get().revoked_at is not None
    with pytest.raises(CommandError):
        call_command("api_token", "issue", "--username", "auditor", "--name", "x")


def test_pull_log_is_for_the_audit_administrator_only(client, admins, world, callers):
    callers["province"].client.get("/api/v1/villages/")
    assert ApiPull.objects.count() == 1
    changelist = reverse("admin:accounts_apipull_changelist")
    client.force_login(admins["audit"])
    response = client.get(changelist)
    assert response.status_code == 200
    assert response.context["cl"].result_list[0].resource == "villages"
    assert client.get(reverse("admin:accounts_apitoken_changelist")).status_code == 403
    for user in (admins["security"], world.official_a):
        client.force_login(user)
        assert client.get(changelist).status_code == 403
    client.force_login(world.official_a)
    assert client.get(reverse("admin:accounts_apitoken_changelist")).status_code == 403
