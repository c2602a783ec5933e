"""Each submission's stage result, stored beside it so a stage can be ranked from an index.

Ranking a stage by aggregating its reviews on every page view costs time in proportion to
the stage (seconds at 100,000 applicants). Instead each submission keeps its result as
``scoring.candidate_scores`` defines it. Any change that can move a result — a review
written, changed or removed, an answer's custodian check or wanted reviews changed, a bulk
update of reviews such as normalisation — marks the affected submissions stale
(``scores_at`` NULL), and :func:`refresh` recomputes the stale ones of a stage, in the
database, before it is shown or decided. Marking is a cheap update; the work happens once,
when someone looks.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from recruit.models import Answer, Review, Stage, Submission

# Answer columns that change a submission's result or flags; counters of reviews done
# and leased do not (the result counts Review rows itself).
_ANSWER_FIELDS = frozenset({"check_status", "reviews_wanted", "submission_id"})
_REVIEW_FIELDS = frozenset({"score_raw", "score_normalised", "answer_id"})


def _stale(submission_ids) -> sa.Update:
    return (sa.update(Submission.__table__)
            .where(Submission.__table__.c.id.in_(submission_ids))
            .values(scores_at=None))


def _stale_of(stage_id: int):
    return sa.and_(Submission.stage_id == stage_id, Submission.submitted_at.is_not(None),
                   Submission.scores_at.is_(None))


def refresh(db: Session, *, stage_id: int, now: datetime) -> None:
    """Recompute every stale submitted submission of a stage, in one UPDATE … FROM.

    The score is the mean over reviewed answers of each answer's mean review score
    (normalised, raw where not normalised yet), raw likewise; spread is the largest raw
    disagreement on any answer — ``scoring.candidate_scores`` word for word, which a test
    holds this to. Reviews missing: an answer with fewer reviews than it wants.
    """
    value = sa.func.coalesce(Review.score_normalised, Review.score_raw)
    per_answer = (
        sa.select(
            Submission.id.label("submission_id"),
            sa.func.avg(value).label("score"),
            sa.func.avg(Review.score_raw).label("raw"),
            (sa.func.max(Review.score_raw) - sa.func.min(Review.score_raw)).label("spread"),
            sa.func.count(Review.id).label("n"),
            sa.func.max(Answer.reviews_wanted).label("wanted"),
            sa.func.max(sa.case((Answer.check_status == "pending", 1), else_=0)).label("pending"),
        )
        .select_from(Submission)
        .outerjoin(Answer, Answer.submission_id == Submission.id)
        .outerjoin(Review, Review.answer_id == Answer.id)
        .where(_stale_of(stage_id))
        .group_by(Submission.id, Answer.id)
        .subquery("per_answer")
    )
    score = sa.func.avg(per_answer.c.score)
    results = (
        sa.select(
            per_answer.c.submission_id,
            score.label("score"),
            sa.func.avg(per_answer.c.raw).label("raw"),
            sa.func.coalesce(sa.func.max(per_answer.c.spread), 0.0).label("spread"),
            sa.func.coalesce(sa.func.sum(per_answer.c.n), 0).label("reviews"),
            sa.func.coalesce(sa.func.max(sa.case((per_answer.c.n < per_answer.c.wanted, 1),
                                                 else_=0)), 0).label("missing"),
            sa.func.coalesce(sa.func.max(per_answer.c.pending), 0).label("pending"),
            sa.func.coalesce(score, -1.0).label("rank_key"),
        )
        .group_by(per_answer.c.submission_id)
        .subquery("results")
    )
    table = Submission.__table__
    changed = db.execute(
        table.update().where(table.c.id == results.c.submission_id).values(
            score=results.c.score, score_raw=results.c.raw, score_spread=results.c.spread,
            reviews_count=results.c.reviews, reviews_missing=results.c.missing == 1,
            check_pending=results.c.pending == 1, rank_key=results.c.rank_key,
            scores_at=now)
    ).rowcount
    if changed:
        results_changed(db, stage_id=stage_id)


def results_changed(db: Session, *, stage_id: int) -> None:
    """Move the stage's results version on: its results or decisions changed, so what was
    computed from them and kept (candidates' feedback statistics) is stale."""
    stages = Stage.__table__
    db.execute(stages.update().where(stages.c.id == stage_id)
               .values(results_version=stages.c.results_version + 1))


def is_stale(db: Session, *, stage_id: int) -> bool:
    """Whether any submitted submission of the stage waits to be recomputed (an index probe)."""
    return db.scalar(sa.select(Submission.id).where(_stale_of(stage_id)).limit(1)) is not None


def mark_all_stale(db: Session) -> None:
    """Ask for every submission to be recomputed (after a bulk change of reviews)."""
    table = Submission.__table__
    db.execute(table.update().where(table.c.scores_at.is_not(None)).values(scores_at=None))


def mark_stage_stale(db: Session, *, stage_id: int) -> None:
    """Mark every stored result of one stage for recomputation (after a stage-wide change)."""
    table = Submission.__table__
    db.execute(table.update().where(table.c.stage_id == stage_id, table.c.scores_at.is_not(None))
               .values(scores_at=None))


# -- keeping results in step with writes --------------------------------------------------------

def _changed(obj, fields: frozenset[str]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields
               if name in state.attrs)


@event.listens_for(Session, "after_flush")
def _mark_after_flush(session: Session, _context) -> None:
    """Mark the submissions whose reviews or answers this flush changed."""
    answer_ids: set[int] = set()
    submission_ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Review):
            if obj in session.dirty and not _changed(obj, _REVIEW_FIELDS):
                continue
            answer_ids.add(obj.answer_id)
        elif isinstance(obj, Answer):
            if obj in session.dirty and not _changed(obj, _ANSWER_FIELDS):
                continue
            submission_ids.add(obj.submission_id)
        elif isinstance(obj, Submission) and obj in session.dirty and _changed(
                obj, frozenset({"submitted_at"})):
            submission_ids.add(obj.id)
    answer_ids.discard(None)
    submission_ids.discard(None)
    if not answer_ids and not submission_ids:
        return
    connection = session.connection()
    if submission_ids:
        connection.execute(_stale(sorted(submission_ids)))
    if answer_ids:
        connection.execute(_stale(sa.select(Answer.submission_id)
                                  .where(Answer.id.in_(sorted(answer_ids)))
                                  .scalar_subquery()))


def _ids_in_where(state: ORMExecuteState, id_column: sa.Column) -> list | None:
    """The ids a bulk statement targets through ``id_column == value`` (a bound value or one
    bound per executemany row); None when the statement selects its rows some other way."""
    where = getattr(state.statement, "whereclause", None)
    if where is None:
        return None
    for clause in sa.sql.visitors.iterate(where):
        if (isinstance(clause, sa.sql.elements.BinaryExpression)
                and clause.operator is sa.sql.operators.eq
                and getattr(clause.left, "key", None) == id_column.key
                and getattr(clause.left, "table", None) is not None
                and clause.left.table.name == id_column.table.name
                and isinstance(clause.right, sa.sql.elements.BindParameter)):
            params = state.parameters
            if isinstance(params, list) and params:
                return [row.get(clause.right.key) for row in params]
            if isinstance(params, dict) and clause.right.key in params:
                return [params[clause.right.key]]
            return [clause.right.value]
    return None


def _set_keys(state: ORMExecuteState) -> set[str]:
    keys = {getattr(column, "key", str(column))
            for column in getattr(state.statement, "_values", None) or {}}
    params = state.parameters
    for row in params if isinstance(params, list) else [params or {}]:
        keys.update(row)
    return keys


@event.listens_for(Session, "do_orm_execute")
def _mark_after_bulk(state: ORMExecuteState):
    """Bulk writes of reviews (normalisation) or answers mark the submissions they touch."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if table == Review.__tablename__:
        review_ids = None if state.is_insert else _ids_in_where(state, Review.__table__.c.id)
    elif table == Answer.__tablename__ and (state.is_delete or _set_keys(state) & _ANSWER_FIELDS):
        answer_ids = None if state.is_insert else _ids_in_where(state, Answer.__table__.c.id)
        review_ids = None
    else:
        return None
    result = state.invoke_statement()
    connection = state.session.connection()
    if table == Review.__tablename__ and review_ids is not None:
        for start in range(0, len(review_ids), 500):
            connection.execute(_stale(
                sa.select(Answer.submission_id).join(Review, Review.answer_id == Answer.id)
                .where(Review.id.in_(review_ids[start:start + 500])).scalar_subquery()))
    elif table == Answer.__tablename__ and answer_ids is not None:
        for start in range(0, len(answer_ids), 500):
            connection.execute(_stale(
                sa.select(Answer.submission_id)
                .where(Answer.id.in_(answer_ids[start:start + 500])).scalar_subquery()))
    else:
        # Rows chosen some other way (or inserted in bulk): recompute everything once.
        mark_all_stale(state.session)
    return result
