"""The run store: every recorded run of opwb in one database, SQLite or PostgreSQL.

A bank reruns opwb every quarter. Each run is recorded here — the case's name, the SHA-256
of each input file, the settings, the versions, the fitted model sets, the figures with
their standard errors and the claims per policy and year — so that runs can be listed,
compared figure by figure and a model set frozen and used again (a case's
``models = "run:LABEL"``). **No loss record is ever written**: a run holds hashes of the
loss file, never its rows, and :meth:`RunStore.record` refuses a run that carries rows
shaped like loss events.

Where: :func:`open_store` takes a file path (an SQLite file, created mode 0600, its missing
folders mode 0700) or an SQLAlchemy URL (``sqlite:///...``,
``postgresql+psycopg://user@host:port/db``). Tables are SQLAlchemy Core, portable to both
(:mod:`opwb.data.runschema`: both schemas and the upgrade; :mod:`opwb.data.runrows`: the
checks and shapes of a run's rows).

Schema (version :data:`SCHEMA_VERSION` = 2, built by :func:`schema_v2`)::

    opwb_schema(version)                              one row: the marker and the version
    runs(run_id PK, label UNIQUE NULL, recorded_at, case_name, case_hash, valuation_date,
         as_of, opwb_version, doc)
    run_files(run_id, role, name, sha256)             the case's input files by role
    run_models(run_id, base, doc)                     a model set per base ("True", "False")
    run_figures(run_id, base, scope, item, figure, value, se)   index on run_id
    run_claims(run_id, policy, year, claims, amount)

``runs.doc`` is the run dict as given, JSON, without its ``models`` (they are in
``run_models``): :meth:`RunStore.load` returns exactly what was recorded (NaN and infinite
floats are JSON ``NaN``/``Infinity``, so a figure's NaN stays NaN and ``None`` stays None).
``run_files``, ``run_figures`` and ``run_claims`` are its queryable copies; in them a NaN is
stored as NULL (SQLite cannot store NaN) and read back as NaN, while ±inf is stored and read
back as ±inf on both back ends. ``recorded_at`` is stored as UTC ISO text of fixed width, so
runs sort by time whatever offset they were recorded with; ``valuation_date`` and ``as_of``
(the case's ``observation[1]``) are ISO dates as given.

The first schema (version 1, :func:`schema_v1`, kept for the upgrade only) had no
``runs.as_of``, no ``run_figures.base`` (it recorded the base with the reference incidents
only), no ``run_files`` and no ``run_claims``. Opening a version-1 store upgrades it in one
transaction: ``as_of`` from each doc's ``case.observation[1]``, ``base = "True"`` for every
figure (also in the docs), ``run_files`` from each doc's ``case.files``, ``run_claims`` from
each doc's ``claims``. The DDL goes through alembic's ``Operations`` on a
``MigrationContext`` of the open connection — a well-kept library rather than home-made DDL:
``add_column`` is portable, and making ``run_figures.base`` NOT NULL needs SQLite's
"move and copy" (batch mode), which alembic does and PostgreSQL does not need. A store of
a newer version, or a database with tables but no ``opwb_schema``, is refused with a
:class:`RunStoreError` naming the URL (password masked) and the versions; nothing is read
or written then.

Concurrency: every write is one transaction. SQLite: a busy timeout of
:data:`BUSY_TIMEOUT` seconds and ``BEGIN IMMEDIATE`` for writes (pysqlite's own BEGIN is
switched off by SQLAlchemy's documented recipe, "Serializable isolation / Savepoints /
Transactional DDL"), so two processes recording at once both land, one after the other.
PostgreSQL: ordinary transactions, and an advisory lock while a schema is created or
upgraded. A process killed in the middle of :meth:`RunStore.record` leaves no partial run:
the database rolls the transaction back.

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder, open_store(f"{folder}/runs.sqlite") as store:
...     run_id = store.record({"label": "2007Q1", "recorded_at": "2007-04-02T09:00:00+09:00",
...                            "case": {"name": "예시은행", "hash": "ab12"},
...                            "versions": {"opwb": "0.1.0"}, "models": {},
...                            "figures": [{"base": "True", "scope": "total", "item": "gross",
...                                         "figure": "var", "value": 1.5e11, "se": 2e9}]})
...     print(store.load("run:2007Q1")["figures"][0]["value"], store.list_runs()["label"].tolist())
150000000000.0 ['2007Q1']
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from opwb.data.errors import RunStoreError
from opwb.data.runrows import RUN_PREFIX, head_row, prepare_run
from opwb.data.runschema import (CLAIMS, FIGURES, FILES, MODELS, RUNS, SCHEMA_VERSION,
                                 schema_v1, schema_v2, upgrade_v1_to_v2)

__all__ = ["SCHEMA_VERSION", "RunStore", "RunStoreError", "open_store", "schema_v1",
           "schema_v2", "RUN_PREFIX", "BUSY_TIMEOUT", "LIST_COLUMNS", "FIGURE_COLUMNS"]

BUSY_TIMEOUT = 60.0
"""Seconds an SQLite writer waits for another process's transaction to end."""
CHUNK_ROWS = 500
"""Rows written per statement; ``progress`` is told after each chunk."""
LIST_COLUMNS = ["run_id", "label", "recorded_at", "case_name", "case_hash", "valuation_date",
                "as_of", "opwb_version"]
FIGURE_COLUMNS = ["run_id", "label", "recorded_at", "valuation_date", "base", "scope", "item",
                  "figure", "value", "se"]
_LOCK_KEY = 0x6F707762  # PostgreSQL advisory lock while the schema is made ("opwb")


# ------------------------------------------------------------------------------ where
def _url_of(where: str | os.PathLike) -> sa.engine.URL:
    """The SQLAlchemy URL of a path or URL text; an SQLite file is created mode 0600."""
    if isinstance(where, os.PathLike) or (isinstance(where, str) and "://" not in where):
        path = Path(os.path.abspath(Path(where).expanduser()))
        url = sa.engine.URL.create("sqlite", database=str(path))
    elif isinstance(where, str):
        try:
            url = sa.engine.make_url(where)
        except sa.exc.ArgumentError as exc:
            raise RunStoreError(f"not a run store path or database URL: {where!r} ({exc})") \
                from None
    else:
        raise RunStoreError(f"a run store is a RunStore, a file path or a database URL, "
                            f"got {type(where).__name__}")
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        _private_file(Path(url.database))
    return url


def _private_file(path: Path) -> None:
    """Create an empty SQLite file readable by its owner only (missing folders 0700)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another process made it first


def _engine(url: sa.engine.URL) -> sa.Engine:
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, poolclass=sa.pool.NullPool)
    memory = url.database in (None, "", ":memory:")
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT,
                                                 "check_same_thread": not memory},
                              poolclass=sa.pool.StaticPool if memory else sa.pool.NullPool)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None  # our own BEGIN below (SQLAlchemy's recipe)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        write = conn.get_execution_options().get("opwb_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def open_store(where: "RunStore | str | os.PathLike") -> "RunStore":
    """The run store at ``where``, its schema created or upgraded as needed.

    Parameters
    ----------
    where : RunStore, str or path-like
        A :class:`RunStore` (returned as is); a file path (no ``"://"`` in it): an SQLite
        file, created (mode 0600) when missing; or an SQLAlchemy URL, e.g.
        ``"sqlite:////srv/opwb/runs.sqlite"`` or
        ``"postgresql+psycopg://opwb@127.0.0.1:5432/opwb"``.

    Returns
    -------
    RunStore

    Raises
    ------
    RunStoreError
        The database cannot be reached or read; it has tables but no opwb schema marker;
        its schema is newer than :data:`SCHEMA_VERSION`. The message names the URL with
        its password masked.
    """
    if isinstance(where, RunStore):
        return where
    return RunStore(where)


class RunStore:
    """A database of recorded runs (see the module docstring). Use :func:`open_store`.

    Attributes
    ----------
    url : str
        The database's URL, password masked.
    """

    def __init__(self, where: str | os.PathLike) -> None:
        url = _url_of(where)
        self.url: str = url.render_as_string(hide_password=True)
        try:
            self._engine = _engine(url)
        except Exception as exc:  # no driver (psycopg), bad arguments
            raise RunStoreError(f"cannot open the run store {self.url}: {exc}") from None
        try:
            with self._db_errors("open"):
                self._ensure_schema()
        except BaseException:
            self._engine.dispose()
            raise

    def __repr__(self) -> str:
        return f"RunStore({self.url!r})"

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the database connections (the store can be opened again)."""
        self._engine.dispose()

    # -- transactions --------------------------------------------------------------------
    @contextmanager
    def _db_errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except sa.exc.DBAPIError as exc:
            raise RunStoreError(f"run store {self.url}: cannot {what}: "
                                f"{getattr(exc, 'orig', exc)}") from exc

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        with self._db_errors("read"), self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        with self._db_errors("write"), self._engine.connect() as conn:
            conn.execution_options(opwb_write=True)
            with conn.begin():
                yield conn

    # -- the schema ----------------------------------------------------------------------
    def _version(self, conn: sa.Connection) -> int | None:
        """The store's schema version; None for an empty database."""
        names = sa.inspect(conn).get_table_names()
        if "opwb_schema" not in names:
            if names:
                shown = ", ".join(sorted(names)[:8]) + (", ..." if len(names) > 8 else "")
                raise RunStoreError(
                    f"{self.url} holds tables ({shown}) but no opwb_schema table: it is not "
                    f"an opwb run store, and opwb neither reads nor writes it (name an empty "
                    f"database or a new file)")
            return None
        rows = conn.execute(sa.text("SELECT version FROM opwb_schema")).scalars().all()
        if len(rows) != 1 or not isinstance(rows[0], int) or rows[0] < 1:
            raise RunStoreError(f"{self.url}: its opwb_schema table should hold one schema "
                                f"version, holds {rows!r}; not a run store opwb can read")
        if rows[0] > SCHEMA_VERSION:
            raise RunStoreError(
                f"{self.url} is a run store of schema version {rows[0]}, newer than this "
                f"opwb's {SCHEMA_VERSION}: a newer opwb wrote it. Upgrade opwb to use it "
                f"(opwb never downgrades a store)")
        return rows[0]

    def _ensure_schema(self) -> None:
        with self._reading() as conn:
            if self._version(conn) == SCHEMA_VERSION:
                return
        with self._writing() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            version = self._version(conn)  # again: another process may have done it
            if version is None:
                schema_v2().create_all(conn)
                conn.execute(sa.text("INSERT INTO opwb_schema (version) VALUES (:v)"),
                             {"v": SCHEMA_VERSION})
            elif version == 1:
                upgrade_v1_to_v2(conn)

    # -- writing ---------------------------------------------------------------------------
    def record(self, run: Mapping[str, Any], *,
               progress: Callable[[float, str], None] | None = None) -> int:
        """Record one run, all or nothing (one transaction).

        Parameters
        ----------
        run : dict
            ``label`` (text unique in the store, or None), ``recorded_at`` (ISO date-time
            with its offset; default: now, UTC), ``case`` (``name``, ``hash``, ``files``:
            ``{role: {"name", "sha256"}}``, ``observation``, ``valuation_date``, ...),
            ``versions`` (``opwb``, ...), ``models`` (``{"True": model set doc, "False":
            ...}``), ``figures`` (dicts of ``base``, ``scope``, ``item``, ``figure``,
            ``value``, ``se``), ``claims`` (dicts of ``policy``, ``year``, ``claims``,
            ``amount``) and any other JSON-able keys. Floats may be NaN or ±inf.
        progress : callable ``(fraction, text)``, optional
            Told after each chunk of rows written, inside the transaction.

        Returns
        -------
        int
            The new run's id.

        Raises
        ------
        RunStoreError
            A label already in the store (nothing is written), a label starting with
            ``"run:"``, a run that is not JSON-able or holds rows shaped like loss events,
            malformed figures, claims or files, or a database error.
        """
        doc, rows = prepare_run(run)
        label = doc.get("label")
        tell = progress or (lambda fraction, text: None)
        total = 1 + sum(len(v) for v in rows.values())
        try:
            with self._writing() as conn:
                if label is not None and conn.execute(
                        sa.select(RUNS.c.run_id).where(RUNS.c.label == label)).first():
                    raise self._duplicate(label)
                head = head_row(doc)
                run_id = conn.execute(RUNS.insert().values(**head)).inserted_primary_key[0]
                done = 1
                tell(done / total, "run")
                for table, what in ((FILES, "files"), (MODELS, "models"),
                                    (FIGURES, "figures"), (CLAIMS, "claims")):
                    items = rows[what]
                    for start in range(0, len(items), CHUNK_ROWS):
                        chunk = items[start:start + CHUNK_ROWS]
                        conn.execute(table.insert(), [dict(r, run_id=run_id) for r in chunk])
                        done += len(chunk)
                        tell(done / total, what)
        except RunStoreError as exc:
            cause = exc.__cause__
            if (isinstance(cause, sa.exc.IntegrityError) and label is not None
                    and "label" in str(cause.orig).lower()):
                raise self._duplicate(label) from None  # another process took the label
            raise
        return int(run_id)

    def _duplicate(self, label: str) -> RunStoreError:
        return RunStoreError(f"run store {self.url} already has a run labelled {label!r}: "
                             f"labels are unique (nothing was recorded)")

    # -- reading ---------------------------------------------------------------------------
    def list_runs(self) -> pd.DataFrame:
        """Every run, oldest first: one row per run, columns :data:`LIST_COLUMNS`
        (``recorded_at`` a UTC ``Timestamp``, dates ISO text)."""
        cols = [RUNS.c[c] for c in LIST_COLUMNS]
        with self._reading() as conn:
            rows = conn.execute(sa.select(*cols).order_by(RUNS.c.recorded_at,
                                                          RUNS.c.run_id)).all()
        out = pd.DataFrame([tuple(r) for r in rows], columns=LIST_COLUMNS)
        out["run_id"] = out["run_id"].astype("int64")
        out["recorded_at"] = pd.to_datetime(out["recorded_at"], utc=True, format="ISO8601")
        return out

    def _run_id(self, conn: sa.Connection, ref: int | str) -> int:
        if isinstance(ref, bool) or not isinstance(ref, (int, str)):
            raise RunStoreError(f"a run is named by its id (int) or label (str), got {ref!r}")
        if isinstance(ref, str):
            label = ref[len(RUN_PREFIX):] if ref.startswith(RUN_PREFIX) else ref
            where = RUNS.c.label == label
        else:
            where = RUNS.c.run_id == int(ref)
        found = conn.execute(sa.select(RUNS.c.run_id).where(where)).scalar()
        if found is None:
            labels = conn.execute(sa.select(RUNS.c.label).where(RUNS.c.label.is_not(None))
                                  .order_by(RUNS.c.recorded_at, RUNS.c.run_id)).scalars().all()
            count = conn.execute(sa.select(sa.func.count()).select_from(RUNS)).scalar()
            raise RunStoreError(f"run store {self.url} has no run {ref!r}; its {count} run(s) "
                                f"are labelled: {', '.join(labels) or '(none)'}")
        return int(found)

    def load(self, ref: int | str) -> dict:
        """The run ``ref`` as it was recorded, with ``"run_id"`` and its ``"models"``.

        Parameters
        ----------
        ref : int or str
            The run's id, its label, or ``"run:LABEL"``.

        Returns
        -------
        dict

        Raises
        ------
        RunStoreError
            No such run (the message lists the labels present).
        """
        with self._reading() as conn:
            run_id = self._run_id(conn, ref)
            doc = conn.execute(sa.select(RUNS.c.doc).where(RUNS.c.run_id == run_id)).scalar()
            models = self._model_docs(conn, run_id)
        run = json.loads(doc)
        run["models"] = models
        run["run_id"] = run_id
        return run

    @staticmethod
    def _model_docs(conn: sa.Connection, run_id: int) -> dict[str, dict]:
        found = conn.execute(sa.select(MODELS.c.base, MODELS.c.doc)
                             .where(MODELS.c.run_id == run_id)).all()
        return {base: json.loads(text) for base, text in found}

    def model_sets(self, ref: int | str) -> dict[str, dict]:
        """The model sets of run ``ref`` by base (``{"True": doc, "False": doc}``), as
        given to :meth:`record` (without reading the run's figures).

        Raises
        ------
        RunStoreError
            No such run (the message lists the labels present).
        """
        with self._reading() as conn:
            return self._model_docs(conn, self._run_id(conn, ref))

    def model_set_doc(self, ref: int | str, base: str | bool) -> dict:
        """The model set of run ``ref`` for ``base`` (``"True"``: with the reference
        incidents, ``"False"``: without), as given to :meth:`record`.

        Raises
        ------
        RunStoreError
            No such run, or the run has no model set for ``base`` (the message lists those
            it has).
        """
        base = str(base)
        found = self.model_sets(ref)
        if base not in found:
            raise RunStoreError(f"run {ref!r} of {self.url} has no model set for base "
                                f"{base!r}; it has: {', '.join(sorted(found)) or '(none)'}")
        return found[base]

    def figures(self, refs: Iterable[int | str] | int | str | None = None) -> pd.DataFrame:
        """The figures of runs ``refs`` (default: every run) as one long table.

        Columns :data:`FIGURE_COLUMNS`; rows by run (oldest first), then base, scope, item
        and figure. ``value`` and ``se`` are floats: NaN where none was recorded, ±inf as
        recorded.

        Raises
        ------
        RunStoreError
            A run that is not in the store.
        """
        if isinstance(refs, (int, str)):
            refs = [refs]
        q = (sa.select(RUNS.c.run_id, RUNS.c.label, RUNS.c.recorded_at, RUNS.c.valuation_date,
                       FIGURES.c.base, FIGURES.c.scope, FIGURES.c.item, FIGURES.c.figure,
                       FIGURES.c.value, FIGURES.c.se)
             .join(FIGURES, FIGURES.c.run_id == RUNS.c.run_id)
             .order_by(RUNS.c.recorded_at, RUNS.c.run_id, FIGURES.c.base, FIGURES.c.scope,
                       FIGURES.c.item, FIGURES.c.figure))
        with self._reading() as conn:
            if refs is not None:
                q = q.where(RUNS.c.run_id.in_([self._run_id(conn, r) for r in refs]))
            rows = conn.execute(q).all()
        out = pd.DataFrame([tuple(r) for r in rows], columns=FIGURE_COLUMNS)
        out["run_id"] = out["run_id"].astype("int64")
        out["recorded_at"] = pd.to_datetime(out["recorded_at"], utc=True, format="ISO8601")
        for col in ("value", "se"):
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
        return out
