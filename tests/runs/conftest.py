"""A real PostgreSQL server for the run-store tests, and a fresh database per test.

Fixtures
--------
postgres_server
    Session-scoped: Debian's PostgreSQL (``initdb``/``pg_ctl`` of the highest version under
    ``/usr/lib/postgresql/*/bin``) initialised in a private temporary folder, listening on
    127.0.0.1 at a free port (its unix socket in that folder, password authentication over
    TCP), stopped with ``pg_ctl stop -m fast`` and the folder removed at the end. PostgreSQL
    refuses to run as root: as root (CI) the server runs as Debian's ``postgres`` user
    (``runuser -u postgres --``), the folder handed to that user. Missing binaries FAIL the
    tests (never skip): ``python3 workbench.py test`` installs the ``postgresql`` package.
    Yields the server's admin URL (``postgresql+psycopg://opwb:***@127.0.0.1:PORT/postgres``).
store_url
    Function-scoped, parametrized ``["sqlite", "postgresql"]``: the SQLAlchemy URL of a new
    empty database — an SQLite file in the test's tmp folder, or a database created on the
    session's server (dropped after the test).
"""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

PG_GLOB = "/usr/lib/postgresql/*/bin"
INSTALL_HINT = ("run `python3 workbench.py test` (it installs Debian's postgresql package), "
                "or `apt-get install -y postgresql`")
USER = "opwb"


def postgres_bin() -> Path:
    """The folder of the newest installed PostgreSQL's ``initdb`` and ``pg_ctl``."""
    found = [Path(d) for d in glob.glob(PG_GLOB)
             if (Path(d) / "initdb").is_file() and (Path(d) / "pg_ctl").is_file()]
    if not found:
        pytest.fail(f"PostgreSQL's server programs (initdb, pg_ctl in {PG_GLOB}) are missing: "
                    + INSTALL_HINT, pytrace=False)
    return max(found, key=lambda d: [int(p) if p.isdigit() else 0
                                     for p in d.parent.name.split(".")])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user() -> list[str]:
    """The prefix that runs a command as a user PostgreSQL accepts (not root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        pytest.fail("running as root, PostgreSQL needs `runuser` to run as the postgres user",
                    pytrace=False)
    try:
        import pwd
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root, PostgreSQL must run as the `postgres` user, which does "
                    "not exist: " + INSTALL_HINT, pytrace=False)
    return ["runuser", "-u", "postgres", "--"]


def _run(cmd: list[str], cwd: Path, what: str) -> None:
    result = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=120)
    if result.returncode != 0:
        pytest.fail(f"{what} failed (exit {result.returncode}): {' '.join(cmd)}\n"
                    f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}", pytrace=False)


@pytest.fixture(scope="session")
def postgres_server():
    bindir = postgres_bin()
    prefix = _as_server_user()
    folder = Path(tempfile.mkdtemp(prefix="opwb-pg-"))  # 0700, short path for the socket
    data, log, pwfile = folder / "data", folder / "server.log", folder / "pw"
    password = secrets.token_hex(16)
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if prefix:
        import pwd
        owner = pwd.getpwnam("postgres")
        for path in (folder, pwfile):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    started = False
    try:
        _run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={pwfile}",
              "--auth-local=trust", "--auth-host=scram-sha-256", "--no-locale", "-E", "UTF8",
              "--no-sync"], folder, "initdb")
        for attempt in range(3):
            port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off")
            result = subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l",
                                     str(log), "-w", "-t", "60", "-o", options, "start"],
                                    cwd=folder, stdin=subprocess.DEVNULL, capture_output=True,
                                    text=True, timeout=120)
            if result.returncode == 0:
                started = True
                break
        if not started:
            text = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"pg_ctl start failed three times:\n{result.stdout}\n{result.stderr}\n"
                        f"{text}", pytrace=False)
        yield f"postgresql+psycopg://{USER}:{password}@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast",
                            "-w", "stop"], cwd=folder, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def _admin(server_url: str):
    import sqlalchemy as sa
    return sa.create_engine(server_url, isolation_level="AUTOCOMMIT",
                            poolclass=sa.pool.NullPool)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs.sqlite'}"
        return
    import sqlalchemy as sa
    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = _admin(server)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(server).set(database=name).render_as_string(
            hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
