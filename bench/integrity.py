"""Near-duplicate detection at scale: `python -m bench.integrity [--answers N]`.

Fills a throw-away SQLite database (migrated like any instance) with N answers to ONE task
of a campaign made from the shipped support-agent track — independent answers and, among
them, originals with an edited copy each at three edit strengths (bench/integrity_corpus.py)
— all submitted and redacted. Then it measures, in the domain layer:

1. **indexing** every answer (``integrity.index_campaign``: normalise, shingle, MinHash, store
   the signature and LSH bands, compare, store the pairs), the whole index from empty;
2. **one submission's comparison** at N answers in the task: fresh answers handed in one by
   one (``integrity.index_answers`` for one answer, then a commit), each timed;
3. **precision and recall** of the pairs flagged at the default campaign threshold against
   the generated truth, per edit strength, and the similarity of the flagged independent
   pairs (false alarms) if any.

Results go to stdout and, with ``--out``, to a JSON file; ``bench.run`` calls :func:`run`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.integrity_corpus import HEAVY, LIGHT, Edits, edited_copy, independent_answer

LEVELS = {"light": LIGHT, "default": Edits(), "heavy": HEAVY}
#: Goals of issue 18: one submission's comparison and the whole index at 100,000 answers.
GOAL_SUBMIT_MS = 20.0
GOAL_BUILD_S = 60.0


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[integrity] {message}", file=sys.stderr, flush=True)


def _texts(answers: int, *, copies_per_level: int, seed: int):
    """(text, group) in a shuffled order; a group is (level, n) for an original and its copy."""
    rng = random.Random(seed)
    entries: list[tuple[str, tuple[str, int] | None]] = []
    for level, edits in LEVELS.items():
        for n in range(copies_per_level):
            source = independent_answer(rng)
            entries += [(source, (level, n)), (edited_copy(source, rng, edits), (level, n))]
    entries += [(independent_answer(rng), None) for _ in range(answers - len(entries))]
    rng.shuffle(entries)
    return entries


def _app(path: Path):
    from cryptography.fernet import Fernet

    from recruit import create_app

    secret = "bench-" + Fernet.generate_key().decode()
    return create_app({
        "SECRET_KEY": secret, "ENCRYPTION_KEYS": [Fernet.generate_key().decode()],
        "AUDIT_KEYS": ["audit-" + secret], "DATABASE_URL": f"sqlite:///{path}",
        "RATELIMIT_ENABLED": False, "MAIL_OUTBOX_DIR": str(path.parent / "outbox"),
        "PUBLIC_URL": "http://127.0.0.1",
    })


def _fill(db, *, campaign, task, texts: list[str], now, first_code: int) -> list[int]:
    """Submitted candidacies with one released answer each, by bulk insert; their answer ids."""
    import sqlalchemy as sa

    from recruit.models import Answer, Candidacy, Submission

    stage = campaign.stages[0]
    conn = db.connection()
    next_id = {name: (conn.scalar(sa.select(sa.func.max(model.id))) or 0) + 1
               for name, model in (("c", Candidacy), ("s", Submission), ("a", Answer))}
    ids = []
    for start in range(0, len(texts), 5000):
        chunk = texts[start:start + 5000]
        rows_c, rows_s, rows_a = [], [], []
        for k, text in enumerate(chunk):
            n = start + k
            cid, sid, aid = next_id["c"] + n, next_id["s"] + n, next_id["a"] + n
            rows_c.append({"id": cid, "code": f"B{first_code + n:07d}", "user_id": None,
                           "campaign_id": campaign.id, "state": "submitted",
                           "current_stage_id": stage.id, "created_at": now, "updated_at": now})
            rows_s.append({"id": sid, "candidacy_id": cid, "stage_id": stage.id,
                           "started_at": now, "deadline_at": now + timedelta(hours=1),
                           "submitted_at": now})
            rows_a.append({"id": aid, "token": f"bench{aid:027d}", "submission_id": sid,
                           "task_id": task.id, "text": "", "version": 1, "saved_at": now,
                           "redacted_text": text, "redaction_spans": [],
                           "check_status": "released", "released_at": now,
                           "reviews_wanted": 2})
            ids.append(aid)
        conn.execute(sa.insert(Candidacy), rows_c)
        conn.execute(sa.insert(Submission), rows_s)
        conn.execute(sa.insert(Answer), rows_a)
    return ids


def run(*, answers: int, copies_per_level: int, submits: int, workdir: Path,
        seed: int = 18) -> dict:
    """Build, index and measure; returns everything measured."""
    import sqlalchemy as sa

    from recruit.db import get_db, make_engine, utcnow
    from recruit.domain import integrity, tracks
    from recruit.migrate import upgrade
    from recruit.models import Answer, AnswerBand, SimilarPair

    path = workdir / f"integrity-{answers}.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    app = _app(path)
    result: dict = {"answers": answers, "copies_per_level": copies_per_level}
    log(f"generating {answers:,} answers")
    started = time.perf_counter()
    entries = _texts(answers, copies_per_level=copies_per_level, seed=seed)
    fresh = [independent_answer(random.Random(seed + 1 + n)) for n in range(submits)]
    result["generate_s"] = time.perf_counter() - started
    result["words_mean"] = statistics.fmean(len(t.split()) for t, _g in entries[:2000])
    with app.app_context():
        db = get_db()
        now = utcnow()
        tracks.load_shipped(db)
        campaign = tracks.create_campaign(db, track_key="support-agent", key="integrity-bench",
                                          opens_at=now - timedelta(days=10),
                                          closes_at=now + timedelta(days=10))
        task = campaign.stages[0].tasks[0]
        log("inserting")
        ids = _fill(db, campaign=campaign, task=task, texts=[t for t, _g in entries], now=now,
                    first_code=0)
        db.commit()
        log(f"indexing {answers:,} answers")
        started = time.perf_counter()
        report = integrity.index_campaign(db, campaign=campaign, now=now,
                                          workers=os.cpu_count() or 1)
        result["build_steps_s"] = report.seconds
        db.commit()
        result["build_s"] = time.perf_counter() - started
        result["pairs_stored"] = report.pairs
        result["band_rows"] = db.scalar(sa.select(sa.func.count()).select_from(AnswerBand))
        result["database_mb"] = path.stat().st_size / 1e6

        # Precision and recall at the default threshold, against the generated truth.
        threshold = campaign.similarity_threshold / 100
        group_of = {aid: group for aid, (_t, group) in zip(ids, entries, strict=True)}
        flagged = db.execute(sa.select(SimilarPair.answer_id, SimilarPair.other_answer_id,
                                       SimilarPair.similarity)
                             .where(SimilarPair.similarity >= threshold)).all()
        true_pairs = [p for p in flagged if group_of.get(p[0]) is not None
                      and group_of.get(p[0]) == group_of.get(p[1])]
        result["threshold"] = threshold
        result["flagged_pairs"] = len(flagged)
        result["precision"] = len(true_pairs) / len(flagged) if flagged else None
        result["false_alarms"] = sorted(round(p[2], 3) for p in flagged
                                        if p not in true_pairs)[-10:]
        found_groups = {group_of[p[0]] for p in true_pairs}
        result["recall"] = {level: sum(1 for g in found_groups if g[0] == level)
                            / copies_per_level for level in LEVELS}
        result["recall_all"] = len(found_groups) / (copies_per_level * len(LEVELS))

        # One submission's comparison, answer by answer, at the full size.
        log(f"timing {submits} submissions")
        new_ids = _fill(db, campaign=campaign, task=task, texts=fresh, now=now,
                        first_code=answers)
        db.commit()
        times, signing = [], []
        for answer_id in new_ids:
            answer = db.get(Answer, answer_id)
            started = time.perf_counter()
            integrity.Signature.of(answer_id=answer.id, task_id=answer.task_id,
                                   text=answer.redacted_text)
            signing.append(time.perf_counter() - started)
            started = time.perf_counter()
            integrity.index_answers(db, answers=[answer], now=now)
            db.commit()
            times.append(time.perf_counter() - started)
        times.sort()
        result["submit_ms_p50"] = statistics.median(times) * 1000
        result["submit_ms_p95"] = times[int(len(times) * 0.95) - 1] * 1000
        result["submit_ms_mean"] = statistics.fmean(times) * 1000
        result["sign_ms_p50"] = statistics.median(signing) * 1000
        # How many candidates the LSH look-up gave per answer, on a sample.
        sample = [integrity.Signature.of(answer_id=a, task_id=task.id, text=t)
                  for a, t in zip(new_ids[:50], fresh[:50], strict=True)]
        result["candidates_mean"] = statistics.fmean(
            len(integrity._candidates(db, s, [task.id])) for s in sample)
    app.extensions["recruit.engine"].dispose()
    result["build_steps"] = {k: round(v, 2) for k, v in result.get("build_steps_s", {}).items()}
    result["goals"] = {"submit_ms": GOAL_SUBMIT_MS, "build_s": GOAL_BUILD_S}
    return result


def describe(r: dict) -> str:
    """The human-readable summary."""
    recall = ", ".join(f"{level} {value:.1%}" for level, value in r["recall"].items())
    precision = "—" if r["precision"] is None else f"{r['precision']:.1%}"
    return (
        f"integrity: {r['answers']:,} answers in one task (≈{r['words_mean']:.0f} words): "
        f"index built in {r['build_s']:.1f} s (goal ≤ {GOAL_BUILD_S:.0f} s), "
        f"{r['band_rows']:,} band rows, {r['database_mb']:,.0f} MB; one submission's "
        f"comparison p50 {r['submit_ms_p50']:.1f} ms, p95 {r['submit_ms_p95']:.1f} ms "
        f"(goal ≤ {GOAL_SUBMIT_MS:.0f} ms; signing alone {r['sign_ms_p50']:.1f} ms, "
        f"≈{r['candidates_mean']:.0f} LSH candidates); at {r['threshold']:.0%}: "
        f"{r['flagged_pairs']:,} pairs flagged, precision {precision}, recall {recall} "
        f"(all {r['recall_all']:.1%})")


def main(argv: list[str] | None = None) -> int:
    """Run at the size asked for and print the summary."""
    parser = argparse.ArgumentParser(prog="python -m bench.integrity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--copies", type=int, default=1_000,
                        help="originals with an edited copy, per edit strength")
    parser.add_argument("--submits", type=int, default=200)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="recruit-integrity-") as folder:
        result = run(answers=args.answers, copies_per_level=args.copies, submits=args.submits,
                     workdir=Path(folder))
    print(describe(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
