"""The run store's schema: the current one (version 2), the first one, and the upgrade.

Tables are SQLAlchemy Core, portable to SQLite and PostgreSQL; :mod:`opwb.data.runstore`
describes them and uses them. :func:`schema_v1` is the historical DDL of the first schema,
kept only to upgrade such stores (and to test that upgrade); :func:`upgrade_v1_to_v2` runs
inside the transaction that :class:`opwb.data.runstore.RunStore` opens, with alembic's
``Operations`` for the DDL (portable ``add_column``; SQLite's "move and copy" batch mode to
make ``run_figures.base`` NOT NULL, which SQLite's ALTER TABLE cannot do).
"""
from __future__ import annotations

import json
from collections.abc import Mapping

import sqlalchemy as sa

from opwb.data.errors import RunStoreError
from opwb.data.runrows import as_of, claim_rows, file_rows, utc_text

__all__ = ["SCHEMA_VERSION", "schema_v1", "schema_v2", "upgrade_v1_to_v2", "RUNS", "FILES",
           "MODELS", "FIGURES", "CLAIMS"]

SCHEMA_VERSION = 2
"""The schema this opwb writes (older stores are upgraded, newer ones refused)."""


def _common(md: sa.MetaData, *, v2: bool) -> None:
    sa.Table("opwb_schema", md, sa.Column("version", sa.Integer, nullable=False))
    extra = [sa.Column("as_of", sa.Text)] if v2 else []
    sa.Table("runs", md,
             sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
             sa.Column("label", sa.Text, unique=True, nullable=True),
             sa.Column("recorded_at", sa.Text, nullable=False),
             sa.Column("case_name", sa.Text), sa.Column("case_hash", sa.Text),
             sa.Column("valuation_date", sa.Text), *extra,
             sa.Column("opwb_version", sa.Text),
             sa.Column("doc", sa.Text, nullable=False), sqlite_autoincrement=True)
    sa.Table("run_models", md,
             sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.run_id"), primary_key=True),
             sa.Column("base", sa.Text, primary_key=True),
             sa.Column("doc", sa.Text, nullable=False))


def schema_v1() -> sa.MetaData:
    """The first schema (version 1), as it was: kept to upgrade such stores and test it.

    ``runs`` without ``as_of``; ``run_models``; ``run_figures`` without ``base``; no
    ``run_files``, no ``run_claims``. ``runs.doc`` held the run without its models.
    """
    md = sa.MetaData()
    _common(md, v2=False)
    sa.Table("run_figures", md,
             sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.run_id"), nullable=False),
             sa.Column("scope", sa.Text, nullable=False), sa.Column("item", sa.Text,
                                                                    nullable=False),
             sa.Column("figure", sa.Text, nullable=False),
             sa.Column("value", sa.Float(53)), sa.Column("se", sa.Float(53)))
    return md


def schema_v2() -> sa.MetaData:
    """The current schema (version 2; see the module docstring)."""
    md = sa.MetaData()
    _common(md, v2=True)
    sa.Table("run_files", md,
             sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.run_id"), primary_key=True),
             sa.Column("role", sa.Text, primary_key=True),
             sa.Column("name", sa.Text), sa.Column("sha256", sa.Text))
    sa.Table("run_figures", md,
             sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.run_id"), nullable=False),
             sa.Column("scope", sa.Text, nullable=False), sa.Column("item", sa.Text,
                                                                    nullable=False),
             sa.Column("figure", sa.Text, nullable=False),
             sa.Column("value", sa.Float(53)), sa.Column("se", sa.Float(53)),
             sa.Column("base", sa.Text, nullable=False),
             sa.Index("ix_run_figures_run_id", "run_id"))
    sa.Table("run_claims", md,
             sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.run_id"), nullable=False),
             sa.Column("policy", sa.Text, nullable=False), sa.Column("year", sa.Integer),
             sa.Column("claims", sa.Integer), sa.Column("amount", sa.Float(53)),
             sa.Index("ix_run_claims_run_id", "run_id"))
    return md


_T = schema_v2().tables
RUNS, FILES, MODELS, FIGURES, CLAIMS = (_T["runs"], _T["run_files"], _T["run_models"],
                                        _T["run_figures"], _T["run_claims"])


# ------------------------------------------------------------------------------ the upgrade
def upgrade_v1_to_v2(conn: sa.Connection) -> None:
    """Upgrade a version-1 store in the open transaction (see the module docstring)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    op = Operations(MigrationContext.configure(connection=conn))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("as_of", sa.Text))
    with op.batch_alter_table("run_figures") as batch:
        batch.add_column(sa.Column("base", sa.Text))
    FILES.create(conn)
    CLAIMS.create(conn)
    for run_id, text, recorded in conn.execute(
            sa.select(RUNS.c.run_id, RUNS.c.doc, RUNS.c.recorded_at)).all():
        try:
            _upgrade_run(conn, run_id, json.loads(text), recorded)
        except (ValueError, TypeError) as exc:
            raise RunStoreError(f"cannot upgrade run {run_id} of the first schema: {exc}") \
                from None
    conn.execute(FIGURES.update().where(FIGURES.c.base.is_(None)).values(base="True"))
    with op.batch_alter_table("run_figures") as batch:
        batch.alter_column("base", existing_type=sa.Text, nullable=False)
    names = {ix["name"] for ix in sa.inspect(conn).get_indexes("run_figures")}
    for index in FIGURES.indexes:
        if index.name not in names:
            index.create(conn)
    conn.execute(sa.text("UPDATE opwb_schema SET version = :v"), {"v": SCHEMA_VERSION})


def _upgrade_run(conn: sa.Connection, run_id: int, doc: dict, recorded: str) -> None:
    """One run of a version-1 store: its doc's figures get their base, its ``as_of``,
    files and claims are filled, and its time is rewritten as fixed-width UTC text."""
    for f in doc.get("figures") or []:
        if isinstance(f, dict):
            f.setdefault("base", "True")
    case = doc.get("case") if isinstance(doc.get("case"), Mapping) else {}
    try:
        recorded = utc_text(recorded)
    except ValueError:
        pass  # kept as it was
    conn.execute(RUNS.update().where(RUNS.c.run_id == run_id).values(
        recorded_at=recorded, as_of=as_of(case),
        doc=json.dumps(doc, allow_nan=True, ensure_ascii=False)))
    for table, rows in ((FILES, file_rows(case)), (CLAIMS, claim_rows(doc.get("claims")))):
        if rows:
            conn.execute(table.insert(), [dict(r, run_id=run_id) for r in rows])
