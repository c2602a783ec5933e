"""Alternate roles: which job roles a candidate's per-criterion averages meet, and by how much.

Pure functions over plain values; the caller loads the profile (criterion key → average over
the candidacy's reviews) and the roles. Matching works after any stage on what has been
scored so far: a requirement on a criterion never scored is not yet known, so it neither
meets nor fails the role, and the match says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Averages are shown to two decimals; a requirement met "as shown" counts as met, so a
# coordinator never sees 3.50 listed as falling short of 3.5.
_TOLERANCE = 0.005


@dataclass(frozen=True)
class RoleSpec:
    """What the matcher needs of a job role: its key, titles and minimum averages."""

    key: str
    title_en: str
    title_ru: str
    requirements: Mapping[str, float]

    def title(self, locale: str) -> str:
        """The title in the given language."""
        return self.title_ru if locale == "ru" else self.title_en


@dataclass(frozen=True)
class CriterionCheck:
    """One requirement of a role against a candidate's average on that criterion."""

    key: str
    required: float
    actual: float | None

    @property
    def known(self) -> bool:
        """Whether the criterion has been scored at all so far."""
        return self.actual is not None

    @property
    def met(self) -> bool:
        """A criterion not scored yet does not meet the requirement (it is not yet known)."""
        return self.actual is not None and self.actual >= self.required - _TOLERANCE

    @property
    def margin(self) -> float | None:
        """How far above (positive) or below (negative) the minimum; None when never scored."""
        return None if self.actual is None else self.actual - self.required


@dataclass(frozen=True)
class RoleMatch:
    """A role evaluated against one profile, with the reason for every requirement."""

    role: RoleSpec
    checks: tuple[CriterionCheck, ...]

    @property
    def unknown(self) -> tuple[CriterionCheck, ...]:
        """The requirements on criteria nobody has scored yet."""
        return tuple(check for check in self.checks if not check.known)

    @property
    def complete(self) -> bool:
        """Every requirement is known (scored at least once)."""
        return not self.unknown

    @property
    def matched(self) -> bool:
        """Every requirement known so far is met, and at least one is known; a role without
        requirements never matches by itself."""
        known = [check for check in self.checks if check.known]
        return bool(known) and all(check.met for check in known)

    @property
    def surplus(self) -> float:
        """The smallest margin over the known requirements: how comfortably the role fits."""
        margins = [c.margin for c in self.checks if c.margin is not None]
        return min(margins) if margins else float("-inf")


def role_specs(roles: Iterable) -> list[RoleSpec]:
    """Turn JobRole rows (or anything with the same attributes) into plain specs."""
    return [
        RoleSpec(key=r.key, title_en=r.title_en, title_ru=r.title_ru,
                 requirements={k: float(v) for k, v in (r.requirements or {}).items()})
        for r in roles
    ]


def evaluate(profile: Mapping[str, float], role: RoleSpec) -> RoleMatch:
    """Check every requirement of ``role`` against ``profile``, in the role's key order."""
    checks = tuple(
        CriterionCheck(key=key, required=float(minimum),
                       actual=None if profile.get(key) is None else float(profile[key]))
        for key, minimum in sorted(role.requirements.items())
    )
    return RoleMatch(role=role, checks=checks)


def match_roles(profile: Mapping[str, float], roles: Iterable[RoleSpec], *,
                exclude: Iterable[str] = ()) -> list[RoleMatch]:
    """Return the roles whose every known requirement the profile meets: those known in
    full first, then the best fit first.

    ``exclude`` holds role keys not to offer (typically the role the candidate just did not
    pass). Ties on fit are broken by role key, so the order is stable.
    """
    excluded = set(exclude)
    matches = [evaluate(profile, role) for role in roles if role.key not in excluded]
    return sorted((m for m in matches if m.matched),
                  key=lambda m: (not m.complete, -m.surplus, m.role.key))
