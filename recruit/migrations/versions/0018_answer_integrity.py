"""answer integrity: signatures, LSH bands and similar pairs; paste counters; flag settings

Revision ID: 0018
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0016'
branch_labels = None
depends_on = None

UNCOMPARED_SQL = "compared = false"


def upgrade():
    op.create_table(
        'answer_signature',
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('scheme', sa.Integer(), nullable=False),
        sa.Column('minhash', sa.LargeBinary(), nullable=False),
        sa.Column('shingles', sa.LargeBinary(), nullable=False),
        sa.Column('compared', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], ondelete='CASCADE',
                                name=op.f('fk_answer_signature_answer_id_answer')),
        sa.ForeignKeyConstraint(['task_id'], ['task.id'], ondelete='CASCADE',
                                name=op.f('fk_answer_signature_task_id_task')),
        sa.PrimaryKeyConstraint('answer_id', name=op.f('pk_answer_signature')),
    )
    op.create_index(op.f('ix_answer_signature_task_id'), 'answer_signature', ['task_id'])
    op.create_index('ix_answer_signature_uncompared', 'answer_signature', ['answer_id'],
                    sqlite_where=sa.text(UNCOMPARED_SQL), postgresql_where=sa.text(UNCOMPARED_SQL))
    op.create_table(
        'answer_band',
        sa.Column('key', sa.BigInteger(), nullable=False),
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', 'answer_id', name=op.f('pk_answer_band')),
        sqlite_with_rowid=False,
    )
    op.create_table(
        'similar_pair',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('other_answer_id', sa.Integer(), nullable=False),
        sa.Column('estimated', sa.Float(), nullable=False),
        sa.Column('similarity', sa.Float(), nullable=False),
        sa.Column('found_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('answer_id < other_answer_id', name=op.f('ck_similar_pair_ordered')),
        sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], ondelete='CASCADE',
                                name=op.f('fk_similar_pair_answer_id_answer')),
        sa.ForeignKeyConstraint(['other_answer_id'], ['answer.id'], ondelete='CASCADE',
                                name=op.f('fk_similar_pair_other_answer_id_answer')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_similar_pair')),
        sa.UniqueConstraint('answer_id', 'other_answer_id',
                            name=op.f('uq_similar_pair_answer_id_other_answer_id')),
    )
    op.create_index(op.f('ix_similar_pair_other_answer_id'), 'similar_pair',
                    ['other_answer_id'])
    with op.batch_alter_table('campaign') as batch:
        batch.add_column(sa.Column('similarity_threshold', sa.Integer(), server_default='35',
                                   nullable=False))
        batch.add_column(sa.Column('paste_threshold', sa.Integer(), server_default='50',
                                   nullable=False))
        batch.add_column(sa.Column('compare_earlier', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
        batch.create_check_constraint('similarity_threshold_range',
                                      'similarity_threshold BETWEEN 25 AND 100')
        batch.create_check_constraint('paste_threshold_range',
                                      'paste_threshold BETWEEN 10 AND 100')
    with op.batch_alter_table('submission') as batch:
        batch.add_column(sa.Column('similarity_max', sa.Float(), nullable=True))
        batch.add_column(sa.Column('pasted_share', sa.Float(), nullable=True))
    with op.batch_alter_table('answer') as batch:
        batch.add_column(sa.Column('typed_chars', sa.Integer(), server_default='0',
                                   nullable=False))
        batch.add_column(sa.Column('pasted_chars', sa.Integer(), server_default='0',
                                   nullable=False))
        batch.add_column(sa.Column('longest_paste', sa.Integer(), server_default='0',
                                   nullable=False))
    with op.batch_alter_table('decision') as batch:
        batch.add_column(sa.Column('flags', sa.JSON(), server_default='[]', nullable=False))


def downgrade():
    with op.batch_alter_table('decision') as batch:
        batch.drop_column('flags')
    with op.batch_alter_table('answer') as batch:
        batch.drop_column('longest_paste')
        batch.drop_column('pasted_chars')
        batch.drop_column('typed_chars')
    with op.batch_alter_table('submission') as batch:
        batch.drop_column('pasted_share')
        batch.drop_column('similarity_max')
    with op.batch_alter_table('campaign') as batch:
        batch.drop_constraint('paste_threshold_range', type_='check')
        batch.drop_constraint('similarity_threshold_range', type_='check')
        batch.drop_column('compare_earlier')
        batch.drop_column('paste_threshold')
        batch.drop_column('similarity_threshold')
    op.drop_table('similar_pair')
    op.drop_table('answer_band')
    op.drop_index('ix_answer_signature_uncompared', table_name='answer_signature',
                  sqlite_where=sa.text(UNCOMPARED_SQL), postgresql_where=sa.text(UNCOMPARED_SQL))
    op.drop_table('answer_signature')
