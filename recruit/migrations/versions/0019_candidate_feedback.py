"""candidate feedback: a comment for the candidate beside the coordinators' note, hiding it,
feedback per stage (on by default), a minimum pool per campaign, first openings, and the
stage statistics the feedback pages read

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

import recruit.db

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('candidate_comment', sa.Text(), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('candidate_comment_hidden_at', recruit.db.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('candidate_comment_hidden_by_id', sa.Integer(),
                                      nullable=True))
        batch_op.create_foreign_key(op.f('fk_review_candidate_comment_hidden_by_id_user'),
                                    'user', ['candidate_comment_hidden_by_id'], ['id'],
                                    ondelete='SET NULL')

    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_enabled', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
        batch_op.add_column(sa.Column('results_version', sa.Integer(), server_default='0',
                                      nullable=False))

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_min_pool', sa.Integer(), server_default='20',
                                      nullable=False))

    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feedback_opened_at', recruit.db.UTCDateTime(),
                                      nullable=True))

    op.create_table(
        'stage_feedback',
        sa.Column('stage_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('computed_at', recruit.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['stage_id'], ['stage.id'],
                                name=op.f('fk_stage_feedback_stage_id_stage'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('stage_id', name=op.f('pk_stage_feedback')),
    )


def downgrade():
    op.drop_table('stage_feedback')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('feedback_opened_at')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('feedback_min_pool')
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.drop_column('results_version')
        batch_op.drop_column('feedback_enabled')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_review_candidate_comment_hidden_by_id_user'),
                                 type_='foreignkey')
        batch_op.drop_column('candidate_comment_hidden_by_id')
        batch_op.drop_column('candidate_comment_hidden_at')
        batch_op.drop_column('candidate_comment')
