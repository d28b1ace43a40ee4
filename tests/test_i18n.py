"""The zh-hans catalogue is complete and its compiled file is up to date.

The messages are extracted afresh from a copy of the sources (GNU xgettext through Django's
makemessages); every one must be in the committed catalogue with a translation, and the
committed .mo must hold exactly what the .po says.
"""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.utils import translation

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
sys.path.insert(0, str(ROOT / "scripts"))
from i18n import parse_po  # noqa: E402

# The project's own apps (every top-level package with an apps.py), settings and templates.
SOURCES = (
    "manage.py",
    "config",
    "templates",
    *sorted(p.parent.name for p in ROOT.glob("*/apps.py")),
)
DUMMY_ENV = {
    "DATABASE_URL": "postgres://unused@127.0.0.1:1/unused",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "DJANGO_SECRET_KEY": "i18n-test-only",
    "FIELD_ENCRYPTION_KEYS": "",
    "FIELD_HASH_KEY": "",
    "DJANGO_SETTINGS_MODULE": "config.settings.base",
}


def _key(entry):
    return (entry.msgctxt, entry.msgid, entry.msgid_plural)


def test_every_message_has_a_zh_hans_translation(tmp_path):
    copy = tmp_path / "src"
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            copy.mkdir(exist_ok=True)
            shutil.copy(source, copy / name)
    (copy / "locale").mkdir()
    env = {**{k: v for k, v in os.environ.items() if k not in DUMMY_ENV}, **DUMMY_ENV}
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-location",
            "--no-obsolete",
        ],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    extracted = {
        _key(e) for e in parse_po(copy / "locale/zh_Hans/LC_MESSAGES/django.po") if e.msgid
    }
    committed = {_key(e): e for e in parse_po(PO) if e.msgid}
    missing = sorted(k[1] for k in extracted if k not in committed)
    untranslated = sorted(k[1] for k in extracted if k in committed and not committed[k].translated)
    assert not missing, f"run `make messages`; not in the catalogue: {missing[:10]}"
    assert not untranslated, f"untranslated or fuzzy: {untranslated[:10]}"
    assert len(extracted) > 100


def test_compiled_catalogue_is_up_to_date(tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(PO)], check=True)
    with MO.open("rb") as committed, fresh.open("rb") as compiled:
        assert (
            gettext.GNUTranslations(committed)._catalog
            == gettext.GNUTranslations(compiled)._catalog
        ), "run `make messages`"


def test_chinese_is_the_default_language(client, db):
    assert settings.LANGUAGE_CODE == "zh-hans"
    response = client.get("/admin/login/")
    assert response["Content-Language"] == "zh-hans"
    assert "登录" in response.content.decode()
    with translation.override("zh-hans"):
        assert translation.gettext("驻村工作队") == "驻村工作队"
