"""PostgreSQL modules: ``postgresql_query`` and ``postgresql_db``, through the client tools on the host."""

from titan_ops.modules.postgresql.db import PostgresqlDb
from titan_ops.modules.postgresql.query import PostgresqlQuery

__all__ = ["PostgresqlDb", "PostgresqlQuery"]
