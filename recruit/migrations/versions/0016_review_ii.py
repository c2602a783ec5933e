"""review II: draw keys for uniform hand-out, put back, calibration answers, campaign settings

Revision ID: 0016
Revises: 0015

On SQLite the batch operations copy a table; recruit.migrate.upgrade runs migrations with
foreign keys off so the copy does not cascade into the rows that reference it.
"""
import random

import sqlalchemy as sa
from alembic import op

import recruit.db

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

POOL = "check_status = 'released' AND reviews_wanted > reviews_done + reviews_leased"
OLD_STATUSES = "status IN ('leased', 'submitted', 'recused', 'expired')"
NEW_STATUSES = "status IN ('leased', 'submitted', 'recused', 'expired', 'returned')"


def _random_keys() -> None:
    """Give every existing answer an exponential draw key (memoryless steps from clock 0)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        step = random.SystemRandom()
        bind.connection.driver_connection.create_function(
            "recruit_exponential_step", 0, lambda: step.expovariate(1.0), deterministic=False)
        op.execute("UPDATE answer SET draw_key = recruit_exponential_step()")
    else:
        op.execute("UPDATE answer SET draw_key = -ln(1.0 - random())")


def _distinct_campaign_titles() -> None:
    """Waves of one track opened in the same month had the same title: number the later ones."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, title_en, title_ru FROM campaign ORDER BY opens_at, id")).all()

    def key(title: str) -> str:
        return " ".join(title.split()).casefold()

    taken_en = {key(en) for _, en, _ in rows}
    taken_ru = {key(ru) for _, _, ru in rows}
    seen_en: set[str] = set()
    seen_ru: set[str] = set()
    for campaign_id, en, ru in rows:
        if key(en) not in seen_en and key(ru) not in seen_ru:
            seen_en.add(key(en))
            seen_ru.add(key(ru))
            continue
        n = 2
        while (key(f"{en} (wave {n})") in taken_en | seen_en
               or key(f"{ru} (волна {n})") in taken_ru | seen_ru):
            n += 1
        en, ru = f"{en} (wave {n})", f"{ru} (волна {n})"
        bind.execute(sa.text("UPDATE campaign SET title_en = :en, title_ru = :ru WHERE id = :id"),
                     {"en": en, "ru": ru, "id": campaign_id})
        seen_en.add(key(en))
        seen_ru.add(key(ru))


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('draw_key', sa.Float(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('draw_base', sa.Float(), server_default='0', nullable=False))
        batch_op.alter_column('submission_id', existing_type=sa.INTEGER(), nullable=True)
        batch_op.drop_index('ix_answer_review_pool', sqlite_where=sa.text(POOL),
                            postgresql_where=sa.text(POOL))
    _random_keys()
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_index('ix_answer_review_pool',
                              ['task_id', 'draw_key', 'submission_id', 'token', 'check_status',
                               'reviews_wanted', 'reviews_done', 'reviews_leased'],
                              unique=False, sqlite_where=sa.text(POOL),
                              postgresql_where=sa.text(POOL))
        batch_op.create_index('ix_answer_draw_clock', ['task_id', 'draw_base'], unique=False)

    op.add_column('review_assignment', sa.Column('task_id', sa.Integer(), nullable=True))
    op.execute("UPDATE review_assignment SET task_id = (SELECT answer.task_id FROM answer "
               "WHERE answer.id = review_assignment.answer_id)")
    with op.batch_alter_table('review_assignment', schema=None) as batch_op:
        batch_op.alter_column('task_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(op.f('fk_review_assignment_task_id_task'), 'task',
                                    ['task_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_review_assignment_reviewer_task',
                              ['reviewer_id', 'task_id', 'status'], unique=False)
        batch_op.drop_constraint(op.f('ck_review_assignment_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_review_assignment_status'), sa.text(NEW_STATUSES))

    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calibration_rate', sa.Integer(), server_default='10',
                                      nullable=False))
        batch_op.add_column(sa.Column('calibration_bound', sa.Numeric(precision=3, scale=2),
                                      server_default='1.00', nullable=False))
    _distinct_campaign_titles()

    op.create_table(
        'calibration_answer',
        sa.Column('answer_id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('source_answer_id', sa.Integer(), nullable=True),
        sa.Column('reference', sa.JSON(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', recruit.db.UTCDateTime(), nullable=False),
        sa.Column('retired_at', recruit.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['answer_id'], ['answer.id'],
                                name=op.f('fk_calibration_answer_answer_id_answer'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id'],
                                name=op.f('fk_calibration_answer_created_by_id_user'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['task_id'], ['task.id'],
                                name=op.f('fk_calibration_answer_task_id_task'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['source_answer_id'], ['answer.id'],
                                name=op.f('fk_calibration_answer_source_answer_id_answer'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('answer_id', name=op.f('pk_calibration_answer')),
    )
    with op.batch_alter_table('calibration_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calibration_answer_source_answer_id'),
                              ['source_answer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calibration_answer_task_id'), ['task_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('calibration_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calibration_answer_task_id'))
        batch_op.drop_index(batch_op.f('ix_calibration_answer_source_answer_id'))
    op.drop_table('calibration_answer')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('calibration_bound')
        batch_op.drop_column('calibration_rate')
    op.execute("UPDATE review_assignment SET status = 'expired' WHERE status = 'returned'")
    with op.batch_alter_table('review_assignment', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_review_assignment_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_review_assignment_status'), sa.text(OLD_STATUSES))
        batch_op.drop_index('ix_review_assignment_reviewer_task')
        batch_op.drop_constraint(op.f('fk_review_assignment_task_id_task'), type_='foreignkey')
        batch_op.drop_column('task_id')
    # Calibration answers have no submission; they go before the column is NOT NULL again.
    op.execute("DELETE FROM answer WHERE submission_id IS NULL")
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_draw_clock')
        batch_op.drop_index('ix_answer_review_pool', sqlite_where=sa.text(POOL),
                            postgresql_where=sa.text(POOL))
        batch_op.alter_column('submission_id', existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column('draw_base')
        batch_op.drop_column('draw_key')
        batch_op.create_index('ix_answer_review_pool', ['task_id', 'token'], unique=False,
                              sqlite_where=sa.text(POOL), postgresql_where=sa.text(POOL))
