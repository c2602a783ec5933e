"""The questionnaire format: shipped files validate, broken files say exactly what is wrong."""

from pathlib import Path

import pytest

from recruit.domain.questionnaires import (
    Document,
    Problem,
    QuestionnaireError,
    check_files,
    check_text,
    load_file,
    parse_document,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "questionnaires"
FIXTURES = ROOT / "tests" / "fixtures" / "questionnaires"
SLUG_HINT = 'a key of lowercase Latin letters, digits and single hyphens (like "stage-1")'
TEXT_HINT = "a table of English (en) and Russian (ru) text"


def test_every_shipped_file_is_valid():
    paths = sorted(SHIPPED.glob("*.toml"))

    assert {path.name for path in paths} >= {
        "support-agent.toml",
        "moderator.toml",
        "job-roles.toml",
        "interview-bank.toml",
    }
    assert [str(problem) for problem in check_files(paths)] == []


def test_each_shipped_file_is_valid_on_its_own_against_its_directory():
    for path in sorted(SHIPPED.glob("*.toml")):
        assert check_files([path]) == [], path.name


def test_support_agent_track_matches_the_brief():
    track = load_file(SHIPPED / "support-agent.toml").data

    assert track["role"] == "support-agent"
    assert track["eligibility"]["min_age"] == 18
    assert track["eligibility"]["citizenships"] == ["RU", "AM", "BY", "KZ", "KG"]
    assert [a["key"] for a in track["eligibility"]["acknowledgements"]] == [
        "documents",
        "office-visit",
    ]
    assert len(track["stages"][0]["tasks"]) == 3
    assert track["stages"][0]["pass_rule"]["kind"] == "top_n"
    assert all(stage["pass_rule"]["kind"] == "min_score" for stage in track["stages"][1:])


def test_job_roles_offer_and_requirements():
    roles = {role["key"]: role for role in load_file(SHIPPED / "job-roles.toml").data["roles"]}

    assert {"support-agent", "moderator"} < set(roles)
    offer = roles["support-agent"]["offer"]
    assert (offer["salary_min"], offer["currency"], offer["period"]) == (36000, "RUB", "month")
    assert roles["moderator"]["track"] == "moderator"
    assert roles["moderator"]["requirements"]["judgement"] >= 3.5


def _stage_one_criteria(track_name: str) -> set[str]:
    track = load_file(SHIPPED / f"{track_name}.toml").data
    return {c["key"] for task in track["stages"][0]["tasks"] for c in task["rubric"]}


def test_every_shipped_role_can_be_suggested_after_stage_1_of_every_track():
    roles = load_file(SHIPPED / "job-roles.toml").data["roles"]
    for track_name in ("support-agent", "moderator"):
        scored = _stage_one_criteria(track_name)
        for role in roles:
            if role["key"] != track_name:
                assert set(role["requirements"]) & scored, (track_name, role["key"])


def test_after_stage_1_of_the_agent_track_every_other_role_is_known_in_full():
    scored = _stage_one_criteria("support-agent")
    roles = load_file(SHIPPED / "job-roles.toml").data["roles"]
    assert {role["key"]: sorted(set(role["requirements"]) - scored) for role in roles
            if role["key"] != "support-agent"} == {"moderator": [], "help-centre-editor": []}


def test_interview_bank_has_ten_questions_in_each_of_five_categories():
    bank = load_file(SHIPPED / "interview-bank.toml").data

    assert [category["key"] for category in bank["categories"]] == [
        "personality",
        "culture-fit",
        "background-experience",
        "work-habits",
        "career-goals",
    ]
    assert all(len(category["questions"]) >= 10 for category in bank["categories"])


# Each case: fixture file, other files checked with it, the exact problems expected.
BROKEN = [
    pytest.param(
        "syntax-error.toml",
        [],
        ["syntax-error.toml:12: syntax error: Unclosed inline table (column 32)"],
        id="syntax-error-with-line",
    ),
    pytest.param(
        "redefined-key.toml",
        [],
        ["redefined-key.toml:3: syntax error: Cannot overwrite a value (column 19)"],
        id="key-defined-twice-is-a-syntax-error",
    ),
    pytest.param(
        "unknown-kind.toml",
        [],
        [
            'unknown-kind.toml: kind: expected one of "track", "job-roles", "question-bank", '
            'got "trak"'
        ],
        id="unknown-kind",
    ),
    pytest.param(
        "unknown-keys.toml",
        [],
        [
            "unknown-keys.toml: colour: unknown key; expected one of: "
            "description, eligibility, key, kind, role, stages, title",
            "unknown-keys.toml: title.de: unknown key; expected one of: en, ru",
            "unknown-keys.toml: stages[0].tasks[0].promt: unknown key; expected one of: "
            "guidance, key, max_words, min_words, prompt, rubric",
            f"unknown-keys.toml: stages[0].tasks[0].prompt: missing; expected {TEXT_HINT}",
        ],
        id="unknown-keys",
    ),
    pytest.param(
        "missing-russian.toml",
        [],
        [
            "missing-russian.toml: title.ru: missing; expected non-empty Russian text",
            'missing-russian.toml: description.ru: expected non-empty Russian text, got "   "',
            "missing-russian.toml: eligibility.acknowledgements[0].text.ru: "
            "expected non-empty Russian text, got 42",
            "missing-russian.toml: stages[0].tasks[0].prompt.ru: "
            'expected non-empty Russian text, got ""',
            f"missing-russian.toml: stages[0].tasks[0].guidance: expected {TEXT_HINT}, "
            'got "No right answers."',
            "missing-russian.toml: stages[0].tasks[0].rubric[0].descriptors.3.ru: "
            "missing; expected non-empty Russian text",
        ],
        id="missing-or-empty-russian-text",
    ),
    pytest.param(
        "missing-everything.toml",
        [],
        [
            f"missing-everything.toml: key: missing; expected {SLUG_HINT}",
            f"missing-everything.toml: role: missing; expected {SLUG_HINT}",
            f"missing-everything.toml: title: missing; expected {TEXT_HINT}",
            "missing-everything.toml: eligibility: missing; expected a table ([eligibility])",
            "missing-everything.toml: stages: expected at least one stage, got an empty array",
        ],
        id="missing-keys-and-no-stages",
    ),
    pytest.param(
        "rubric-problems.toml",
        [],
        [
            "rubric-problems.toml: stages[0].time_limit_minutes: "
            "expected a whole number of at least 1, got 0",
            "rubric-problems.toml: stages[0].tasks[0].min_words: "
            "expected at most max_words (400), got 500",
            "rubric-problems.toml: stages[0].tasks[0].rubric[0].weight: "
            "expected a number greater than 0, got -1",
            "rubric-problems.toml: stages[0].tasks[0].rubric[0].descriptors.3: "
            f"missing; expected {TEXT_HINT}",
            "rubric-problems.toml: stages[0].tasks[0].rubric[1].weight: "
            "expected a number greater than 0, got 0",
            "rubric-problems.toml: stages[0].tasks[0].rubric[1].descriptors.6: "
            "unknown key; expected one of: 1, 2, 3, 4, 5",
            "rubric-problems.toml: stages[0].tasks[0].rubric[2].weight: "
            'expected a number greater than 0, got "heavy"',
        ],
        id="weights-descriptors-time-limit-word-limits",
    ),
    pytest.param(
        "pass-rules.toml",
        [],
        [
            "pass-rules.toml: stages[0].pass_rule.value: expected a whole number of at least 1 "
            "(the number of applicants who pass), got 0",
            "pass-rules.toml: stages[0].tasks: expected at least one task, got an empty array",
            "pass-rules.toml: stages[1].pass_rule.value: expected a score from 1 to 5, got 6",
            "pass-rules.toml: stages[1].tasks[0].rubric: "
            "expected at least one criterion, got an empty array",
            'pass-rules.toml: stages[2].pass_rule.kind: expected one of "top_n", "min_score", '
            'got "best_of"',
        ],
        id="unmeetable-or-unknown-pass-rules-and-empty-stage-and-task",
    ),
    pytest.param(
        "duplicate-keys.toml",
        [],
        [
            f'duplicate-keys.toml: key: expected {SLUG_HINT}, got "Duplicate Keys"',
            "duplicate-keys.toml: eligibility.acknowledgements[1].key: "
            'duplicate key "documents"; already used by eligibility.acknowledgements[0]',
            "duplicate-keys.toml: stages[0].tasks[0].rubric[1].key: "
            'duplicate key "clarity"; already used by stages[0].tasks[0].rubric[0]',
            'duplicate-keys.toml: stages[1].key: duplicate key "stage-1"; '
            "already used by stages[0]",
            'duplicate-keys.toml: stages[1].tasks[0].key: duplicate key "essay"; '
            "already used by stages[0].tasks[0]",
        ],
        id="duplicate-keys-and-bad-slug",
    ),
    pytest.param(
        "eligibility-problems.toml",
        [],
        [
            "eligibility-problems.toml: eligibility.min_age: "
            'expected a whole number from 14 to 100, got "18"',
            "eligibility-problems.toml: eligibility.citizenships[1]: "
            'expected an ISO 3166-1 alpha-2 country code in capitals, got "ru"',
            "eligibility-problems.toml: eligibility.citizenships[2]: "
            'expected an ISO 3166-1 alpha-2 country code in capitals, got "RUS"',
            "eligibility-problems.toml: eligibility.citizenships[3]: "
            'expected an ISO 3166-1 alpha-2 country code in capitals, got "XX"',
            'eligibility-problems.toml: eligibility.citizenships[5]: duplicate country code "RU"',
        ],
        id="bad-citizenships-and-age",
    ),
    pytest.param(
        "roles-problems.toml",
        ["support-agent.toml", "moderator.toml"],
        [
            'roles-problems.toml: roles[0].requirements.charisma: unknown criterion "charisma"; '
            "expected one defined in a track rubric: "
            "clarity, empathy, judgement, literacy, rules, tone",
            "roles-problems.toml: roles[0].requirements.empathy: "
            "expected a score from 1 to 5, got 6",
            "roles-problems.toml: roles[0].offer.salary_min: "
            "expected a whole number of at least 1, got 0",
            "roles-problems.toml: roles[0].offer.currency: "
            'expected an ISO 4217 currency code in capitals (like "RUB"), got "RUR"',
            'roles-problems.toml: roles[0].offer.period: expected one of "hour", "month", "year", '
            'got "fortnight"',
            'roles-problems.toml: roles[1].key: duplicate key "support-agent"; '
            "already used by roles[0]",
            "roles-problems.toml: roles[1].offer: missing; expected a table ([roles.offer])",
            # Tracks beside the file count too: astronaut is a valid track among the fixtures.
            'roles-problems.toml: roles[1].track: unknown track "pilot"; '
            "expected one of: astronaut, moderator, support-agent",
        ],
        id="job-role-unknown-criterion-currency-duplicates",
    ),
    pytest.param(
        "track-unknown-role.toml",
        ["job-roles.toml"],
        [
            'track-unknown-role.toml: role: unknown job role "astronaut"; '
            "expected one of: help-centre-editor, moderator, support-agent",
        ],
        id="track-for-unknown-job-role",
    ),
    pytest.param(
        "bank-problems.toml",
        [],
        [
            "bank-problems.toml: categories[0].questions[1].key: "
            f'expected {SLUG_HINT}, got "Calm_Again"',
            "bank-problems.toml: categories[0].questions[1].prompt.ru: "
            "missing; expected non-empty Russian text",
            'bank-problems.toml: categories[1].key: duplicate key "personality"; '
            "already used by categories[0]",
            "bank-problems.toml: categories[1].questions: "
            "expected at least one question, got an empty array",
            'bank-problems.toml: categories[2].questions[0].key: duplicate key "calm"; '
            "already used by categories[0].questions[0]",
        ],
        id="question-bank-duplicates",
    ),
]


@pytest.mark.parametrize(("fixture", "shipped", "expected"), BROKEN)
def test_broken_file_reports_exactly_these_problems(fixture, shipped, expected):
    paths = [FIXTURES / fixture] + [SHIPPED / name for name in shipped]

    assert [str(problem) for problem in check_files(paths)] == expected


def test_every_fixture_file_is_covered():
    covered = {param.values[0] for param in BROKEN}

    assert covered == {path.name for path in FIXTURES.glob("*.toml")}


def test_parse_document_raises_with_every_problem():
    text = (FIXTURES / "rubric-problems.toml").read_text(encoding="utf-8")

    with pytest.raises(QuestionnaireError) as caught:
        parse_document(text, filename="rubric-problems.toml")

    assert len(caught.value.problems) == 7
    assert caught.value.problems == check_text(text, filename="rubric-problems.toml")
    assert "rubric[2].weight" in str(caught.value)


def test_problem_strings_for_syntax_and_semantic_problems():
    syntax = Problem("support-agent.toml", 12, "", "syntax error: Invalid value (column 5)")
    semantic = Problem(
        "support-agent.toml",
        None,
        "stages[1].tasks[0].rubric[2].weight",
        "expected a number greater than 0, got -1",
    )

    assert str(syntax) == "support-agent.toml:12: syntax error: Invalid value (column 5)"
    assert str(semantic) == (
        "support-agent.toml: stages[1].tasks[0].rubric[2].weight: "
        "expected a number greater than 0, got -1"
    )


def test_syntax_error_at_end_of_file_names_the_last_line():
    problems = check_text('kind = "track"\nstages = [1, 2\n\n', filename="cut.toml")

    assert [str(problem) for problem in problems] == [
        "cut.toml:2: syntax error: Unclosed array (at the end of the file)"
    ]


@pytest.fixture
def support_agent_text():
    return (SHIPPED / "support-agent.toml").read_text(encoding="utf-8")


def test_content_hash_ignores_comments_whitespace_and_number_spelling(support_agent_text):
    original = parse_document(support_agent_text, filename="support-agent.toml")
    reformatted = (
        "# a new comment at the top\n\n"
        + support_agent_text.replace("\n[[", "\n\n\n[[")
        .replace("weight = 1.0", "weight   =   1")
        .replace("min_age = 18", "min_age = 18  # adults only")
        .replace('title = { en = "Tone", ru = "Тон" }', 'title.en = "Tone"\ntitle.ru = "Тон"')
        + "\n# and one at the end\n"
    )

    assert reformatted != support_agent_text
    assert parse_document(reformatted, filename="x.toml").content_hash == original.content_hash


def test_content_hash_changes_when_content_changes(support_agent_text):
    original = parse_document(support_agent_text, filename="support-agent.toml")
    edited = support_agent_text.replace("value = 200", "value = 150", 1)

    assert edited != support_agent_text
    assert parse_document(edited, filename="x.toml").content_hash != original.content_hash


def test_document_data_is_normalised_with_defaults():
    text = (FIXTURES / "track-unknown-role.toml").read_text(encoding="utf-8")

    document = parse_document(text, filename="track-unknown-role.toml")

    assert isinstance(document, Document)
    assert (document.kind, document.key) == ("track", "astronaut")
    assert document.data["kind"] == "track"
    assert document.data["description"] is None
    assert document.data["eligibility"]["acknowledgements"] == []
    task = document.data["stages"][0]["tasks"][0]
    assert (task["min_words"], task["max_words"]) == (0, None)
    assert task["rubric"][0]["weight"] == 1.0
    assert isinstance(task["rubric"][0]["weight"], float)
    assert set(task["rubric"][0]["descriptors"]) == {"1", "3", "5"}
    assert len(document.content_hash) == 64


def test_tracks_in_the_directory_are_used_when_none_are_given(tmp_path):
    (tmp_path / "night.toml").write_text(
        (FIXTURES / "track-unknown-role.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    roles = tmp_path / "roles.toml"
    roles.write_text(
        'kind = "job-roles"\n'
        "[[roles]]\n"
        'key = "astronaut"\n'
        'title = { en = "Astronaut", ru = "Космонавт" }\n'
        'track = "astronaut"\n'
        "requirements = { clarity = 3, literacy = 3 }\n"
        "[roles.offer]\n"
        "salary_min = 1\n"
        'currency = "RUB"\n'
        'period = "month"\n'
        'work_format = "office"\n',
        encoding="utf-8",
    )

    assert [str(problem) for problem in check_files([roles])] == [
        'roles.toml: roles[0].requirements.literacy: unknown criterion "literacy"; '
        "expected one defined in a track rubric: clarity",
    ]
    # The track, checked alone, finds its role in the job-roles file beside it.
    assert check_files([tmp_path / "night.toml"]) == []


def test_job_roles_are_not_cross_checked_without_any_tracks():
    text = (FIXTURES / "roles-problems.toml").read_text(encoding="utf-8")

    messages = [problem.message for problem in check_text(text, filename="roles.toml")]

    assert not any("unknown criterion" in message for message in messages)
    assert not any("unknown track" in message for message in messages)


def test_job_role_track_must_hire_for_that_role():
    track = load_file(SHIPPED / "moderator.toml")
    text = (
        (SHIPPED / "job-roles.toml")
        .read_text(encoding="utf-8")
        .replace('track = "support-agent"', 'track = "moderator"')
    )

    problems = check_text(text, filename="job-roles.toml", known_tracks={"moderator": track.data})

    assert [problem.path for problem in problems if "hires for" in problem.message] == [
        "roles[0].track"
    ]


def test_two_tracks_with_the_same_key_are_reported(tmp_path):
    copy = tmp_path / "copy.toml"
    copy.write_text((SHIPPED / "moderator.toml").read_text(encoding="utf-8"), encoding="utf-8")

    problems = check_files([SHIPPED / "moderator.toml", copy])

    assert [str(problem) for problem in problems] == [
        'copy.toml: key: duplicate track key "moderator"; already defined in moderator.toml'
    ]


def test_unreadable_files_are_reported(tmp_path):
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")

    problems = check_files([tmp_path / "missing.toml", binary])

    assert [str(problem) for problem in problems] == [
        "missing.toml: cannot read file: No such file or directory",
        "binary.toml: cannot read file: expected UTF-8 text",
    ]
    with pytest.raises(QuestionnaireError):
        load_file(tmp_path / "missing.toml")


def test_values_of_the_wrong_shape_are_reported_without_crashing():
    text = """
kind = "track"
key = "shapes"
role = "support-agent"
title = { en = "Shapes", ru = "Формы" }
eligibility = 3
[[stages]]
key = "s"
title = { en = "S", ru = "Э" }
instructions = { en = "Write.", ru = "Пишите." }
time_limit_minutes = 5
pass_rule = 3
[[stages.tasks]]
key = "t"
prompt = { en = "P", ru = "П" }
guidance = { en = "G", ru = "Г" }
rubric = [1, { key = "c", title = { en = "C", ru = "К" }, weight = inf, descriptors = 3 }]
"""

    assert [(problem.path, problem.message) for problem in check_text(text, filename="x")] == [
        ("eligibility", "expected a table ([eligibility]), got 3"),
        (
            "stages[0].pass_rule",
            'expected a table like { kind = "top_n", value = 200 } '
            'or { kind = "min_score", value = 3.5 }, got 3',
        ),
        ("stages[0].tasks[0].rubric[0]", "expected a table (one criterion), got 1"),
        ("stages[0].tasks[0].rubric[1].weight", "expected a number greater than 0, got inf"),
        (
            "stages[0].tasks[0].rubric[1].descriptors",
            "expected a table of texts for scores 1, 3 and 5 "
            "(like { 1 = {...}, 3 = {...}, 5 = {...} }), got 3",
        ),
    ]
