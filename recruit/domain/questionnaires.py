"""Questionnaire files: tracks, job roles and the interview question bank.

Every file is TOML with a top-level ``kind``. ``check_text`` and ``check_files`` report every
problem they find (never only the first); ``parse_document`` and ``load_file`` return a
validated, normalised ``Document`` whose ``content_hash`` identifies its content regardless of
comments and layout. The format is documented in ``questionnaires/README.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycountry

KINDS = ("track", "job-roles", "question-bank")
LANGUAGES = {"en": "English", "ru": "Russian"}
PASS_RULE_KINDS = ("top_n", "min_score")
WORK_FORMATS = ("remote", "office", "hybrid")
PAY_PERIODS = ("hour", "month", "year")
SCORE_MIN, SCORE_MAX = 1, 5
REQUIRED_DESCRIPTORS = ("1", "3", "5")
ALLOWED_DESCRIPTORS = ("1", "2", "3", "4", "5")
MIN_AGE_RANGE = (14, 100)

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_BARE_PATH_PART = re.compile(r"^[A-Za-z0-9_-]+$")
_TOML_POSITION = re.compile(
    r"^(?P<message>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$"
)
_SLUG_HINT = 'a key of lowercase Latin letters, digits and single hyphens (like "stage-1")'
_TEXT_HINT = "a table of English (en) and Russian (ru) text"
_STAGE_RULE_HINT = (
    'a table like { kind = "top_n", value = 200 } or { kind = "min_score", value = 3.5 }'
)
_DESCRIPTORS_HINT = (
    "a table of texts for scores 1, 3 and 5 (like { 1 = {...}, 3 = {...}, 5 = {...} })"
)
_ELIGIBILITY_HINT = "a table ([eligibility])"
_OFFER_HINT = "a table ([roles.offer])"
# Marks a value that failed its check; the problem has already been reported.
_BAD: Any = object()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a questionnaire file, located by line (syntax) or by key path."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}: {self.message}"
        if self.path:
            return f"{self.file}: {self.path}: {self.message}"
        return f"{self.file}: {self.message}"


class QuestionnaireError(Exception):
    """Raised when a questionnaire document has problems; ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class Document:
    """A validated questionnaire document with its defaults filled in and a content hash."""

    kind: str
    key: str
    data: dict
    content_hash: str


def content_hash(data: dict) -> str:
    """Return the sha256 hex digest of the canonical JSON form of validated document data."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_text(
    text: str, *, filename: str, known_tracks: dict[str, dict] | None = None
) -> list[Problem]:
    """Return every problem in one questionnaire document (empty when it is valid)."""
    return _validate(text, filename=filename, known_tracks=known_tracks)[0]


def parse_document(
    text: str, *, filename: str, known_tracks: dict[str, dict] | None = None
) -> Document:
    """Validate one questionnaire document and return it, or raise ``QuestionnaireError``."""
    problems, data = _validate(text, filename=filename, known_tracks=known_tracks)
    if problems:
        raise QuestionnaireError(problems)
    return Document(kind=data["kind"], key=data["key"], data=data, content_hash=content_hash(data))


def load_file(path: Path) -> Document:
    """Read, validate and return the questionnaire document stored at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionnaireError([_read_problem(path, exc)]) from exc
    return parse_document(text, filename=path.name)


def check_files(paths: list[Path]) -> list[Problem]:
    """Check questionnaire files, including references between tracks and job roles."""
    texts: dict[Path, str] = {}
    unreadable: dict[Path, Problem] = {}
    for path in paths:
        try:
            texts[path] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            unreadable[path] = _read_problem(path, exc)

    documents = {path: _try_parse(text, path.name) for path, text in texts.items()}
    tracks: dict[str, dict] = {}
    track_files: dict[str, str] = {}
    call_roles: list[dict] = []
    for path, document in documents.items():
        if document is not None and document.kind == "track":
            tracks.setdefault(document.key, document.data)
            track_files.setdefault(document.key, path.name)
        elif document is not None and document.kind == "job-roles":
            call_roles.append(document.data)

    problems: list[Problem] = []
    for path in paths:
        if path in unreadable:
            problems.append(unreadable[path])
            continue
        text, document = texts[path], documents[path]
        if _peek_kind(text) == "job-roles":
            # The tracks beside the file count too, so checking a few files at a time does not
            # report criteria defined by a track that was merely left out of the command.
            known = dict(_documents_beside(path, "track")) | tracks
            problems.extend(check_text(text, filename=path.name, known_tracks=known or None))
        elif document is None:
            problems.extend(check_text(text, filename=path.name))
        elif document.kind == "track":
            if tracks[document.key] is not document.data:
                problems.append(
                    Problem(
                        path.name,
                        None,
                        "key",
                        f'duplicate track key "{document.key}"; '
                        f"already defined in {track_files[document.key]}",
                    )
                )
            role_files = call_roles + [data for _, data in _documents_beside(path, "job-roles")]
            problems.extend(_check_track_role(document, path.name, role_files))
    return problems


def _peek_kind(text: str) -> object:
    """Return the top-level ``kind`` of a document, or None if it cannot be parsed."""
    try:
        return tomllib.loads(text).get("kind")
    except tomllib.TOMLDecodeError:
        return None


def _check_track_role(document: Document, filename: str, role_files: list[dict]) -> list[Problem]:
    """Report a track whose role is not defined by any of the known job-roles documents."""
    if not role_files:
        return []
    role_keys = sorted({role["key"] for data in role_files for role in data["roles"]})
    role = document.data["role"]
    if role in role_keys:
        return []
    return [
        Problem(
            filename,
            None,
            "role",
            f'unknown job role "{role}"; expected one of: {", ".join(role_keys)}',
        )
    ]


def _documents_beside(path: Path, kind: str) -> Iterator[tuple[str, dict]]:
    """Yield (key, data) of the valid documents of ``kind`` in the directory of ``path``."""
    for sibling in sorted(path.resolve().parent.glob("*.toml")):
        try:
            text = sibling.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        document = _try_parse(text, sibling.name)
        if document is not None and document.kind == kind:
            yield document.key, document.data


def _try_parse(text: str, filename: str) -> Document | None:
    """Return the document if it is valid on its own, else None."""
    try:
        return parse_document(text, filename=filename)
    except QuestionnaireError:
        return None


def _read_problem(path: Path, exc: Exception) -> Problem:
    """Describe why a file could not be read."""
    if isinstance(exc, UnicodeDecodeError):
        return Problem(path.name, None, "", "cannot read file: expected UTF-8 text")
    reason = getattr(exc, "strerror", None) or str(exc)
    return Problem(path.name, None, "", f"cannot read file: {reason}")


def _validate(
    text: str, *, filename: str, known_tracks: dict[str, dict] | None
) -> tuple[list[Problem], dict]:
    """Parse and check one document; return its problems and its normalised data."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [_syntax_problem(exc, text, filename)], {}
    checker = _Checker(filename)
    data = checker.document(raw, known_tracks)
    return checker.problems, data


def _syntax_problem(exc: tomllib.TOMLDecodeError, text: str, filename: str) -> Problem:
    """Turn a TOML decoding error into a problem carrying its line number."""
    message = str(exc)
    line = getattr(exc, "lineno", None)  # Python 3.14 adds it; 3.11 only has it in the text
    match = _TOML_POSITION.match(message)
    if match:
        message = match["message"]
        if match["line"]:
            line = line or int(match["line"])
            message += f" (column {match['column']})"
        else:
            line = line or text.rstrip().count("\n") + 1
            message += " (at the end of the file)"
    return Problem(filename, line, "", f"syntax error: {message}")


def _join(path: str, key: str | int) -> str:
    """Append a table key or an array index to a problem path."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    part = key if _BARE_PATH_PART.match(key) else json.dumps(key, ensure_ascii=False)
    return f"{path}.{part}" if path else part


def _describe(value: object) -> str:
    """Show a value the way the file would spell it, briefly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return json.dumps(shown, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table" if value else "an empty table"
    if isinstance(value, list):
        return "an array" if value else "an empty array"
    return f"a date or time ({value})"


def _one_of(options: list[str], *, none: str, lead: str = "expected one of") -> str:
    """Say which values would have been accepted, or that there are none."""
    return f"{lead}: {', '.join(options)}" if options else none


def _is_number(value: object) -> bool:
    """Tell whether a TOML value is an integer or a float (booleans are not numbers)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Checker:
    """Walks one parsed document, collecting problems and building normalised data."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    # --- reporting -------------------------------------------------------------------

    def report(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.filename, None, path, message))

    def expected(self, path: str, what: str, value: object) -> None:
        self.report(path, f"expected {what}, got {_describe(value)}")

    # --- building blocks -------------------------------------------------------------

    def table(
        self, value: object, path: str, allowed: Iterable[str], what: str = "a table"
    ) -> dict | None:
        """Return ``value`` if it is a table, reporting keys outside ``allowed``."""
        if not isinstance(value, dict):
            self.expected(path, what, value)
            return None
        allowed = list(allowed)
        for name in value:
            if name not in allowed:
                self.report(
                    _join(path, name), f"unknown key; expected one of: {', '.join(sorted(allowed))}"
                )
        return value

    def field(
        self,
        table: dict,
        path: str,
        name: str,
        what: str,
        check: Callable[[Any, str], Any],
        *,
        required: bool = True,
        default: Any = None,
    ) -> Any:
        """Check one key of a table with ``check``; report it if required and missing."""
        if name not in table:
            if required:
                self.report(_join(path, name), f"missing; expected {what}")
                return _BAD
            return default
        return check(table[name], _join(path, name))

    def slug(self, table: dict, path: str, name: str = "key", **options: Any) -> Any:
        return self.field(table, path, name, _SLUG_HINT, self._slug, **options)

    def _slug(self, value: object, path: str) -> Any:
        if isinstance(value, str) and _SLUG.match(value):
            return value
        self.expected(path, _SLUG_HINT, value)
        return _BAD

    def text(self, table: dict, path: str, name: str, **options: Any) -> Any:
        return self.field(table, path, name, _TEXT_HINT, self._text, **options)

    def _text(self, value: object, path: str) -> Any:
        table = self.table(value, path, LANGUAGES, _TEXT_HINT)
        if table is None:
            return _BAD
        result: dict[str, Any] = {}
        for language, name in LANGUAGES.items():
            what = f"non-empty {name} text"
            if language not in table:
                self.report(_join(path, language), f"missing; expected {what}")
                result[language] = _BAD
            elif not isinstance(table[language], str) or not table[language].strip():
                self.expected(_join(path, language), what, table[language])
                result[language] = _BAD
            else:
                result[language] = table[language].strip()
        return result

    def integer(
        self,
        table: dict,
        path: str,
        name: str,
        *,
        minimum: int,
        maximum: int | None = None,
        **options: Any,
    ) -> Any:
        if maximum is None:
            what = f"a whole number of at least {minimum}"
        else:
            what = f"a whole number from {minimum} to {maximum}"

        def check(value: object, at: str) -> Any:
            if (
                isinstance(value, int)
                and not isinstance(value, bool)
                and value >= minimum
                and (maximum is None or value <= maximum)
            ):
                return value
            self.expected(at, what, value)
            return _BAD

        return self.field(table, path, name, what, check, **options)

    def number(
        self, value: object, path: str, *, what: str, accept: Callable[[float], bool]
    ) -> Any:
        if _is_number(value) and math.isfinite(value) and accept(value):
            return float(value)
        self.expected(path, what, value)
        return _BAD

    def score(self, value: object, path: str) -> Any:
        return self.number(
            value,
            path,
            what=f"a score from {SCORE_MIN} to {SCORE_MAX}",
            accept=lambda number: SCORE_MIN <= number <= SCORE_MAX,
        )

    def choice(self, table: dict, path: str, name: str, options: Iterable[str]) -> Any:
        choices = ", ".join(f'"{option}"' for option in options)
        what = f"one of {choices}"

        def check(value: object, at: str) -> Any:
            if value in options:
                return value
            self.expected(at, what, value)
            return _BAD

        return self.field(table, path, name, what, check)

    def tables(
        self,
        table: dict,
        path: str,
        name: str,
        noun: str,
        header: str,
        *,
        allow_empty: bool = False,
    ) -> list[tuple[str, dict]]:
        """Return (path, table) for each element of an array of tables, non-empty by default."""
        what = f"an array of {noun}s ([[{header}]])"
        value = self.field(table, path, name, what, lambda value, at: value)
        at = _join(path, name)
        if value is _BAD:
            return []
        if not isinstance(value, list):
            self.expected(at, what, value)
            return []
        if not value and not allow_empty:
            self.expected(at, f"at least one {noun}", value)
        items = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                items.append((_join(at, index), item))
            else:
                self.expected(_join(at, index), f"a table (one {noun})", item)
        return items

    def key(self, table: dict, path: str, seen: dict[str, str]) -> Any:
        """Check the ``key`` of an array element: its format and that no sibling shares it."""
        key = self.slug(table, path)
        self.unique(seen, key, path)
        return key

    def unique(self, seen: dict[str, str], key: Any, path: str) -> None:
        """Report ``key`` if an earlier item (recorded in ``seen``) already used it."""
        if key is _BAD:
            return
        if key in seen:
            self.report(_join(path, "key"), f'duplicate key "{key}"; already used by {seen[key]}')
        else:
            seen[key] = path

    # --- documents -------------------------------------------------------------------

    def document(self, raw: dict, known_tracks: dict[str, dict] | None) -> dict:
        kind = raw.get("kind")
        if kind not in KINDS:
            choices = ", ".join(f'"{option}"' for option in KINDS)
            if "kind" in raw:
                self.expected("kind", f"one of {choices}", kind)
            else:
                self.report("kind", f"missing; expected one of {choices}")
            return {}
        if kind == "track":
            return self.track(raw)
        if kind == "job-roles":
            return self.job_roles(raw, known_tracks)
        return self.question_bank(raw)

    def track(self, raw: dict) -> dict:
        self.table(
            raw, "", ("kind", "key", "role", "title", "description", "eligibility", "stages")
        )
        data = {
            "kind": "track",
            "key": self.slug(raw, ""),
            "role": self.slug(raw, "", "role"),
            "title": self.text(raw, "", "title"),
            "description": self.text(raw, "", "description", required=False),
            "eligibility": self.field(raw, "", "eligibility", _ELIGIBILITY_HINT, self.eligibility),
            "stages": [],
        }
        stage_keys: dict[str, str] = {}
        task_keys: dict[str, str] = {}
        for path, stage in self.tables(raw, "", "stages", "stage", "stages"):
            data["stages"].append(self.stage(stage, path, stage_keys, task_keys))
        return data

    def eligibility(self, value: object, path: str) -> Any:
        table = self.table(
            value, path, ("min_age", "citizenships", "acknowledgements"), _ELIGIBILITY_HINT
        )
        if table is None:
            return _BAD
        data = {
            "min_age": self.integer(
                table, path, "min_age", minimum=MIN_AGE_RANGE[0], maximum=MIN_AGE_RANGE[1]
            ),
            "citizenships": self.field(
                table,
                path,
                "citizenships",
                'an array of ISO 3166-1 alpha-2 country codes (like ["RU", "KZ"])',
                self.citizenships,
            ),
            "acknowledgements": [],
        }
        if "acknowledgements" in table:
            seen: dict[str, str] = {}
            tables = self.tables(
                table,
                path,
                "acknowledgements",
                "acknowledgement",
                "eligibility.acknowledgements",
                allow_empty=True,
            )
            for item_path, item in tables:
                self.table(item, item_path, ("key", "text"))
                acknowledgement = {
                    "key": self.key(item, item_path, seen),
                    "text": self.text(item, item_path, "text"),
                }
                data["acknowledgements"].append(acknowledgement)
        return data

    def citizenships(self, value: object, path: str) -> Any:
        what = 'an array of ISO 3166-1 alpha-2 country codes (like ["RU", "KZ"])'
        if not isinstance(value, list):
            self.expected(path, what, value)
            return _BAD
        if not value:
            self.expected(path, "at least one country code", value)
        codes: list[str] = []
        for index, code in enumerate(value):
            at = _join(path, index)
            if not (
                isinstance(code, str)
                and len(code) == 2
                and code.isupper()
                and pycountry.countries.get(alpha_2=code) is not None
            ):
                self.expected(at, "an ISO 3166-1 alpha-2 country code in capitals", code)
            elif code in codes:
                self.report(at, f'duplicate country code "{code}"')
            else:
                codes.append(code)
        return codes

    def stage(
        self, stage: dict, path: str, stage_keys: dict[str, str], task_keys: dict[str, str]
    ) -> dict:
        self.table(
            stage,
            path,
            ("key", "title", "instructions", "time_limit_minutes", "pass_rule", "tasks"),
        )
        data = {
            "key": self.key(stage, path, stage_keys),
            "title": self.text(stage, path, "title"),
            "instructions": self.text(stage, path, "instructions"),
            "time_limit_minutes": self.integer(stage, path, "time_limit_minutes", minimum=1),
            "pass_rule": self.field(
                stage,
                path,
                "pass_rule",
                _STAGE_RULE_HINT,
                self.pass_rule,
            ),
            "tasks": [],
        }
        for task_path, task in self.tables(stage, path, "tasks", "task", "stages.tasks"):
            data["tasks"].append(self.task(task, task_path, task_keys))
        return data

    def pass_rule(self, value: object, path: str) -> Any:
        table = self.table(value, path, ("kind", "value"), _STAGE_RULE_HINT)
        if table is None:
            return _BAD
        kind = self.choice(table, path, "kind", PASS_RULE_KINDS)
        if kind == "top_n":
            what = "a whole number of at least 1 (the number of applicants who pass)"

            def check(number: object, at: str) -> Any:
                if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
                    return number
                self.expected(at, what, number)
                return _BAD

            return {"kind": kind, "value": self.field(table, path, "value", what, check)}
        if kind == "min_score":
            what = f"a score from {SCORE_MIN} to {SCORE_MAX}"
            return {"kind": kind, "value": self.field(table, path, "value", what, self.score)}
        return _BAD

    def task(self, task: dict, path: str, task_keys: dict[str, str]) -> dict:
        self.table(task, path, ("key", "prompt", "guidance", "min_words", "max_words", "rubric"))
        data = {
            "key": self.key(task, path, task_keys),
            "prompt": self.text(task, path, "prompt"),
            "guidance": self.text(task, path, "guidance"),
            "min_words": self.integer(
                task, path, "min_words", minimum=0, required=False, default=0
            ),
            "max_words": self.integer(task, path, "max_words", minimum=1, required=False),
            "rubric": [],
        }
        low, high = data["min_words"], data["max_words"]
        if isinstance(low, int) and isinstance(high, int) and low > high:
            self.expected(_join(path, "min_words"), f"at most max_words ({high})", low)
        seen: dict[str, str] = {}
        for item_path, item in self.tables(
            task, path, "rubric", "criterion", "stages.tasks.rubric"
        ):
            data["rubric"].append(self.criterion(item, item_path, seen))
        return data

    def criterion(self, criterion: dict, path: str, seen: dict[str, str]) -> dict:
        self.table(criterion, path, ("key", "title", "weight", "descriptors"))
        what = "a number greater than 0"
        return {
            "key": self.key(criterion, path, seen),
            "title": self.text(criterion, path, "title"),
            "weight": self.field(
                criterion,
                path,
                "weight",
                what,
                lambda value, at: self.number(value, at, what=what, accept=lambda n: n > 0),
            ),
            "descriptors": self.field(
                criterion,
                path,
                "descriptors",
                _DESCRIPTORS_HINT,
                self.descriptors,
            ),
        }

    def descriptors(self, value: object, path: str) -> Any:
        table = self.table(value, path, ALLOWED_DESCRIPTORS, _DESCRIPTORS_HINT)
        if table is None:
            return _BAD
        result = {}
        for score in ALLOWED_DESCRIPTORS:
            required = score in REQUIRED_DESCRIPTORS
            text = self.text(table, path, score, required=required)
            if text is not None:
                result[score] = text
        return result

    def job_roles(self, raw: dict, known_tracks: dict[str, dict] | None) -> dict:
        self.table(raw, "", ("kind", "key", "roles"))
        data = {
            "kind": "job-roles",
            "key": self.slug(raw, "", required=False, default="job-roles"),
            "roles": [],
        }
        criteria = None
        if known_tracks is not None:
            criteria = sorted(
                {
                    criterion["key"]
                    for track in known_tracks.values()
                    for stage in track["stages"]
                    for task in stage["tasks"]
                    for criterion in task["rubric"]
                }
            )
        seen: dict[str, str] = {}
        for path, role in self.tables(raw, "", "roles", "role", "roles"):
            data["roles"].append(self.role(role, path, seen, known_tracks, criteria))
        return data

    def role(
        self,
        role: dict,
        path: str,
        seen: dict[str, str],
        known_tracks: dict[str, dict] | None,
        criteria: list[str] | None,
    ) -> dict:
        self.table(role, path, ("key", "title", "track", "requirements", "offer"))
        data = {
            "key": self.key(role, path, seen),
            "title": self.text(role, path, "title"),
            "track": self.slug(role, path, "track", required=False),
            "requirements": self.field(
                role,
                path,
                "requirements",
                "a table of criterion keys and minimum average scores from 1 to 5",
                lambda value, at: self.requirements(value, at, criteria),
                required=False,
                default={},
            ),
            "offer": self.field(role, path, "offer", _OFFER_HINT, self.offer),
        }
        track_key = data["track"]
        if known_tracks is not None and isinstance(track_key, str):
            at = _join(path, "track")
            if track_key not in known_tracks:
                self.report(
                    at,
                    f'unknown track "{track_key}"; '
                    + _one_of(sorted(known_tracks), none="no track is known"),
                )
            elif data["key"] is not _BAD and known_tracks[track_key]["role"] != data["key"]:
                self.report(
                    at,
                    f'track "{track_key}" hires for role "{known_tracks[track_key]["role"]}", '
                    f'not "{data["key"]}"',
                )
        return data

    def requirements(self, value: object, path: str, criteria: list[str] | None) -> Any:
        if not isinstance(value, dict):
            self.expected(path, "a table of criterion keys and minimum average scores", value)
            return _BAD
        result = {}
        for name, minimum in value.items():
            at = _join(path, name)
            if not _SLUG.match(name):
                self.report(at, f"expected {_SLUG_HINT} naming a rubric criterion")
                continue
            if criteria is not None and name not in criteria:
                self.report(
                    at,
                    f'unknown criterion "{name}"; '
                    + _one_of(
                        criteria,
                        none="no track rubric defines any criteria",
                        lead="expected one defined in a track rubric",
                    ),
                )
            result[name] = self.score(minimum, at)
        return result

    def offer(self, value: object, path: str) -> Any:
        table = self.table(
            value,
            path,
            ("salary_min", "currency", "period", "work_format", "conditions"),
            _OFFER_HINT,
        )
        if table is None:
            return _BAD
        what = 'an ISO 4217 currency code in capitals (like "RUB")'

        def currency(code: object, at: str) -> Any:
            if (
                isinstance(code, str)
                and len(code) == 3
                and code.isupper()
                and pycountry.currencies.get(alpha_3=code) is not None
            ):
                return code
            self.expected(at, what, code)
            return _BAD

        return {
            "salary_min": self.integer(table, path, "salary_min", minimum=1),
            "currency": self.field(table, path, "currency", what, currency),
            "period": self.choice(table, path, "period", PAY_PERIODS),
            "work_format": self.choice(table, path, "work_format", WORK_FORMATS),
            "conditions": self.text(table, path, "conditions", required=False),
        }

    def question_bank(self, raw: dict) -> dict:
        self.table(raw, "", ("kind", "key", "title", "categories"))
        data = {
            "kind": "question-bank",
            "key": self.slug(raw, ""),
            "title": self.text(raw, "", "title"),
            "categories": [],
        }
        category_keys: dict[str, str] = {}
        question_keys: dict[str, str] = {}
        for path, category in self.tables(raw, "", "categories", "category", "categories"):
            self.table(category, path, ("key", "title", "questions"))
            entry = {
                "key": self.key(category, path, category_keys),
                "title": self.text(category, path, "title"),
                "questions": [],
            }
            questions = self.tables(category, path, "questions", "question", "categories.questions")
            for question_path, question in questions:
                self.table(question, question_path, ("key", "prompt"))
                item = {
                    "key": self.key(question, question_path, question_keys),
                    "prompt": self.text(question, question_path, "prompt"),
                }
                entry["questions"].append(item)
            data["categories"].append(entry)
        return data
