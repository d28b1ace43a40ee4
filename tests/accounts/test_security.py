import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import User
from tests import factories as f

LOGIN = "/admin/login/"
START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def login(client, username, password, ip="10.0.0.7"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=ip
    )


def test_lockout_after_five_failures_per_username_and_address(client, world):
    for _ in range(4):
        assert login(client, "official_a", "wrong-password").status_code == 200
    assert login(client, "official_a", "wrong-password").status_code == 429  # the 5th locks
    locked = login(client, "official_a", f.PASSWORD)
    assert locked.status_code == 429
    assert "锁定" in locked.content.decode()
    # Another address is not locked for the same username.
    assert login(client, "official_a", f.PASSWORD, ip="10.0.0.8").status_code == 302


def test_four_failures_do_not_lock(client, world):
    for _ in range(4):
        login(client, "official_a", "wrong-password")
    assert login(client, "official_a", f.PASSWORD).status_code == 302


def test_lockout_ends_after_the_cool_off(client, world):
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(5):
            login(client, "official_a", "wrong-password")
        assert login(client, "official_a", f.PASSWORD).status_code == 429
        traveller.shift(dt.timedelta(minutes=16))
        assert login(client, "official_a", f.PASSWORD).status_code == 302


def test_security_admin_unlocks_by_deleting_the_attempt(client, world):
    for _ in range(5):
        login(client, "official_a", "wrong-password")
    assert login(client, "official_a", f.PASSWORD).status_code == 429
    security = f.user("security", "security_admin", None)
    admin_client = client.__class__()
    admin_client.force_login(security)
    attempt = AccessAttempt.objects.get(username="official_a")
    response = admin_client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert login(client, "official_a", f.PASSWORD).status_code == 302


def test_idle_session_times_out_after_30_minutes(client, world):
    with time_machine.travel(START, tick=False) as traveller:
        assert login(client, "official_a", f.PASSWORD).status_code == 302
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get("/admin/").status_code == 200  # activity renews the session
        traveller.shift(dt.timedelta(minutes=29))
        assert client.get("/admin/").status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get("/admin/")
        assert response.status_code == 302
        assert response["Location"].startswith(LOGIN)


def test_session_ends_12_hours_after_login_however_active(client, world):
    with time_machine.travel(START, tick=False) as traveller:
        login(client, "official_a", f.PASSWORD)
        for _ in range(24):  # active every 20 minutes for 8 hours
            traveller.shift(dt.timedelta(minutes=20))
            assert client.get("/admin/").status_code == 200
        for _ in range(12):  # and 4 more hours
            traveller.shift(dt.timedelta(minutes=20))
            client.get("/admin/")
        traveller.shift(dt.timedelta(minutes=5))
        response = client.get("/admin/")
        assert response.status_code == 302


@pytest.mark.parametrize("password", ["short1A", "alllowercase1", "Password123", "12345678"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password, User(username="someone"))


def test_strong_password_is_accepted():
    validate_password("Cun#Zhu2026x", User(username="someone"))


def test_county_official_cannot_grant_a_role_above_their_own(client, world):
    client.force_login(world.official_a)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "sneaky",
            "full_name": "越权",
            "role": "county_admin",
            "region": world.county_a.pk,
            "password1": "Cun#Zhu2026x",
            "password2": "Cun#Zhu2026x",
        },
    )
    assert response.status_code == 200  # the form comes back with an error
    assert not User.objects.filter(username="sneaky").exists()
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "clerk",
            "full_name": "乡镇干事",
            "role": "township_admin",
            "region": world.township_a.pk,
            "password1": "Cun#Zhu2026x",
            "password2": "Cun#Zhu2026x",
        },
    )
    assert response.status_code == 302
    clerk = User.objects.get(username="clerk")
    assert clerk.is_staff
    assert clerk.region == world.township_a
