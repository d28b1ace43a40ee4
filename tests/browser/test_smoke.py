"""The browser stack end to end: live server, chromium on a phone, the ORM in the test body."""

from django.contrib.auth import get_user_model

PASSWORD = "Smoke#pass2026"


def test_superuser_logs_into_the_admin_on_a_phone(phone, live_server, login):
    phone.goto(live_server.url + "/admin/login/")
    assert phone.title() == "登录 | 驻村通"

    # The ORM in the test body, with the page open (Playwright's loop parked on this thread).
    user = get_user_model().objects.create_superuser("smoke", "smoke@example.com", PASSWORD)
    assert user.last_login is None

    login(phone, live_server, "smoke", PASSWORD, path="/admin/login/")

    assert phone.url == live_server.url + "/admin/"
    assert phone.title() == "驻村工作队管理 | 驻村通"
    assert phone.locator("#user-tools strong").text_content() == "smoke"
    assert phone.get_by_role("button", name="注销").is_visible()
    # The live server wrote through its own connection; the test sees it (transactional_db).
    user.refresh_from_db()
    assert user.last_login is not None
    # The live server serves the admin's static files (no collectstatic in tests).
    assert phone.request.get(live_server.url + "/static/admin/css/base.css").ok
