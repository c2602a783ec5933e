"""Answer integrity: each submitted answer's similarity signature, its LSH band keys, and the
pairs of answers found alike (see recruit.domain.integrity for how they are used)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from recruit.db import Base, UTCDateTime, utcnow

UNCOMPARED_SQL = "compared = false"


class AnswerSignature(Base):
    """What a submitted answer's redacted text looks like to the near-duplicate search: its
    MinHash and the hashes of its shingles (never words: a hash cannot be read back)."""

    __tablename__ = "answer_signature"
    __table_args__ = (
        # The sweep looks for signatures whose comparison may have missed a concurrent one.
        sa.Index("ix_answer_signature_uncompared", "answer_id",
                 sqlite_where=sa.text(UNCOMPARED_SQL), postgresql_where=sa.text(UNCOMPARED_SQL)),
    )

    answer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("answer.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[int] = mapped_column(sa.ForeignKey("task.id", ondelete="CASCADE"),
                                         index=True)
    # The normalisation and hashing this row was made with (integrity.SCHEME): a row of
    # another scheme is not comparable and is made again by `recruit integrity index`.
    scheme: Mapped[int]
    # MinHash values, uint32 little-endian; and the sorted unique shingle hashes, likewise.
    minhash: Mapped[bytes] = mapped_column(sa.LargeBinary)
    shingles: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # False until a comparison is known to have seen every answer submitted before it (see
    # integrity.sweep): on PostgreSQL two answers handed in at the same moment miss each other.
    compared: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnswerBand(Base):
    """One LSH band of an answer's MinHash, hashed: answers sharing a key are candidates."""

    __tablename__ = "answer_band"
    __table_args__ = (
        sa.PrimaryKeyConstraint("key", "answer_id"),
        # The key leads, so a look-up reads only the index; the task comes with it.
        {"sqlite_with_rowid": False},
    )

    # A derived index, rebuilt from the signatures (`recruit integrity index`): no foreign
    # keys and no second index, because checking two parents for each of an answer's 64 rows
    # made indexing 100,000 answers four times slower. Look-ups join the signature, so a row
    # whose answer is gone finds nothing.
    key: Mapped[int] = mapped_column(sa.BigInteger)
    answer_id: Mapped[int]
    task_id: Mapped[int]


class SimilarPair(Base):
    """Two answers to the same task found alike: ``answer_id`` is the lower id."""

    __tablename__ = "similar_pair"
    __table_args__ = (
        sa.UniqueConstraint("answer_id", "other_answer_id"),
        sa.CheckConstraint("answer_id < other_answer_id", name="ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answer.id", ondelete="CASCADE"))
    other_answer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("answer.id", ondelete="CASCADE"), index=True)
    # The MinHash estimate and the exact Jaccard similarity of the two shingle sets (0–1).
    estimated: Mapped[float] = mapped_column(sa.Float)
    similarity: Mapped[float] = mapped_column(sa.Float)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
