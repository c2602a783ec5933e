#!/usr/bin/env bash
# Until the first release, the schema lives in one initial migration: regenerate it from the
# models after changing them. (After a release, add a new revision instead.)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f recruit/migrations/versions/0001_initial_schema.py
.venv/bin/python - "$tmp" <<'PY'
import sys
from alembic import command
from recruit.db import make_engine
from recruit.migrate import alembic_config
engine = make_engine(f"sqlite:///{sys.argv[1]}/gen.sqlite3")
with engine.begin() as conn:
    command.revision(alembic_config(conn), message="initial schema", autogenerate=True,
                     rev_id="0001")
PY
sed -i "s/server_default=sa.text('0')/server_default=sa.false()/; s/server_default=sa.text('1')/server_default=sa.true()/" \
  recruit/migrations/versions/0001_initial_schema.py
sed -i '/^Create Date:/d' recruit/migrations/versions/0001_initial_schema.py
rm -rf "$tmp"
echo "regenerated recruit/migrations/versions/0001_initial_schema.py"
