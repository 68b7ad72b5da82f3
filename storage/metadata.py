"""The one `MetaData` every table is defined on, with stable constraint names."""

from __future__ import annotations

from sqlalchemy import MetaData

__all__ = ["GROUPS", "metadata"]

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite keeps a rowid table in insertion order. For the tables keyed by pseudonym or
# response id (respondents: first contact; responses: survey start) that order would tell
# who started when and so let someone with the database file rank-match pseudonyms to
# responses. Those tables are WITHOUT ROWID (`sqlite_with_rowid=False`): stored in primary
# key order instead, and those keys are random (HMAC pseudonyms, random response ids).
# PostgreSQL's heap has the same weakness: storage.anonymity rewrites it in key order.

# The SQL list of respondent groups, for CHECK constraints.
GROUPS = "('internal', 'external', 'expert')"
