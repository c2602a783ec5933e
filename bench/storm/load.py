"""The simulated people of a storm, driven by locust in this process (gevent).

    python -m bench.storm.load PLAN.json RESULT.json

Run by bench/storm/__main__.py, never imported by it: locust patches the standard library for
gevent, which must not happen to the process that runs the servers and the database checks.

- **Applicants** open their stage page, then type: every ``save_every`` seconds (± 30 %) the
  answer they are on grows by a chunk and is autosaved as JSON with the version the last save
  returned, exactly as autosave.js does; each answer grows to 1,000–3,000 characters within
  its task's word limits. Some have the stage open in a second tab that saves now and then and
  runs into the version check (409) — it then takes the server's version and goes quiet, as a
  person choosing the other tab would. A share of them finish in the last minute: they save
  every answer once more and press Submit. The rest keep typing past the deadline, until the
  server says time is up.
- **Reviewers** take an answer (POST next), read it, score every criterion and submit; the
  next answer comes with the redirect.
- **The coordinator** opens the stage ranking, page after page.

Every acknowledged save is recorded (answer, version, SHA-256 of the text) and so is every
save that got no answer; the storm compares them with the database afterwards.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import hashlib  # noqa: E402 - after gevent's patching, as locust requires
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from http.cookiejar import Cookie  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, between, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402

from bench.seed import WORDS  # noqa: E402

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version-(\d+)" value="(\d+)"')
CRITERION = re.compile(r'name="(c-\d+)"')
PLAN: dict = {}


class Ledger:
    """What the server acknowledged, per answer, and what it never answered."""

    def __init__(self):
        self.acked: dict[int, tuple[int, str]] = {}
        self.unconfirmed: dict[int, list[str]] = defaultdict(list)
        self.counts: Counter = Counter()
        self.server_errors: Counter = Counter()
        self.problems: Counter = Counter()
        self.submitted_by_hand: list[int] = []
        # Seconds from the deadline → response times (ms) of typing autosaves sent then.
        self.timeline: dict[int, list[float]] = defaultdict(list)

    def ack(self, answer_id: int, version: int, digest: str) -> None:
        """Remember an acknowledged save (the highest version wins)."""
        if version > self.acked.get(answer_id, (-1, ""))[0]:
            self.acked[answer_id] = (version, digest)
        self.unconfirmed[answer_id] = [d for d in self.unconfirmed[answer_id] if d != digest]


LEDGER = Ledger()


def digest(text: str) -> str:
    """The SHA-256 of a text (what the database check compares)."""
    return hashlib.sha256(text.encode()).hexdigest()


class Person:
    """What one applicant is writing, shared by their tabs."""

    def __init__(self, spec: dict, rng: random.Random):
        self.candidacy = spec["candidacy"]
        self.answers: list[int] = spec["answers"]
        self.cookie = spec["cookie"]
        self.tabs = spec["tabs"]
        self.submits = spec["submits"]
        limits = PLAN["task_limits"]
        self.targets = []
        for low, high in limits:
            chars = rng.randint(1000, 3000)
            # ≈ 8 characters a word (7 letters and a space) in the generated Russian prose.
            words = min(max(chars // 8, low + 5), (high or 10_000) - 5)
            self.targets.append(words)
        self.words: list[list[str]] = [[] for _ in self.answers]
        self.version: dict[int, int] = dict.fromkeys(self.answers, 0)
        self.done = False

    def current(self) -> int:
        """Index of the answer being written (the first not yet at its target)."""
        for i, words in enumerate(self.words):
            if len(words) < self.targets[i]:
                return i
        return len(self.answers) - 1

    def grow(self, i: int, rng: random.Random, *, to_target: bool = False) -> str:
        """Type on: a chunk of words (the answers fill up by the deadline), or everything up
        to the target at once."""
        remaining = max(self.targets[i] - len(self.words[i]), 1)
        chunk = max(5, sum(self.targets) // max(PLAN["expected_saves"], 1))
        chunk = remaining if to_target else min(chunk, remaining)
        self.words[i].extend(rng.choice(WORDS) for _ in range(chunk))
        return " ".join(self.words[i]).capitalize() + "."


PEOPLE: list[Person] = []
TABS: list[tuple[Person, bool]] = []


def _cookie(value: str) -> Cookie:
    return Cookie(0, PLAN["cookie_name"], value, None, False, "127.0.0.1", False, False, "/",
                  True, False, None, True, None, None, {"HttpOnly": None}, rfc2109=False)


class Browser(FastHttpUser):
    """Shared by the people of the storm: a logged-in session and its CSRF token."""

    abstract = True
    network_timeout = 30.0
    connection_timeout = 30.0

    def login_as(self, cookie: str) -> None:
        """Carry the session cookie a login left (see bench/storm/world.py)."""
        self.client.cookiejar.set_cookie(_cookie(cookie))
        self.token = ""
        self.rng = random.Random()

    def page(self, path: str, name: str) -> str | None:
        """GET a page; remember its CSRF token. None when it failed."""
        with self.client.get(path, name=name, catch_response=True,
                             headers={"User-Agent": PLAN["ua"]}) as response:
            if response.status_code != 200:
                _failed(response, name)
                return None
            text = response.text or ""
            found = TOKEN.search(text)
            if found:
                self.token = found.group(1)
            response.success()
            return text

    def form(self, path: str, name: str, data: dict, *, expect=(302,)):
        """POST a form with the CSRF token; the response, or None when it failed."""
        with self.client.post(path, name=name, data={**data, "csrf_token": self.token},
                              headers={"User-Agent": PLAN["ua"]}, allow_redirects=False,
                              catch_response=True) as response:
            if response.status_code not in expect:
                _failed(response, name)
                return None
            response.success()
            return response


def _failed(response, name: str) -> None:
    status = response.status_code or 0
    if status >= 500:
        LEDGER.server_errors[f"{name} {status}"] += 1
    LEDGER.problems[f"{name}: HTTP {status}"] += 1
    response.failure(f"HTTP {status}")


class Applicant(Browser):
    """One tab of one applicant."""

    wait_time = constant(0)

    def on_start(self):
        """Take the next tab, open the stage page."""
        self.person, self.main = TABS.pop()
        self.login_as(self.person.cookie)
        self.rng = random.Random(self.person.candidacy * 2 + self.main)
        stage = PLAN["urls"]["stage"].replace("{id}", str(self.person.candidacy))
        page = self.page(stage, "applicant: stage page")
        if page is None:
            raise StopUser()
        for answer_id, version in VERSION.findall(page):
            if int(answer_id) in self.person.version:
                self.person.version[int(answer_id)] = max(self.person.version[int(answer_id)],
                                                          int(version))
        self.tab_version = dict(self.person.version)
        # People arrive at different moments: spread the first saves over one interval.
        gevent.sleep(self.rng.uniform(0, PLAN["save_every"]))

    def save(self, i: int, text: str, *, name: str = "applicant: autosave") -> str:
        """Autosave answer ``i``; 'ok', 'conflict', 'closed' or 'error'."""
        answer_id = self.person.answers[i]
        base = self.tab_version[answer_id]
        text_digest = digest(text)
        LEDGER.unconfirmed[answer_id].append(text_digest)
        LEDGER.counts["saves sent"] += 1
        sent_at = time.time()
        with self.client.post(PLAN["urls"]["autosave"].replace("{id}", str(answer_id)),
                              name=name, data=json.dumps({"text": text, "version": base}),
                              headers={"Content-Type": "application/json",
                                       "Accept": "application/json", "X-CSRFToken": self.token,
                                       "User-Agent": PLAN["ua"]},
                              catch_response=True) as response:
            status = response.status_code
            body = _json(response.text)
            if name == "applicant: autosave":
                LEDGER.timeline[int(sent_at - PLAN["deadline"])].append(
                    (time.time() - sent_at) * 1000)
            if status == 200 and body.get("version") == base + 1:
                response.success()
                self.tab_version[answer_id] = base + 1
                self.person.version[answer_id] = max(self.person.version[answer_id], base + 1)
                LEDGER.ack(answer_id, base + 1, text_digest)
                LEDGER.counts["saves acknowledged"] += 1
                return "ok"
            LEDGER.unconfirmed[answer_id].remove(text_digest)
            if status == 409 and body.get("error") == "conflict":
                response.success()
                self.tab_version[answer_id] = int(body["version"])
                LEDGER.counts["conflicts (two tabs)"] += 1
                return "conflict"
            if status == 409 and body.get("error") in ("deadline", "submitted"):
                response.success()
                # Sent before the deadline but queued past it: from the server's side it
                # arrived late (the job's grace is for requests already being worked on).
                if sent_at < PLAN["deadline"]:
                    LEDGER.counts["saves sent before the deadline, served after it"] += 1
                LEDGER.counts["saves refused after the deadline"] += 1
                return "closed"
            if status == 0:
                # No answer at all: the save may or may not have landed.
                LEDGER.unconfirmed[answer_id].append(text_digest)
            _failed(response, name)
            return "error"

    @task
    def type_and_save(self):
        """Type for a while, then save — or finish and submit in the last minute."""
        person = self.person
        if person.done:
            raise StopUser()
        gap = PLAN["save_every"] * self.rng.uniform(0.7, 1.3) * (1 if self.main else 3)
        now = time.time()
        if self.main and person.submits and now >= person.submits:
            self.finish()
            raise StopUser()
        if self.main and person.submits and now + gap > person.submits:
            gevent.sleep(max(person.submits - now, 0))
            return
        gevent.sleep(gap)
        i = person.current()
        if not self.main:
            # The other tab has an older copy of what is typed: saving it runs into the check.
            text = " ".join(person.words[i][:-3] or ["…"])
            if self.save(i, text, name="applicant: autosave (second tab)") != "ok":
                raise StopUser()
            return
        outcome = self.save(i, person.grow(i, self.rng))
        if outcome == "closed":
            person.done = True
            raise StopUser()

    def finish(self):
        """The last minute: save every answer complete, then submit the stage."""
        person = self.person
        for i in range(len(person.answers)):
            outcome = self.save(i, person.grow(i, self.rng, to_target=True),
                                name="applicant: autosave (final)")
            if outcome == "conflict":
                outcome = self.save(i, " ".join(person.words[i]).capitalize() + ".",
                                    name="applicant: autosave (final)")
            if outcome == "closed":
                person.done = True
                return
        path = PLAN["urls"]["submit"].replace("{id}", str(person.candidacy))
        response = self.form(path, "applicant: submit", {}, expect=(302, 200))
        if response is not None and response.status_code == 302:
            LEDGER.submitted_by_hand.append(person.candidacy)
            LEDGER.counts["submitted by hand"] += 1
        elif response is not None:
            LEDGER.counts["submit page shown again (word limits)"] += 1
        person.done = True


class Reviewer(Browser):
    """Takes an answer, reads it, scores it; again."""

    wait_time = between(0, 1)

    def on_start(self):
        """Log in and open the queue."""
        self.login_as(PLAN["reviewers"].pop())
        self.task_ids = list(PLAN["task_ids"])
        self.page(PLAN["urls"]["review_home"], "reviewer: queue")
        self.location = None

    @task
    def review(self):
        """One answer: lease, read, score."""
        if self.location is None:
            task_id = self.rng.choice(self.task_ids)
            response = self.form(PLAN["urls"]["next"].replace("{id}", str(task_id)),
                                 "reviewer: take an answer", {})
            if response is None:
                gevent.sleep(5)
                return
            self.location = response.headers.get("Location", "")
        if "/review/answers/" not in (self.location or ""):
            self.location = None  # nothing left of that task
            gevent.sleep(5)
            return
        path = "/" + self.location.split("/", 3)[-1] if "://" in self.location else self.location
        page = self.page(path, "reviewer: answer page")
        self.location = None
        if page is None:
            return
        gevent.sleep(self.rng.uniform(*PLAN["review_seconds"]))
        scores = {name: str(self.rng.randint(2, 5)) for name in set(CRITERION.findall(page))}
        response = self.form(path + "/submit", "reviewer: submit a review",
                             {**scores, "comment": "Понятно и вежливо."})
        if response is not None:
            LEDGER.counts["reviews submitted"] += 1
            self.location = response.headers.get("Location", "")


class Coordinator(Browser):
    """Opens the stage ranking, page after page, as a coordinator watching the wave."""

    wait_time = between(3, 6)

    def on_start(self):
        """Log in."""
        self.login_as(PLAN["coordinator"])
        self.pages = 0

    @task
    def ranking(self):
        """The next page of the ranking."""
        self.pages = self.pages % 5 + 1
        self.page(f"{PLAN['urls']['ranking']}?page={self.pages}", "coordinator: ranking")


def _json(text: str | None) -> dict:
    try:
        value = json.loads(text or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _reset_autosave_stats(env: Environment) -> None:
    for (name, _method), entry in env.stats.entries.items():
        if name == "applicant: autosave":
            entry.reset()


def run(plan: dict) -> dict:
    """Run the people until the plan's end; return the figures."""
    PLAN.update(plan)
    rng = random.Random(plan["seed"])
    for spec in plan["applicants"]:
        person = Person(spec, rng)
        PEOPLE.append(person)
        TABS.extend((person, main) for main in (True, False)[:spec["tabs"]])
    rng.shuffle(TABS)
    Applicant.fixed_count = len(TABS)
    Reviewer.fixed_count = len(plan["reviewers"])
    Coordinator.fixed_count = 1
    for cls in (Applicant, Reviewer, Coordinator):
        cls.host = plan["host"]
    env = Environment(user_classes=[Applicant, Reviewer, Coordinator], events=events)
    runner = env.create_local_runner()
    users = len(TABS) + len(plan["reviewers"]) + 1
    runner.start(users, spawn_rate=plan["spawn_rate"])
    # Everyone opens the page in the first seconds, a stampede the last minutes of a real
    # wave do not have (people have had the page open for an hour): the autosave figures
    # start once all are in and have saved once.
    settled = users / plan["spawn_rate"] + plan["save_every"] * 1.3
    gevent.spawn_later(settled, _reset_autosave_stats, env)
    gevent.spawn_later(max(plan["end"] - time.time(), 1), runner.quit)
    runner.greenlet.join()
    stats = {}
    for (name, method), entry in env.stats.entries.items():
        stats[name] = {
            "method": method, "requests": entry.num_requests, "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.50),
            "p95": entry.get_response_time_percentile(0.95),
            "p99": entry.get_response_time_percentile(0.99),
            "max": entry.max_response_time, "rps": entry.total_rps,
        }
    return {
        "stats": stats,
        "acked": {str(k): list(v) for k, v in LEDGER.acked.items()},
        "unconfirmed": {str(k): v for k, v in LEDGER.unconfirmed.items() if v},
        "counts": dict(LEDGER.counts),
        "server_errors": dict(LEDGER.server_errors),
        "problems": dict(LEDGER.problems),
        "submitted_by_hand": LEDGER.submitted_by_hand,
        "timeline": {second: [len(times), round(max(times)),
                              round(sorted(times)[int(0.99 * (len(times) - 1))])]
                     for second, times in sorted(LEDGER.timeline.items())},
        "users": users,
    }


def main() -> None:
    """python -m bench.storm.load PLAN RESULT."""
    plan_path, result_path = Path(sys.argv[1]), Path(sys.argv[2])
    result = run(json.loads(plan_path.read_text()))
    result_path.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
