"""Who gets in and what they may do: no credentials, bad or revoked tokens, read-only
endpoints, rates per client, the pull log, and revealing ID numbers and phones."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import timezone

from accounts.models import ApiPull, ApiToken
from accounts.roles import Role
from accounts.services import api_token_issue, api_token_revoke
from common.api.routers import registry, sync_resources
from households.models import Household
from tests import factories as f

from .cases import CASES
from .conftest import csrf_client, token_client

RESOURCES = sorted(registry())


def test_without_credentials_every_endpoint_answers_401(world):
    client = Client()
    for resource in RESOURCES:
        for url in (f"/api/v1/{resource}/", f"/api/v1/{resource}/1/"):
            response = client.get(url)
            assert response.status_code == 401, url
            assert response["WWW-Authenticate"].startswith("Token"), url
            assert response.json() == {"message": "身份认证信息未提供。", "extra": {}}
    assert client.get("/api/v1/").status_code == 401
    assert not ApiPull.objects.exists()  # nobody to attribute a pull to


@pytest.mark.parametrize(
    "header",
    ["Token zc_not-a-real-key", "Bearer zc_not-a-real-key", "Token", "Token a b"],
)
def test_bad_tokens_are_refused(world, header):
    response = Client(headers={"authorization": header}).get("/api/v1/households/")
    assert response.status_code == 401
    assert response.json()["message"].startswith("令牌")


def test_revoked_expired_or_reassigned_tokens_stop_working(world):
    user = f.user("province_sx", Role.PROVINCE, world.province)
    client, token, _key = token_client(user)
    assert client.get("/api/v1/villages/").status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None

    api_token_revoke(token=token, actor=None)
    assert client.get("/api/v1/villages/").status_code == 401
    assert api_token_revoke(token=token, actor=None).revoked_at is not None  # idempotent

    client, token, _key = token_client(user)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    assert client.get("/api/v1/villages/").status_code == 401

    client, _token, _key = token_client(user)
    user.role = Role.CITY  # no longer a machine client
    user.save(update_fields=["role"])
    assert client.get("/api/v1/villages/").status_code == 401


def test_tokens_only_for_active_province_accounts(world):
    from common.errors import ApplicationError

    with pytest.raises(ApplicationError, match="省级接口账号"):
        api_token_issue(user=world.official_a, name="县里的脚本", actor=None)
    province = f.user("province_sx", Role.PROVINCE, world.province)
    with pytest.raises(ApplicationError, match="有效期"):
        api_token_issue(
            user=province, name="x", actor=None, expires_at=timezone.now() - dt.timedelta(1)
        )
    token, key = api_token_issue(user=province, name="省系统", actor=None)
    assert key.startswith(token.prefix)
    assert token.key_hash != key
    assert key not in str(token)


def test_only_the_key_hash_is_stored(world):
    province = f.user("province_sx", Role.PROVINCE, world.province)
    token, key = api_token_issue(user=province, name="省系统", actor=None)
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert key not in repr(stored)


def test_endpoints_are_read_only(world, callers):
    caller = callers["province"]
    for resource in sorted(sync_resources()):
        inside, _outside = CASES[resource](world) if resource != "deletions" else (None, None)
        list_url = f"/api/v1/{resource}/"
        assert caller.client.post(list_url, {}).status_code == 405, resource
        if inside is None:
            continue
        before = type(inside)._base_manager.filter(pk=inside.pk).values().get()
        detail = f"{list_url}{inside.pk}/"
        for method in ("put", "patch", "delete"):
            response = getattr(caller.client, method)(detail, {}, content_type="application/json")
            assert response.status_code == 405, (resource, method)
            assert response.json()["message"].startswith("方法"), response.json()
        assert type(inside)._base_manager.filter(pk=inside.pk).values().get() == before


def test_endpoints_are_read_only_for_sessions_too(world):
    """A person's session with a valid CSRF token meets the same 405; without the token the
    request is refused (403) before the method is considered. Nothing changes either way."""
    client, csrf = csrf_client(world.official_a)
    for resource in sorted(sync_resources()):
        list_url = f"/api/v1/{resource}/"
        refused = client.post(list_url, {}, content_type="application/json")
        assert refused.status_code == 403, resource
        assert "CSRF" in refused.json()["message"] or "令牌" in refused.json()["message"]
        assert client.post(list_url, {}, content_type="application/json", **csrf).status_code == 405
    before = Household.objects.filter(pk=world.household_a.pk).values().get()
    detail = f"/api/v1/households/{world.household_a.pk}/"
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(detail, {}, content_type="application/json", **csrf)
        assert response.status_code == 405, method
    assert Household.objects.filter(pk=world.household_a.pk).values().get() == before


def test_unknown_api_urls_answer_in_the_error_format(world, callers):
    client = callers["province"].client
    for url in ("/api/v1/nothing/", "/api/v1/households/abc/", "/api/v1/households/-1/", "/api/x"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json"
        assert response.json()["message"] == "接口地址不存在。"
    too_big = client.get("/api/v1/households/99999999999999999999/")
    assert too_big.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "1001"}, "page_size"),
        ({"page_size": "abc"}, "page_size"),
        ({"cursor": "garbage"}, "cursor"),
        ({"region": "14x"}, "region"),
        ({"region": "1"}, "region"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"village": "-3"}, "village"),
        ({"village": "99999999999999999999"}, "village"),
        ({"household_type": "rich"}, "household_type"),
        ({"risk": "lucky"}, "risk"),
        ({"status": "a\x00b"}, "status"),
        ({"reveal": "maybe"}, "reveal"),
        ({"relocated": "yes"}, "relocated"),
        ({"year_identified": "2016.5"}, "year_identified"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(world, callers, params, field):
    response = callers["province"].client.get("/api/v1/households/", params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"]
    assert field in body["extra"]["fields"], body


@pytest.mark.parametrize(
    ("since", "rows"),
    [
        ("0001-01-01T00:00:00+14:00", 2),
        ("9999-12-31T23:59:59-12:00", 0),
        ("2016-12-31T23:59:60Z", 2),
        ("2026-01-01t00:00:00z", 2),
        ("2000-01-01", None),
        ("2000-01-01T00:00:00", None),
        ("2000-02-30T00:00:00+08:00", None),
    ],
)
def test_times_are_rfc3339_far_ones_the_earliest_or_latest(world, callers, since, rows):
    response = callers["province"].client.get("/api/v1/households/", {"updated_since": since})
    if rows is None:
        assert response.status_code == 400
        assert "updated_since" in response.json()["extra"]["fields"]
    else:
        assert response.status_code == 200
        assert len(response.json()["results"]) == rows


def test_a_cursor_only_continues_the_same_filters(world, callers):
    client = callers["province"].client
    first = client.get("/api/v1/households/", {"page_size": 1, "region": "14"}).json()
    assert client.get(first["next"]).status_code == 200
    tampered = first["next"].replace("region=14", "region=140122")
    response = client.get(tampered)
    assert response.status_code == 400
    assert "筛选条件" in response.json()["extra"]["fields"]["cursor"][0]


def test_region_filter_takes_prefixes_and_full_codes(world, callers):
    client = callers["province"].client
    for region in ("140121", "140121000000", "1401211", "140121100201"):
        rows = client.get("/api/v1/households/", {"region": region}).json()["results"]
        assert [r["id"] for r in rows] == [world.household_a.pk], region
    assert client.get("/api/v1/households/", {"region": "15"}).json()["results"] == []


def test_filters_narrow_the_rows(world, callers):
    client = callers["province"].client

    def ids(resource, **params):
        return {r["id"] for r in client.get(f"/api/v1/{resource}/", params).json()["results"]}

    Household.objects.filter(pk=world.household_b.pk).update(household_type="dibao")
    assert ids("households", household_type="dibao") == {world.household_b.pk}
    assert ids("households", village=world.village_a.pk) == {world.household_a.pk}
    assert ids("members", household=world.household_b.pk) == {world.person_b.pk}
    assert ids("incomes", month_from="2026-01-01", month_to="2026-01-31") == {
        world.income_a.pk,
        world.income_b.pk,
    }
    assert ids("incomes", month_from="2026-02-01") == set()
    assert ids("monitoring", risk_type="illness") == {world.monitoring_a.pk, world.monitoring_b.pk}
    assert ids("monitoring", risk_type="water") == set()
    assert ids("findings", overdue="false") == {world.finding_a.pk, world.finding_b.pk}
    assert ids("findings", overdue="true") == set()
    later = timezone.now() + dt.timedelta(minutes=1)
    assert ids("households", updated_since=later.isoformat()) == set()
    # no cadre paired: the risk flag is computed when asked
    from households.services import pairing_end

    pairing_end(pairing=world.pairing_b, end=dt.date(2026, 6, 1), reason="调整")
    assert ids("households", risk="no_cadre") == {world.household_b.pk}


def test_masked_by_default_revealed_with_permission_and_reason(world, callers):
    province = callers["province"]
    url = f"/api/v1/members/{world.person_a.pk}/"
    full = world.person_a.id_number

    masked = province.client.get(url).json()
    assert masked["id_number"] == full[:3] + "*" * 11 + full[-4:]

    response = province.client.get(url, {"reveal": "true"})
    assert response.status_code == 400
    assert "reason" in response.json()["extra"]["fields"]

    revealed = province.client.get(url, {"reveal": "true", "reason": "省级数据比对核查"}).json()
    assert revealed["id_number"] == full
    cadre = province.client.get(
        f"/api/v1/cadres/{world.cadre_a.pk}/", {"reveal": "1", "reason": "干部信息核对"}
    ).json()
    assert (cadre["id_number"], cadre["phone"]) == (world.cadre_a.id_number, world.cadre_a.phone)

    county = callers["county_admin"]
    response = county.client.get(url, {"reveal": "true", "reason": "想看看完整号码"})
    assert response.status_code == 403
    assert response.json()["message"] == "您的角色不能查看完整的身份证号和电话。"

    log = ApiPull.objects.filter(revealed=True)
    assert log.count() == 2
    entry = log.get(resource="members")
    assert (entry.user, entry.token, entry.reason, entry.rows) == (
        province.user,
        province.token,
        "省级数据比对核查",
        1,
    )
    assert full not in repr(list(ApiPull.objects.values()))


def test_every_answer_is_logged_with_filters_and_rows(world, callers):
    client = callers["province"].client
    first = client.get("/api/v1/households/", {"region": "14", "page_size": 1}).json()
    client.get(first["next"])
    client.get("/api/v1/households/987654321/")
    callers["county_admin"].client.get("/api/v1/visits/", {"kind": "phone"})
    pulls = list(ApiPull.objects.order_by("id"))
    assert [(p.resource, p.action, p.rows, p.status, p.continued) for p in pulls] == [
        ("households", "list", 1, 200, False),
        ("households", "list", 1, 200, True),
        ("households", "retrieve", 0, 404, False),
        ("visits", "list", 1, 200, False),
    ]
    assert pulls[0].filters == {"region": "14", "page_size": "1"}
    assert "cursor" not in pulls[1].filters
    assert pulls[0].token == callers["province"].token
    assert pulls[3].token is None
    assert pulls[3].user == callers["county_admin"].user
    assert pulls[3].username == "official_a"


def test_machine_clients_and_people_are_throttled_separately(world, callers):
    province, county = callers["province"], callers["county_admin"]
    keys = [
        f"throttle_api_client_token-{province.token.pk}",
        f"throttle_api_user_user-{county.user.pk}",
    ]
    cache.delete_many(keys)
    try:
        with override_settings(
            ZHUCUN_API_THROTTLE_RATES={"api_client": "3/min", "api_user": "2/min"}
        ):
            assert [province.client.get("/api/v1/villages/").status_code for _ in range(4)] == [
                200,
                200,
                200,
                429,
            ]
            limited = province.client.get("/api/v1/villages/")
            assert limited.status_code == 429
            assert int(limited["Retry-After"]) > 0
            assert "限" in limited.json()["message"] or "秒" in limited.json()["message"]
            # a person has their own scope, untouched by the machine client's requests
            assert [county.client.get("/api/v1/villages/").status_code for _ in range(3)] == [
                200,
                200,
                429,
            ]
    finally:
        cache.delete_many(keys)


def test_index_lists_every_resource(world, callers):
    body = callers["province"].client.get("/api/v1/").json()
    assert set(body) == set(RESOURCES)
    assert body["households"].endswith("/api/v1/households/")


def test_reveal_is_ignored_where_there_is_nothing_personal(world, callers):
    response = callers["province"].client.get(
        "/api/v1/villages/", {"reveal": "true", "reason": "无关请求"}
    )
    assert response.status_code == 200
    assert not ApiPull.objects.filter(revealed=True).exists()


def test_answers_are_not_cached(world, callers):
    response = callers["province"].client.get(f"/api/v1/members/{world.person_a.pk}/")
    assert response["Cache-Control"] == "private, no-store"
