"""open submissions by deadline: a partial index for the deadline job

Revision ID: 0017
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0013'
branch_labels = None
depends_on = None

OPEN_SQL = "submitted_at IS NULL"


def upgrade():
    # The plain deadline index holds every submission ever made; the deadline job only ever
    # looks for open ones, so a partial index replaces it.
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_deadline_at')
        batch_op.create_index('ix_submission_open', ['deadline_at'], unique=False,
                              sqlite_where=sa.text(OPEN_SQL), postgresql_where=sa.text(OPEN_SQL))


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index('ix_submission_open', sqlite_where=sa.text(OPEN_SQL),
                            postgresql_where=sa.text(OPEN_SQL))
        batch_op.create_index('ix_submission_deadline_at', ['deadline_at'], unique=False)
