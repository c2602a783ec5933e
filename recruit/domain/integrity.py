"""Answer integrity: near-duplicate answers across applicants, and pasted-text counts.

Near-duplicates
---------------
An answer is compared as its **redacted** text (what reviewers read), so nothing derived
from an identity is ever hashed or stored, and the passages shown side by side are the ones
compared. Normalising: words are lower-cased, ``ё`` read as ``е`` and reduced to their
lemma with pymorphy3 (``писала`` → ``писать``); prepositions, conjunctions, particles,
interjections and pronouns are dropped, and a redaction marker (``⟦name⟧``) is one word.
**Shingles** are pairs of these words at most two apart within one sentence, in either
order: swapping words or whole sentences keeps them, a synonym or a typo costs only the
pairs of that one word. On the generated set of bench/integrity_corpus.py this keeps
edited copies and independent answers on the same topic far apart (bench/README.md).

Each shingle is hashed to 32 bits; an answer's **signature** is its MinHash over those
hashes (datasketch, ``NUM_PERM`` permutations) and the sorted hashes themselves, from which
the **exact** similarity — Jaccard of the two shingle sets — is computed.

Where the index lives: in the database, nowhere else. The MinHash is cut into ``BANDS``
bands of ``ROWS`` values (datasketch's MinHashLSH with ``params=(BANDS, ROWS)``: two answers
of Jaccard *s* share a band with probability 1 − (1 − s⁴)⁶⁴: 62 % at 0.35, 81 % at 0.4,
98.5 % at 0.5, 99.99 % at 0.6), each band is hashed to a 64-bit key and stored as a row of
``answer_band``. Four rows a band rather than three: on the generated set a task of 100,000
answers then gives about 30 candidates an answer instead of 270, for a few per cent of
recall on heavily edited copies (bench/README.md). Comparing an answer is one indexed
look-up of its 64 keys among the
answers of the tasks in scope, the candidates' MinHash estimates from their stored
signatures, and the exact Jaccard of the few that come close. Every gunicorn worker, host,
CLI run and the deadline job see the same index, it grows and rolls back with the
transaction that submits the stage, and no process keeps anything in memory but a lemma
cache. The cost of one comparison depends on how many candidates share a band, not on how
many answers the task has (bench: ``python -m bench.integrity``).

Pairs at least ``STORE_FLOOR`` similar are stored with both similarities; a campaign's
``similarity_threshold`` decides which are flagged, so changing it needs no recomputation.
Each submission keeps its highest similarity (``Submission.similarity_max``) so the ranking
reads its flags with its rows.

Concurrency: SQLite runs one writer at a time, so a comparison sees every answer handed in
before it. On PostgreSQL two stages handed in at the same moment do not see each other's
uncommitted rows; their signatures stay ``compared = false`` until :func:`sweep` (run by the
deadline job every minute and by ``recruit integrity sweep``, one sweep at a time) compares
them again: of any two answers, the one swept later sees the other.

Pasted text
-----------
The stage page counts, per answer, characters typed and characters pasted (or dropped)
and the longest single paste (recruit/static/autosave.js): counts only, never the text
pasted, never key timings. Counts are the tab's own since its last acknowledged save and
are added in the same compare-and-set statement that stores the text
(``applications.save_answer``): a save refused as a conflict adds nothing (the tab keeps
its counts for the save that finally carries its text), a repeated request cannot add
twice (its base version is gone), and two tabs' counts add up.

Nothing here rejects anyone: flags are shown to coordinators only, on codes, and a
decision on a flagged candidacy records its reason and the flags it was made with.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

import numpy as np
import pymorphy3
import sqlalchemy as sa
from datasketch import MinHash, MinHashLSH
from sqlalchemy.orm import Session, aliased

from recruit.models import (
    Answer,
    AnswerBand,
    AnswerSignature,
    Campaign,
    Candidacy,
    SimilarPair,
    Stage,
    Submission,
    Task,
    TrackVersion,
)

#: Version of the normalisation, shingling and hashing below; bump it when any changes.
SCHEME = 1
NUM_PERM = 256
BANDS, ROWS = 64, 4
#: Pairs less similar than this (Jaccard, 0–1) are not stored at all.
STORE_FLOOR = 0.25
#: A candidate whose MinHash estimate is this far below the floor is not checked exactly
#: (the estimate's standard error with 256 permutations is at most 0.031).
ESTIMATE_MARGIN = 0.12
#: An answer with fewer pasted characters than this is not flagged, whatever its share:
#: pasting an address or a word is no signal.
MIN_PASTED_CHARS = 100
#: Answers with fewer shingles than this say too little to be compared.
MIN_SHINGLES = 5
SIMILARITY_RANGE = (25, 100)
PASTE_RANGE = (10, 100)
_SEED = 18
_CHUNK = 900

_TOKEN = re.compile(r"⟦[a-z]+⟧|[^\W_]+(?:[-'’][^\W_]+)*")
_SENTENCE_END = re.compile(r"[.!?…;]+|\n+")
_DROPPED = frozenset({"PREP", "CONJ", "PRCL", "INTJ", "NPRO"})
_MORPH = pymorphy3.MorphAnalyzer()
# datasketch's own band layout for (BANDS, ROWS): the stored keys follow it exactly.
_HASHRANGES = MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS)).hashranges
_PERMUTATIONS = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme="affine32").permutations


@lru_cache(maxsize=200_000)
def _lemma(word: str) -> tuple[str, int] | None:
    """The word's dictionary form and its 32-bit hash, or None for a word without content."""
    if any("а" <= ch <= "я" for ch in word):
        parse = _MORPH.parse(word)[0]
        if parse.tag.POS in _DROPPED:
            return None
        word = parse.normal_form.replace("ё", "е")
    # Numbers, Latin words and redaction markers stand as they are.
    return word, int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")


@dataclass(frozen=True)
class Token:
    """A content word of a text: where it stands, its lemma (and the lemma's hash) and its
    sentence."""

    start: int
    end: int
    lemma: str
    hash: int
    sentence: int


def tokens(text: str) -> list[Token]:
    """The content words of a text, in order, with their lemmas and sentence numbers."""
    found: list[Token] = []
    lowered = text.lower().replace("ё", "е")
    pos = 0
    for sentence, end_match in enumerate([*_SENTENCE_END.finditer(lowered), None]):
        stop = end_match.start() if end_match else len(lowered)
        for m in _TOKEN.finditer(lowered, pos, stop):
            lemma = _lemma(m.group())
            if lemma:
                found.append(Token(m.start(), m.end(), lemma[0], lemma[1], sentence))
        if end_match is not None:
            pos = end_match.end()
    return found


_U64 = np.uint64
_MIX = (_U64(0x9E3779B97F4A7C15), _U64(0xBF58476D1CE4E5B9), _U64(0x94D049BB133111EB))


def _avalanche(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves about half the output bits."""
    x = x ^ (x >> _U64(30))
    x = x * _MIX[1]
    x = x ^ (x >> _U64(27))
    x = x * _MIX[2]
    return x ^ (x >> _U64(31))


def _pairs(words: Sequence[Token]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token index pairs (i, j) of every shingle, j = i + 1 or i + 2 in the same sentence,
    and the shingle hashes (uint32): each unordered pair of lemma hashes, mixed."""
    n = len(words)
    if n < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.uint32)
    hashes = np.fromiter((w.hash for w in words), dtype=np.uint64, count=n)
    sentences = np.fromiter((w.sentence for w in words), dtype=np.int64, count=n)
    first = np.concatenate([np.arange(n - 1), np.arange(n - 2)])
    second = first + np.concatenate([np.ones(n - 1, np.int64), np.full(max(n - 2, 0), 2)])
    keep = sentences[first] == sentences[second]
    first, second = first[keep], second[keep]
    low = np.minimum(hashes[first], hashes[second])
    high = np.maximum(hashes[first], hashes[second])
    with np.errstate(over="ignore"):
        mixed = _avalanche((low << _U64(32)) | high)
    return first, second, (mixed >> _U64(32)).astype(np.uint32)


def shingle_spans(words: Sequence[Token]) -> dict[int, list[tuple[int, int]]]:
    """Shingle hash → the (first, second) token indexes it was made from, every time."""
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    first, second, hashes = _pairs(words)
    for i, j, h in zip(first.tolist(), second.tolist(), hashes.tolist(), strict=True):
        found[h].append((i, j))
    return found


def shingles(text: str) -> np.ndarray:
    """The sorted unique shingle hashes of a text (uint32)."""
    return np.unique(_pairs(tokens(text))[2])


def _sign_many(items: Sequence[tuple[int, int, str]]) -> list[Signature]:
    return [Signature.of(answer_id=a, task_id=t, text=x) for a, t, x in items]


def sign_all(items: Sequence[tuple[int, int, str]], *, workers: int = 1) -> list[Signature]:
    """Signatures of many (answer id, task id, redacted text), on ``workers`` processes
    (each loads its own pymorphy3 dictionary, so only worth it for thousands of texts)."""
    if workers <= 1 or len(items) < 4000:
        return _sign_many(items)
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(items) // (workers * 4))
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [s for part in pool.map(_sign_many, chunks) for s in part]


def minhash(hashes: np.ndarray) -> np.ndarray:
    """The MinHash of a set of shingle hashes, as NUM_PERM uint32 values."""
    sketch = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme="affine32", hashfunc=int,
                     permutations=_PERMUTATIONS)
    sketch.update_batch(hashes.tolist())
    return sketch.hashvalues.astype(np.uint32)


_BAND_STARTS = np.array([start for start, _end in _HASHRANGES])


def band_keys_of(values: np.ndarray) -> np.ndarray:
    """LSH band keys of one MinHash (shape (NUM_PERM,)) or many (shape (n, NUM_PERM)): per
    band, its ROWS values and its number hashed to one signed 64-bit key."""
    values = np.atleast_2d(values).astype(np.uint64)
    keys = np.broadcast_to(np.arange(BANDS, dtype=np.uint64), (len(values), BANDS)).copy()
    with np.errstate(over="ignore"):
        for row in range(ROWS):
            keys = _avalanche(keys * _MIX[0] + values[:, _BAND_STARTS + row])
    return keys.view(np.int64)


def band_keys(values: np.ndarray) -> list[int]:
    """One signed 64-bit key per LSH band of one MinHash."""
    return band_keys_of(values)[0].tolist()


def estimate(a: np.ndarray, b: np.ndarray) -> float:
    """The MinHash estimate of two sets' Jaccard similarity."""
    return float(np.count_nonzero(a == b)) / NUM_PERM


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """The exact Jaccard similarity of two sorted unique hash arrays."""
    if not len(a) and not len(b):
        return 0.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


@dataclass(frozen=True)
class Signature:
    """An answer's signature in memory."""

    answer_id: int
    task_id: int
    minhash: np.ndarray
    shingles: np.ndarray

    @classmethod
    def of(cls, *, answer_id: int, task_id: int, text: str) -> Signature:
        """Compute the signature of a (redacted) text."""
        hashes = shingles(text)
        return cls(answer_id, task_id, minhash(hashes), hashes)

    @classmethod
    def load(cls, row) -> Signature:
        """From a stored row (answer_id, task_id, minhash, shingles)."""
        return cls(row.answer_id, row.task_id, np.frombuffer(row.minhash, dtype="<u4"),
                   np.frombuffer(row.shingles, dtype="<u4"))

    @property
    def comparable(self) -> bool:
        """Whether the text is long enough to say anything."""
        return len(self.shingles) >= MIN_SHINGLES


# -- scope -------------------------------------------------------------------------------------

def tasks_in_scope(db: Session, *, task_ids: Iterable[int]) -> dict[int, list[int]]:
    """Task id → the task ids its answers are compared with: itself, and when its campaign
    says so, the same task (track, stage and task keys) in the track's earlier campaigns."""
    task_ids = list(dict.fromkeys(task_ids))
    rows = db.execute(
        sa.select(Task.id, Task.key, Stage.key, TrackVersion.key, Campaign.id,
                  Campaign.compare_earlier, Campaign.opens_at)
        .join(Stage, Stage.id == Task.stage_id).join(Campaign, Campaign.id == Stage.campaign_id)
        .join(TrackVersion, TrackVersion.id == Campaign.track_version_id)
        .where(Task.id.in_(task_ids))).all()
    scope = {row[0]: [row[0]] for row in rows}
    for task_id, task_key, stage_key, track_key, campaign_id, earlier, opens_at in rows:
        if not earlier:
            continue
        scope[task_id] += db.scalars(
            sa.select(Task.id).join(Stage, Stage.id == Task.stage_id)
            .join(Campaign, Campaign.id == Stage.campaign_id)
            .join(TrackVersion, TrackVersion.id == Campaign.track_version_id)
            .where(TrackVersion.key == track_key, Stage.key == stage_key,
                   Task.key == task_key, Campaign.id != campaign_id,
                   Campaign.opens_at < opens_at)).all()
    return scope


# -- indexing and comparing --------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """A pair found alike, lower answer id first."""

    answer_id: int
    other_answer_id: int
    estimated: float
    similarity: float


def _insert_rows(db: Session, table: sa.Table, rows: list[tuple]) -> None:
    """Insert plain tuples through the driver's executemany: 64 band rows an answer make
    SQLAlchemy's per-row bookkeeping cost four times the insert itself."""
    if not rows:
        return
    mark = "?" if db.get_bind().dialect.paramstyle == "qmark" else "%s"
    columns = ", ".join(c.name for c in table.columns)
    db.connection().exec_driver_sql(
        f"INSERT INTO {table.name} ({columns}) "  # noqa: S608 - names from our own models
        f"VALUES ({', '.join([mark] * len(table.columns))})", rows)


def _store(db: Session, *, signatures: Sequence[Signature], compared: bool,
           now: datetime) -> None:
    if not signatures:
        return
    db.execute(sa.insert(AnswerSignature), [
        {"answer_id": s.answer_id, "task_id": s.task_id, "scheme": SCHEME,
         "minhash": s.minhash.astype("<u4").tobytes(),
         "shingles": s.shingles.astype("<u4").tobytes(), "compared": compared,
         "created_at": now} for s in signatures])
    comparable = [s for s in signatures if s.comparable]
    if not comparable:
        return
    keys = band_keys_of(np.stack([s.minhash for s in comparable]))
    bands = sorted(zip(keys.ravel().tolist(),
                       np.repeat([s.answer_id for s in comparable], BANDS).tolist(),
                       np.repeat([s.task_id for s in comparable], BANDS).tolist(),
                       strict=True))
    # In key order, so a bulk insert appends to the index instead of jumping about in it.
    _insert_rows(db, AnswerBand.__table__, bands)


def _candidates(db: Session, signature: Signature, scope: list[int]) -> list[Signature]:
    """Answers in scope sharing at least one band with the signature, with their signatures."""
    return _candidates_of(db, [signature], {signature.task_id: scope}).get(signature.answer_id,
                                                                          [])


def _candidates_of(db: Session, signatures: Sequence[Signature],
                   scope: Mapping[int, list[int]]) -> dict[int, list[Signature]]:
    """:func:`_candidates` for many signatures at once (answer id → its candidates): one
    look-up of every band key and one of the signatures found, however many answers a
    hand-in or a sweep brings, instead of one query per answer."""
    comparable = [s for s in signatures if s.comparable]
    if not comparable:
        return {}
    holders: dict[int, list[Signature]] = defaultdict(list)
    for signature in comparable:
        for key in band_keys(signature.minhash):
            holders[key].append(signature)
    found: dict[int, set[int]] = {s.answer_id: set() for s in comparable}
    keys = list(holders)
    tasks = sorted({t for s in comparable for t in scope[s.task_id]})
    for start in range(0, len(keys), _CHUNK):
        for key, other, task_id in db.execute(
                sa.select(AnswerBand.key, AnswerBand.answer_id, AnswerBand.task_id)
                .where(AnswerBand.key.in_(keys[start:start + _CHUNK]),
                       AnswerBand.task_id.in_(tasks))):
            for signature in holders[key]:
                if other != signature.answer_id and task_id in scope[signature.task_id]:
                    found[signature.answer_id].add(other)
    wanted = sorted(set().union(*found.values()))
    loaded: dict[int, Signature] = {}
    for start in range(0, len(wanted), _CHUNK):
        for row in db.execute(
                sa.select(AnswerSignature.answer_id, AnswerSignature.task_id,
                          AnswerSignature.minhash, AnswerSignature.shingles)
                .where(AnswerSignature.answer_id.in_(wanted[start:start + _CHUNK]),
                       AnswerSignature.scheme == SCHEME)):
            loaded[row.answer_id] = Signature.load(row)
    return {answer_id: [loaded[o] for o in sorted(others) if o in loaded]
            for answer_id, others in found.items()}


def _compare_all(db: Session, signatures: Sequence[Signature],
                 scope: Mapping[int, list[int]]) -> list[Found]:
    """Every pair of a signature with an answer in its scope at least STORE_FLOOR similar,
    for many signatures, their candidates looked up together."""
    candidates = _candidates_of(db, signatures, scope)
    judged = (_judge(s, other) for s in signatures for other in candidates.get(s.answer_id, ()))
    return [found for found in judged if found is not None]


def _same_candidacy(db: Session, answer_ids: Iterable[int]) -> dict[int, int]:
    """Answer id → candidacy id, for the given answers."""
    ids = list(answer_ids)
    found: dict[int, int] = {}
    for start in range(0, len(ids), _CHUNK):
        found.update(db.execute(
            sa.select(Answer.id, Submission.candidacy_id)
            .join(Submission, Submission.id == Answer.submission_id)
            .where(Answer.id.in_(ids[start:start + _CHUNK]))).all())
    return found


def _judge(one: Signature, other: Signature) -> Found | None:
    """The pair if it is at least STORE_FLOOR similar: the MinHash estimate first (cheap),
    the exact Jaccard only for candidates that come close."""
    guess = estimate(one.minhash, other.minhash)
    if guess < STORE_FLOOR - ESTIMATE_MARGIN:
        return None
    exact = jaccard(one.shingles, other.shingles)
    if exact < STORE_FLOOR:
        return None
    low, high = sorted((one.answer_id, other.answer_id))
    return Found(low, high, guess, exact)


def _record(db: Session, *, found: Sequence[Found], now: datetime) -> list[Found]:
    """Store new pairs (one applicant's own answers are never a pair) and raise the
    similarity_max of both submissions; returns the pairs that were new."""
    if not found:
        return []
    candidacy_of = _same_candidacy(db, {a for f in found
                                        for a in (f.answer_id, f.other_answer_id)})
    known = {(row[0], row[1]) for row in db.execute(
        sa.select(SimilarPair.answer_id, SimilarPair.other_answer_id)
        .where(sa.tuple_(SimilarPair.answer_id, SimilarPair.other_answer_id).in_(
            [(f.answer_id, f.other_answer_id) for f in found])))}
    fresh = [f for f in {(f.answer_id, f.other_answer_id): f for f in found}.values()
             if (f.answer_id, f.other_answer_id) not in known
             and candidacy_of.get(f.answer_id) is not None
             and candidacy_of.get(f.answer_id) != candidacy_of.get(f.other_answer_id)]
    if not fresh:
        return []
    db.execute(sa.insert(SimilarPair), [
        {"answer_id": f.answer_id, "other_answer_id": f.other_answer_id,
         "estimated": f.estimated, "similarity": f.similarity, "found_at": now}
        for f in fresh])
    best: dict[int, float] = defaultdict(float)
    for f in fresh:
        for answer_id in (f.answer_id, f.other_answer_id):
            best[answer_id] = max(best[answer_id], f.similarity)
    submission_of = dict(db.execute(sa.select(Answer.id, Answer.submission_id)
                                    .where(Answer.id.in_(list(best)))).all())
    by_submission: dict[int, float] = defaultdict(float)
    for answer_id, value in best.items():
        by_submission[submission_of[answer_id]] = max(by_submission[submission_of[answer_id]],
                                                      value)
    for submission_id, value in by_submission.items():
        db.execute(sa.update(Submission).where(Submission.id == submission_id)
                   .values(similarity_max=sa.case(
                       (sa.or_(Submission.similarity_max.is_(None),
                               Submission.similarity_max < value), value),
                       else_=Submission.similarity_max))
                   .execution_options(synchronize_session=False))
    return fresh


def serialises_writers(db: Session) -> bool:
    """Whether the database runs one writing transaction at a time (SQLite), so that a
    comparison made while writing has seen every answer handed in before it."""
    return db.get_bind().dialect.name == "sqlite"


def index_answers(db: Session, *, answers: Sequence[Answer], now: datetime,
                  signatures: Mapping[int, Signature] | None = None) -> list[Found]:
    """Sign freshly submitted answers (their redacted texts), store their signatures and
    bands, and compare each with the answers in its scope; returns the pairs found.
    ``signatures`` may hold signatures already worked out (answer id → signature)."""
    answers = [a for a in answers if a.submission_id is not None and a.redacted_text is not None]
    if not answers:
        return []
    known = signatures or {}
    signatures = [known.get(a.id) or Signature.of(answer_id=a.id, task_id=a.task_id,
                                                  text=a.redacted_text)
                  for a in answers]
    _store(db, signatures=signatures, compared=serialises_writers(db), now=now)
    scope = tasks_in_scope(db, task_ids=[s.task_id for s in signatures])
    return _record(db, found=_compare_all(db, signatures, scope), now=now)


def record_paste_share(db: Session, *, submission: Submission) -> float | None:
    """Store the submission's highest pasted share over its answers: an answer pasting less
    than MIN_PASTED_CHARS counts as nothing pasted; None when no answer's input was counted."""
    shares = [0.0 if share is not None and answer.pasted_chars < MIN_PASTED_CHARS else share
              for answer in submission.answers
              for share in [paste_share(typed=answer.typed_chars, pasted=answer.pasted_chars)]]
    known = [share for share in shares if share is not None]
    submission.pasted_share = max(known) if known else None
    return submission.pasted_share


def paste_share(*, typed: int, pasted: int) -> float | None:
    """The share of an answer's characters that arrived by paste; None when none counted."""
    total = (typed or 0) + (pasted or 0)
    return None if total == 0 else (pasted or 0) / total


def sweep(db: Session, *, limit: int = 500, now: datetime) -> int:
    """Compare again the signatures whose first comparison may have missed an answer handed
    in at the same moment (PostgreSQL); returns how many were swept.

    One sweep runs at a time (an advisory lock on PostgreSQL; SQLite's write lock), so of
    two answers the one swept later sees the other."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('recruit.integrity.sweep'))"))
    rows = db.execute(
        sa.select(AnswerSignature.answer_id, AnswerSignature.task_id, AnswerSignature.minhash,
                  AnswerSignature.shingles)
        .where(AnswerSignature.compared.is_(False)).order_by(AnswerSignature.answer_id)
        .limit(limit)).all()
    if not rows:
        return 0
    signatures = [Signature.load(row) for row in rows]
    scope = tasks_in_scope(db, task_ids=[s.task_id for s in signatures])
    _record(db, found=_compare_all(db, signatures, scope), now=now)
    db.execute(sa.update(AnswerSignature)
               .where(AnswerSignature.answer_id.in_([s.answer_id for s in signatures]))
               .values(compared=True).execution_options(synchronize_session=False))
    return len(signatures)


@dataclass
class IndexReport:
    """What indexing did, and how long each step took."""

    signed: int = 0
    pairs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def _bulk_pairs(new: Sequence[Signature], old: Sequence[tuple[int, int, int]],
                scope: dict[int, list[int]]) -> list[tuple[int, int]]:
    """Candidate pairs (new, new) and (new, stored) sharing a band within a scope, by sorting
    every band key once instead of one look-up per answer. ``old`` holds stored
    (key, answer id, task id) rows; pairs are index pairs into ``new`` + the stored ids."""
    keys = band_keys_of(np.stack([s.minhash for s in new])) if new else np.zeros((0, BANDS))
    owners = np.repeat(np.arange(len(new)), BANDS)
    all_keys = np.concatenate([keys.ravel().astype(np.int64),
                               np.array([k for k, _a, _t in old], dtype=np.int64)])
    stored_ids = [a for _k, a, _t in old]
    all_owners = np.concatenate([owners, len(new) + np.arange(len(old))])
    order = np.argsort(all_keys, kind="stable")
    sorted_keys = all_keys[order]
    bounds = np.flatnonzero(np.diff(sorted_keys)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(sorted_keys)]])
    task_of = [s.task_id for s in new] + [t for _k, _a, t in old]
    pairs: set[tuple[int, int]] = set()
    for start, end in zip(starts[ends - starts > 1].tolist(), ends[ends - starts > 1].tolist(),
                          strict=True):
        members = all_owners[order[start:end]].tolist()
        for x in range(len(members)):
            a = members[x]
            if a >= len(new):
                continue
            for b in members[:x] + members[x + 1:]:
                if b < len(new) and b < a:
                    continue  # a new-new pair is kept once, from its higher index
                if task_of[b] in scope[task_of[a]] or task_of[a] in scope.get(task_of[b], ()):
                    pairs.add((a, b))
    return [(a, b if b < len(new) else -stored_ids[b - len(new)] - 1) for a, b in pairs]


def index_campaign(db: Session, *, campaign: Campaign, now: datetime,
                   workers: int = 1) -> IndexReport:
    """Sign and compare every submitted answer of a campaign that has no signature of the
    current scheme yet (answers from before this feature, or after SCHEME changed), all at
    once: candidates come from sorting every band key, not from one look-up per answer."""
    report = IndexReport()
    clock = time.perf_counter()
    stale = (sa.select(AnswerSignature.answer_id)
             .where(AnswerSignature.scheme != SCHEME).scalar_subquery())
    db.execute(sa.delete(AnswerBand).where(AnswerBand.answer_id.in_(stale)))
    db.execute(sa.delete(AnswerSignature).where(AnswerSignature.scheme != SCHEME))
    rows = db.execute(
        sa.select(Answer.id, Answer.task_id, Answer.redacted_text)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Stage, Stage.id == Submission.stage_id)
        .outerjoin(AnswerSignature, AnswerSignature.answer_id == Answer.id)
        .where(Stage.campaign_id == campaign.id, Submission.submitted_at.is_not(None),
               Answer.redacted_text.is_not(None), AnswerSignature.answer_id.is_(None))
        .order_by(Answer.id)).all()
    if not rows:
        return report
    new = sign_all(rows, workers=workers)
    report.seconds["sign"] = time.perf_counter() - clock
    scope = tasks_in_scope(db, task_ids={s.task_id for s in new})
    in_scope = sorted({t for tasks in scope.values() for t in tasks})
    old = db.execute(sa.select(AnswerBand.key, AnswerBand.answer_id, AnswerBand.task_id)
                     .where(AnswerBand.task_id.in_(in_scope))).all()
    clock = time.perf_counter()
    candidates = _bulk_pairs([s for s in new if s.comparable], old, scope)
    comparable = [s for s in new if s.comparable]
    stored = {}
    wanted = sorted({-b - 1 for _a, b in candidates if b < 0})
    for start in range(0, len(wanted), _CHUNK):
        for row in db.execute(
            sa.select(AnswerSignature.answer_id, AnswerSignature.task_id,
                      AnswerSignature.minhash, AnswerSignature.shingles)
            .where(AnswerSignature.answer_id.in_(wanted[start:start + _CHUNK]))):
            stored[row.answer_id] = Signature.load(row)
    judged = (_judge(comparable[a], comparable[b] if b >= 0 else stored[-b - 1])
              for a, b in candidates
              if (b >= 0 or -b - 1 in stored) and comparable[a].answer_id != -b - 1)
    found = [pair for pair in judged if pair is not None]
    report.seconds["compare"] = time.perf_counter() - clock
    clock = time.perf_counter()
    _store(db, signatures=new, compared=serialises_writers(db), now=now)
    report.pairs = len(_record(db, found=found, now=now))
    report.signed = len(new)
    report.seconds["store"] = time.perf_counter() - clock
    return report


# -- what coordinators see ---------------------------------------------------------------------

def is_flagged(*, similarity: float | None, pasted: float | None, campaign: Campaign) -> bool:
    """Whether a submission's stored similarity or pasted share reaches the campaign's
    thresholds."""
    return ((similarity is not None and similarity * 100 >= campaign.similarity_threshold - 1e-9)
            or (pasted is not None and pasted * 100 >= campaign.paste_threshold - 1e-9))


def flagged_clause(campaign: Campaign) -> sa.ColumnElement[bool]:
    """The same test in SQL, on Submission's stored values."""
    return sa.or_(Submission.similarity_max >= campaign.similarity_threshold / 100 - 1e-9,
                  Submission.pasted_share >= campaign.paste_threshold / 100 - 1e-9)


@dataclass(frozen=True)
class Match:
    """Another applicant's answer found alike, by candidacy code only."""

    pair_id: int
    code: str
    campaign_id: int
    campaign_title: dict[str, str]
    similarity: float
    estimated: float
    flagged: bool


@dataclass(frozen=True)
class AnswerFlags:
    """What integrity says about one answer of a candidacy: its matches and its input."""

    position: int
    matches: list[Match]
    typed: int
    pasted: int
    longest_paste: int
    share: float | None
    paste_flagged: bool

    @property
    def flagged(self) -> bool:
        """Whether anything about this answer reaches a threshold."""
        return self.paste_flagged or any(m.flagged for m in self.matches)


def candidacy_flags(db: Session, *, candidacy: Candidacy, stage: Stage) -> list[AnswerFlags]:
    """Per answer of the candidacy at the stage, in task order: matches (most similar first)
    and input counts (two queries)."""
    campaign = candidacy.campaign
    answers = db.execute(
        sa.select(Answer.id, Task.position, Answer.typed_chars, Answer.pasted_chars,
                  Answer.longest_paste)
        .join(Task, Task.id == Answer.task_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .where(Submission.candidacy_id == candidacy.id, Submission.stage_id == stage.id,
               Submission.submitted_at.is_not(None))
        .order_by(Task.position)).all()
    ids = [a.id for a in answers]
    matches: dict[int, list[Match]] = defaultdict(list)
    if ids:
        other = sa.case((SimilarPair.answer_id.in_(ids), SimilarPair.other_answer_id),
                        else_=SimilarPair.answer_id)
        mine = sa.case((SimilarPair.answer_id.in_(ids), SimilarPair.answer_id),
                       else_=SimilarPair.other_answer_id)
        other_answer = aliased(Answer)
        for row in db.execute(
            sa.select(SimilarPair.id, mine.label("mine"), SimilarPair.similarity,
                      SimilarPair.estimated, Candidacy.code, Campaign.id.label("campaign_id"),
                      Campaign.title_en, Campaign.title_ru)
            .join(other_answer, other_answer.id == other)
            .join(Submission, Submission.id == other_answer.submission_id)
            .join(Candidacy, Candidacy.id == Submission.candidacy_id)
            .join(Campaign, Campaign.id == Candidacy.campaign_id)
            .where(sa.or_(SimilarPair.answer_id.in_(ids), SimilarPair.other_answer_id.in_(ids)))
            .order_by(SimilarPair.similarity.desc(), SimilarPair.id)
        ):
            matches[row.mine].append(Match(
                pair_id=row.id, code=row.code, campaign_id=row.campaign_id,
                campaign_title={"en": row.title_en, "ru": row.title_ru},
                similarity=row.similarity, estimated=row.estimated,
                flagged=row.similarity * 100 >= campaign.similarity_threshold - 1e-9))
    result = []
    for a in answers:
        share = paste_share(typed=a.typed_chars, pasted=a.pasted_chars)
        result.append(AnswerFlags(
            position=a.position, matches=matches[a.id], typed=a.typed_chars,
            pasted=a.pasted_chars, longest_paste=a.longest_paste, share=share,
            paste_flagged=share is not None and a.pasted_chars >= MIN_PASTED_CHARS
            and share * 100 >= campaign.paste_threshold - 1e-9))
    return result


def decision_flags(flags: Sequence[AnswerFlags]) -> list[dict]:
    """The flags a decision is made with, as stored on the Decision (plain JSON)."""
    noted: list[dict] = []
    for answer in flags:
        noted += [{"kind": "similar", "task": answer.position, "code": m.code,
                   "percent": round(m.similarity * 100)} for m in answer.matches if m.flagged]
        if answer.paste_flagged:
            noted.append({"kind": "pasted", "task": answer.position,
                          "percent": round((answer.share or 0) * 100)})
    return noted


# -- the two answers side by side --------------------------------------------------------------

@dataclass(frozen=True)
class Side:
    """One answer of a pair as a coordinator reads it: code, task and the redacted text in
    pieces ``(text, matched)``; ``pieces`` is None while the custodian has not released it."""

    code: str
    campaign_title: dict[str, str]
    position: int
    prompt: dict[str, str]
    pieces: list[tuple[str, bool]] | None


@dataclass(frozen=True)
class PairView:
    """A pair of alike answers: this candidacy's first."""

    pair_id: int
    similarity: float
    estimated: float
    mine: Side
    other: Side
    matched_share: tuple[float, float]


def matching_spans(text: str, other: str) -> list[tuple[int, int]]:
    """Character spans of ``text`` made of shingles ``other`` shares: runs of matched words
    (at most one unmatched word between two matched ones), in order."""
    words = tokens(text)
    shared = set(shingle_spans(tokens(other)))
    marked = [False] * len(words)
    for h, places in shingle_spans(words).items():
        if h in shared:
            for i, j in places:
                marked[i] = marked[j] = True
    spans: list[tuple[int, int]] = []
    last = None
    for i, on in enumerate(marked):
        if not on:
            continue
        if last is not None and i - last <= 2 and words[i].sentence == words[last].sentence:
            spans[-1] = (spans[-1][0], words[i].end)
        else:
            spans.append((words[i].start, words[i].end))
        last = i
    return spans


def pieces(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[str, bool]]:
    """Cut a text into (chunk, matched) pieces along sorted spans."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for start, end in spans:
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def pair_view(db: Session, *, pair_id: int, candidacy: Candidacy,
              stage: Stage) -> PairView | None:
    """The pair with both redacted answers and their matching passages, if one of its
    answers is the candidacy's at the stage (None otherwise: the page is not found)."""
    pair = db.get(SimilarPair, pair_id)
    if pair is None:
        return None
    rows = {row.id: row for row in db.execute(
        sa.select(Answer.id, Answer.redacted_text, Answer.check_status, Task.position,
                  Task.prompt_en, Task.prompt_ru, Submission.candidacy_id,
                  Submission.stage_id, Candidacy.code, Campaign.title_en, Campaign.title_ru)
        .join(Task, Task.id == Answer.task_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .join(Campaign, Campaign.id == Candidacy.campaign_id)
        .where(Answer.id.in_((pair.answer_id, pair.other_answer_id))))}
    mine = next((r for r in rows.values()
                 if r.candidacy_id == candidacy.id and r.stage_id == stage.id), None)
    if mine is None or len(rows) != 2:
        return None
    other = next(r for r in rows.values() if r.id != mine.id)
    # An answer the custodian has not released may still carry what identifies its author.
    texts = {r.id: r.redacted_text if r.check_status == "released" else None
             for r in (mine, other)}
    shares = []
    sides = []
    for row, partner in ((mine, other), (other, mine)):
        text = texts[row.id]
        if text is None:
            sides.append(Side(row.code, {"en": row.title_en, "ru": row.title_ru}, row.position,
                              {"en": row.prompt_en, "ru": row.prompt_ru}, None))
            shares.append(0.0)
            continue
        spans = matching_spans(text, partner.redacted_text or "")
        shares.append(sum(e - s for s, e in spans) / max(len(text), 1))
        sides.append(Side(row.code, {"en": row.title_en, "ru": row.title_ru}, row.position,
                          {"en": row.prompt_en, "ru": row.prompt_ru}, pieces(text, spans)))
    return PairView(pair_id=pair.id, similarity=pair.similarity, estimated=pair.estimated,
                    mine=sides[0], other=sides[1], matched_share=(shares[0], shares[1]))


# -- a campaign's figures ----------------------------------------------------------------------

@dataclass(frozen=True)
class Cluster:
    """Three or more answers to one task, each alike to another of them."""

    position: int
    codes: list[str]
    highest: float


@dataclass(frozen=True)
class CampaignIntegrity:
    """A campaign's integrity figures: pairs at or above its threshold, every stored
    similarity (for the histogram), clusters, and how many candidacies are flagged."""

    threshold: int
    paste_threshold: int
    pairs: int
    similarities: list[float]
    clusters: list[Cluster]
    flagged_similar: int
    flagged_pasted: int
    signed: int
    unsigned: int


def campaign_integrity(db: Session, *, campaign: Campaign) -> CampaignIntegrity:
    """Pairs within the campaign (both answers in it), clusters of three or more at the
    threshold (connected answers of one task), and counts of flagged submissions."""
    other_answer = aliased(Answer)
    other_submission = aliased(Submission)
    other_candidacy = aliased(Candidacy)
    rows = db.execute(
        sa.select(SimilarPair.answer_id, SimilarPair.other_answer_id, SimilarPair.similarity,
                  Task.position, Candidacy.code, other_candidacy.code.label("other_code"))
        .join(Answer, Answer.id == SimilarPair.answer_id)
        .join(Task, Task.id == Answer.task_id)
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .join(other_answer, other_answer.id == SimilarPair.other_answer_id)
        .join(other_submission, other_submission.id == other_answer.submission_id)
        .join(other_candidacy, other_candidacy.id == other_submission.candidacy_id)
        .where(Candidacy.campaign_id == campaign.id,
               other_candidacy.campaign_id == campaign.id)).all()
    threshold = campaign.similarity_threshold / 100 - 1e-9
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    code_of: dict[int, str] = {}
    position_of: dict[int, int] = {}
    for row in rows:
        if row.similarity >= threshold:
            parent[root(row.answer_id)] = root(row.other_answer_id)
            code_of[row.answer_id], code_of[row.other_answer_id] = row.code, row.other_code
            position_of[row.answer_id] = position_of[row.other_answer_id] = row.position
    groups: dict[int, list[int]] = defaultdict(list)
    for answer_id in code_of:
        groups[root(answer_id)].append(answer_id)
    best: dict[int, float] = defaultdict(float)
    for row in rows:
        if row.similarity >= threshold:
            group = root(row.answer_id)
            best[group] = max(best[group], row.similarity)
    clusters = sorted(
        (Cluster(position=position_of[members[0]],
                 codes=sorted(code_of[m] for m in members), highest=best[group])
         for group, members in groups.items() if len(members) >= 3),
        key=lambda c: (c.position, -len(c.codes), c.codes))
    in_campaign = (sa.select(Submission.id).join(Stage, Stage.id == Submission.stage_id)
                   .where(Stage.campaign_id == campaign.id))
    similar, pasted = db.execute(
        sa.select(
            sa.func.count().filter(
                Submission.similarity_max >= campaign.similarity_threshold / 100 - 1e-9),
            sa.func.count().filter(
                Submission.pasted_share >= campaign.paste_threshold / 100 - 1e-9))
        .where(Submission.id.in_(in_campaign))).one()
    answers = (sa.select(Answer.id).join(Submission, Submission.id == Answer.submission_id)
               .join(Stage, Stage.id == Submission.stage_id)
               .where(Stage.campaign_id == campaign.id, Submission.submitted_at.is_not(None)))
    signed = db.scalar(sa.select(sa.func.count()).select_from(AnswerSignature)
                       .where(AnswerSignature.answer_id.in_(answers),
                              AnswerSignature.scheme == SCHEME)) or 0
    total = db.scalar(sa.select(sa.func.count()).select_from(answers.subquery())) or 0
    return CampaignIntegrity(
        threshold=campaign.similarity_threshold, paste_threshold=campaign.paste_threshold,
        pairs=sum(1 for row in rows if row.similarity >= threshold),
        similarities=[row.similarity for row in rows], clusters=clusters,
        flagged_similar=int(similar or 0), flagged_pasted=int(pasted or 0),
        signed=int(signed), unsigned=int(total) - int(signed))


def change_settings(db: Session, *, campaign: Campaign, similarity_threshold: int,
                    paste_threshold: int, compare_earlier: bool) -> None:
    """Set the campaign's integrity thresholds (per cent) and whether earlier campaigns of
    its track are searched too (for answers handed in from now on)."""
    if not SIMILARITY_RANGE[0] <= similarity_threshold <= SIMILARITY_RANGE[1]:
        raise ValueError("similarity threshold out of range")
    if not PASTE_RANGE[0] <= paste_threshold <= PASTE_RANGE[1]:
        raise ValueError("paste threshold out of range")
    campaign.similarity_threshold = similarity_threshold
    campaign.paste_threshold = paste_threshold
    campaign.compare_earlier = compare_earlier
    db.flush()
