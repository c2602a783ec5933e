"""Scores: weighted rubric means, per-reviewer normalisation, disagreement and agreement.

The rules, as implemented here:

- One reviewer's score of an answer is the weighted mean of its criterion scores (1–5).
- How many reviews an answer gets: :func:`reviews_wanted` — K (the campaign's reviews per
  answer); exactly one more when the first K differ by more than the disagreement threshold;
  a further one only while no majority of the reviews agrees within the threshold, up to the
  campaign's maximum.
- Normalisation (:func:`normalise`) per reviewer and stage, once the reviewer has enough
  reviews there: z-score within the reviewer, mapped to the stage's mean and spread.
- A candidacy's stage score (:func:`candidate_scores`) is the mean over its answers of each
  answer's mean normalised score. Calibration answers belong to no candidacy, so their
  reviews never enter any of this (recruit.domain.calibration measures them apart).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

MIN_CRITERION_SCORE = 1
MAX_CRITERION_SCORE = 5

# Below this a standard deviation is rounding noise from identical scores, not a real spread;
# dividing by it would blow tiny float errors up into whole points.
_ZERO_STD = 1e-9


@dataclass(frozen=True)
class RawReview:
    """One reviewer's finished review of one answer, as scoring needs it."""

    review_id: int
    reviewer_id: int
    answer_id: int
    score: float
    criteria: Mapping[str, int]


@dataclass(frozen=True)
class CandidateScore:
    """A candidacy's result in one stage, as coordinators and the role matcher see it."""

    score: float | None
    raw: float | None
    criteria: dict[str, float]
    reviews: int
    spread: float


def weighted_score(*, scores: Mapping[str, int], weights: Mapping[str, float]) -> float:
    """Return one reviewer's score for an answer: the weighted mean of its criterion scores."""
    if not weights:
        raise ValueError("the rubric has no criteria")
    missing = sorted(set(weights) - set(scores))
    if missing:
        raise ValueError(f"missing score for criteria: {', '.join(missing)}")
    unknown = sorted(set(scores) - set(weights))
    if unknown:
        raise ValueError(f"scores given for criteria not in the rubric: {', '.join(unknown)}")
    for key, value in scores.items():
        # bool is an int subclass; True must not pass as a score of 1.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"score for {key!r} must be a whole number, got {value!r}")
        if not MIN_CRITERION_SCORE <= value <= MAX_CRITERION_SCORE:
            raise ValueError(
                f"score for {key!r} must be between {MIN_CRITERION_SCORE} and "
                f"{MAX_CRITERION_SCORE}, got {value}"
            )
    for key, weight in weights.items():
        if not weight > 0 or not math.isfinite(weight):
            raise ValueError(f"weight for {key!r} must be a positive number, got {weight!r}")
    total = sum(weights.values())
    return sum(scores[key] * weight for key, weight in weights.items()) / total


def spread(values: Sequence[float]) -> float:
    """Return the distance between the highest and the lowest value (0 for fewer than two)."""
    if len(values) < 2:
        return 0.0
    return float(max(values) - min(values))


def largest_agreeing_group(values: Sequence[float], *, threshold: float) -> int:
    """Return the size of the largest group of values that all lie within ``threshold``."""
    ordered = sorted(values)
    best = start = 0
    for end, value in enumerate(ordered):
        while value - ordered[start] > threshold:
            start += 1
        best = max(best, end - start + 1)
    return best


def is_undecided(scores: Sequence[float], *, threshold: float) -> bool:
    """Tell whether reviewers have not converged: no majority agrees within ``threshold``.

    A majority is more than half of the reviews; "agrees" means every two of them are at most
    ``threshold`` apart. With two reviews this is exactly "they differ by more than
    ``threshold``".
    """
    return 2 * largest_agreeing_group(scores, threshold=threshold) <= len(scores)


def reviews_wanted(
    *, scores: Sequence[float], required: int, maximum: int, threshold: float = 1.5
) -> int:
    """Return how many reviews an answer should have in total, given its reviews so far.

    ``scores`` are the raw scores in the order the reviews came in. The rule:

    1. Until ``required`` (K) reviews are in, the answer wants K.
    2. If the first K reviews agree — highest minus lowest at most ``threshold`` — K is
       enough, whatever comes later.
    3. If they disagree, the answer wants exactly one more review, K+1.
    4. After that it wants another one only while it is still undecided (:func:`is_undecided`:
       no majority of its reviews agrees within ``threshold``), and never more than
       ``maximum``.

    So a disagreement costs one extra review whenever the extra reviewer sides with one of
    the first K; a further review is asked only when the new one sides with nobody.
    """
    if required < 1:
        raise ValueError(f"required reviews must be at least 1, got {required}")
    if maximum < required:
        raise ValueError(f"maximum reviews ({maximum}) is below required ({required})")
    have = len(scores)
    if have < required:
        return required
    if spread(scores[:required]) <= threshold:
        return have
    if have == required:
        return min(required + 1, maximum)
    if have < maximum and is_undecided(scores, threshold=threshold):
        return have + 1
    return have


def needs_extra_review(
    *, scores: Sequence[float], required: int, maximum: int, threshold: float = 1.5
) -> bool:
    """Tell whether an answer with at least ``required`` reviews should get one more."""
    return len(scores) >= required and reviews_wanted(
        scores=scores, required=required, maximum=maximum, threshold=threshold) > len(scores)


def _columns(reviews: Sequence[RawReview]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    review_ids = np.fromiter((r.review_id for r in reviews), dtype=np.int64, count=len(reviews))
    reviewers = np.fromiter((r.reviewer_id for r in reviews), dtype=np.int64, count=len(reviews))
    scores = np.fromiter((r.score for r in reviews), dtype=np.float64, count=len(reviews))
    return review_ids, reviewers, scores


def _group_stats(
    groups: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (group index per value, count, mean, population std) per group, vectorised."""
    _, index = np.unique(groups, return_inverse=True)
    counts = np.bincount(index)
    means = np.bincount(index, weights=values) / counts
    # Two passes rather than E[x²]−E[x]²: the one-pass form cancels badly on close scores.
    deviations = values - means[index]
    stds = np.sqrt(np.bincount(index, weights=deviations * deviations) / counts)
    return index, counts, means, stds


def normalise(reviews: Sequence[RawReview], *, min_reviews: int = 8) -> dict[int, float]:
    """Map one stage's review scores to a common scale, removing each reviewer's harshness.

    A reviewer with at least ``min_reviews`` reviews and some spread is z-scored within their
    own reviews, then mapped back to the stage's overall mean and (population) spread, and
    clamped to 1–5. A reviewer with fewer reviews keeps raw scores: their mean and spread are
    too noisy to correct by, and z-scoring two reviews would force them to ±1 std whatever
    the answers were. A reviewer who gave every answer the same score keeps it too: they
    expressed no ranking, so there is nothing to stretch. Returns review_id → score.
    """
    if not reviews:
        return {}
    review_ids, reviewers, scores = _columns(reviews)
    mapped = normalise_columns(reviewers, scores, min_reviews=min_reviews)
    return dict(zip(review_ids.tolist(), mapped.tolist(), strict=True))


def normalise_columns(reviewers: np.ndarray, scores: np.ndarray, *,
                      min_reviews: int = 8) -> np.ndarray:
    """:func:`normalise` on columns: each review's reviewer and raw score, in any order.

    Returns the normalised scores in the same order. For callers that hold a whole stage's
    reviews as arrays (hundreds of thousands of them) and need no objects per review.
    """
    if len(scores) == 0:
        return np.asarray(scores, dtype=np.float64)
    stage_mean = scores.mean()
    stage_std = scores.std()
    index, counts, means, stds = _group_stats(reviewers, scores)
    adjusted = (counts >= min_reviews) & (stds > _ZERO_STD)
    # Reviewers left unadjusted get mean 0 and std 1 here so the formula below is harmless for
    # them; np.where then keeps their raw score.
    safe_std = np.where(adjusted, stds, 1.0)
    z = (scores - means[index]) / safe_std[index]
    mapped = np.where(adjusted[index], stage_mean + z * stage_std, scores)
    return np.clip(mapped, MIN_CRITERION_SCORE, MAX_CRITERION_SCORE)


def severity(reviews: Sequence[RawReview]) -> dict[int, float]:
    """Return each reviewer's mean offset from the other reviewers of the same answers.

    Negative means harsher than colleagues, positive more lenient. Reviewers who share no
    answer with anyone are left out: there is nobody to compare them with.
    """
    if not reviews:
        return {}
    _, reviewers, scores = _columns(reviews)
    answers = np.fromiter((r.answer_id for r in reviews), dtype=np.int64, count=len(reviews))
    answer_index, answer_counts, _, _ = _group_stats(answers, scores)
    answer_sums = np.bincount(answer_index, weights=scores)
    count = answer_counts[answer_index]
    shared = count >= 2
    others_mean = (answer_sums[answer_index][shared] - scores[shared]) / (count[shared] - 1)
    offsets = scores[shared] - others_mean
    ids, index = np.unique(reviewers[shared], return_inverse=True)
    if not len(ids):
        return {}
    means = np.bincount(index, weights=offsets) / np.bincount(index)
    return dict(zip(ids.tolist(), means.tolist(), strict=True))


def agreement_alpha(reviews: Sequence[RawReview]) -> float | None:
    """Return Krippendorff's alpha (interval level) for one stage's reviews, or None.

    None when fewer than two answers have at least two reviews, or when every pairable score
    is the same (alpha is 0/0 then). Computed in closed form rather than by calling
    ``krippendorff.alpha``: the library builds a units × values × values array, which runs
    out of memory on a real stage with continuous weighted scores. The tests check this
    against the library.
    """
    if not reviews:
        return None
    _, _, scores = _columns(reviews)
    answers = np.fromiter((r.answer_id for r in reviews), dtype=np.int64, count=len(reviews))
    index, counts, _, _ = _group_stats(answers, scores)
    pairable_units = counts >= 2
    if pairable_units.sum() < 2:
        return None
    # Units with a single review carry no pairable value in Krippendorff's definition.
    pairable = pairable_units[index]
    values = scores[pairable]
    _, counts, _, stds = _group_stats(answers[pairable], values)
    n = len(values)
    # Σ over ordered pairs in a unit of (a−b)² is 2·m·Σ(v−mean)² = 2·m²·var, so observed
    # disagreement is Σ m²·var/(m−1) per unit, over n; expected is 2·Σ(v−v̄)²/(n−1).
    within = (counts * counts * stds * stds / (counts - 1)).sum()
    total = ((values - values.mean()) ** 2).sum()
    if total <= _ZERO_STD:
        return None
    return float(1.0 - (n - 1) * within / (n * total))


def candidate_scores(
    reviews: Sequence[RawReview],
    normalised: Mapping[int, float],
    *,
    answer_to_candidacy: Mapping[int, int],
) -> dict[int, CandidateScore]:
    """Return each candidacy's stage result from its answers' reviews.

    The stage score is the mean over the candidacy's reviewed answers of each answer's mean
    normalised score (raw likewise from raw scores), so an answer with an extra review does
    not weigh more than its siblings. Criteria are averaged over all the candidacy's reviews
    that score that criterion. Spread is the largest raw disagreement on any of its answers —
    the same measure that asks for extra reviews. A candidacy whose answers have no reviews
    yet is present with score None.
    """
    by_answer: dict[int, list[RawReview]] = defaultdict(list)
    for review in reviews:
        if review.answer_id not in answer_to_candidacy:
            raise ValueError(f"review {review.review_id} is for unknown answer {review.answer_id}")
        if review.review_id not in normalised:
            raise ValueError(f"review {review.review_id} has no normalised score")
        by_answer[review.answer_id].append(review)

    answers_of: dict[int, list[int]] = defaultdict(list)
    for answer_id, candidacy_id in answer_to_candidacy.items():
        answers_of[candidacy_id].append(answer_id)

    result: dict[int, CandidateScore] = {}
    for candidacy_id, answer_ids in answers_of.items():
        answer_norm: list[float] = []
        answer_raw: list[float] = []
        spreads: list[float] = [0.0]
        criterion_values: dict[str, list[int]] = defaultdict(list)
        count = 0
        for answer_id in answer_ids:
            answer_reviews = by_answer.get(answer_id)
            if not answer_reviews:
                continue
            raw = [r.score for r in answer_reviews]
            answer_raw.append(sum(raw) / len(raw))
            answer_norm.append(
                sum(normalised[r.review_id] for r in answer_reviews) / len(answer_reviews)
            )
            spreads.append(spread(raw))
            count += len(answer_reviews)
            for review in answer_reviews:
                for key, value in review.criteria.items():
                    criterion_values[key].append(value)
        result[candidacy_id] = CandidateScore(
            score=sum(answer_norm) / len(answer_norm) if answer_norm else None,
            raw=sum(answer_raw) / len(answer_raw) if answer_raw else None,
            criteria={key: sum(v) / len(v) for key, v in sorted(criterion_values.items())},
            reviews=count,
            spread=max(spreads),
        )
    return result
