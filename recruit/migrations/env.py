"""Alembic environment: runs on the connection handed in by recruit.migrate."""

from alembic import context

import recruit.models  # noqa: F401 - registers every table
from recruit.db import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `recruit db upgrade`, which supplies a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    compare_type=True,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
