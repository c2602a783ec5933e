"""campaign time zone: the zone a campaign's dates mean and its deadlines are shown in

Revision ID: 0015
Revises: 0017
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    # Existing campaigns were created on Moscow time, the company's zone.
    with op.batch_alter_table('campaign') as batch:
        batch.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False,
                                   server_default='Europe/Moscow'))


def downgrade():
    with op.batch_alter_table('campaign') as batch:
        batch.drop_column('time_zone')
