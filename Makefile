# Zhucun: `make run` starts everything with demo data; `make test` runs every check and test.
# Without DATABASE_URL / REDIS_URL both start private servers under .local/ (DESIGN.md section 2).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup services run test lint check migrate messages gettext clean stop

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

services: setup
	$(PY) scripts/services.py up

migrate: services
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py seed_demo --scale county --seed 1 --if-empty
	$(PY) manage.py demo_accounts
	$(PY) scripts/run_local.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: services
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY=check-deploy-dummy-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz \
	DJANGO_ALLOWED_HOSTS=zhucun.example.gov.cn \
	$(PY) manage.py check --deploy --fail-level WARNING

test: lint check gettext
	$(PY) -m pytest $(PYTEST_ARGS)

# GNU gettext (xgettext, msgfmt) for the catalogue and its test; installed when missing.
gettext:
	@command -v msgfmt >/dev/null || { apt-get update -qq && apt-get install -y -qq gettext; } \
	  || { echo "install GNU gettext (msgfmt, xgettext)"; exit 1; }

messages: setup gettext
	$(PY) manage.py makemessages -l zh_Hans --no-obsolete --no-location \
	  --ignore '.venv/*' --ignore '.local/*' --ignore 'tests/*' --ignore 'scripts/*'
	$(PY) scripts/i18n.py fill locale/zh_Hans/LC_MESSAGES/django.po
	$(PY) manage.py compilemessages -l zh_Hans --ignore '.venv/*' 

stop:
	$(PY) scripts/services.py down

clean: stop
	rm -rf .local $(VENV)
