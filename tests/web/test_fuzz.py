"""Hypothesis drives every form of the site with hostile input: no server error, and every
page escapes what it shows.

Forms are discovered, not listed: every GET page each kind of visitor can open in the test
world is fetched and its ``<form method=post>`` elements are parsed, so a new form is fuzzed
without touching this file. JSON endpoints announced by a page (``data-*-url`` attributes on
an element, as the autosave script uses) are fuzzed with JSON bodies the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recruit.db import utcnow
from recruit.domain import applications
from recruit.models import Role
from tests.factories import make_user
from tests.world import ROLES, build_world, url_params

# What would appear if a page printed input unescaped. The payloads below contain them.
LEAKS = ("<script>alert(", "<img src=x onerror", "<svg onload", '" autofocus onfocus="',
         "<iframe srcdoc")

PAYLOADS = [
    '<script>alert("x-{n}")</script>',
    '"><img src=x onerror=alert("x-{n}")>',
    "'><svg onload=alert({n})>",
    '" autofocus onfocus="alert({n})',
    "<iframe srcdoc='<script>alert({n})</script>'>",
    "{{{{ 7*7 }}}} ${{7*7}} %(x)s %s {{0}}",
    "javascript:alert({n})",
    "\u202eevil\u202c \u200f\u200e\u061c RTL \u05d0\u05d1\u05d2",
    "a\x00b\x00",
    "Robert'); DROP TABLE \"user\";--",
    "\ufeff\u200b\u2028\u2029 zero-width and separators",
    "\U0001f600 \U0001f469\u200d\U0001f4bb emoji and ZWJ",
]

LONG = "Ж" * 100_000

_counter = iter(range(10**9))


def _payload(template: str) -> str:
    return template.format(n=next(_counter))


hostile_text = st.one_of(
    st.sampled_from(PAYLOADS).map(_payload),
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30).map(lambda s: s + "\x00" + s),
    st.just(LONG),
    st.tuples(st.sampled_from(PAYLOADS).map(_payload), st.text(max_size=20)).map("".join),
    st.sampled_from(["", " ", "0", "-1", "99999999999999999999", "1e309", "NaN", "true",
                     "2026-02-30", "x@example.org", "a" * 255 + "@example.org"]),
)


# -- discovering forms ------------------------------------------------------------------------

@dataclass
class Field:
    name: str
    kind: str  # input type, "textarea" or "select"
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    page: str
    action: str
    fields: list[Field]

    @property
    def key(self) -> tuple:
        return (self.action, tuple(sorted(f.name for f in self.fields)))


@dataclass
class JsonEndpoint:
    page: str
    url: str


class FormParser(HTMLParser):
    """Collects POST forms with their named fields, and data-*-url JSON endpoints."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.endpoints: list[JsonEndpoint] = []
        self._form: Form | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        for name, value in a.items():
            if name.startswith("data-") and name.endswith("-url") and value.startswith("/"):
                self.endpoints.append(JsonEndpoint(self.page, value))
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = urljoin(self.page, a.get("action") or self.page)
                self._form = Form(self.page, action, [])
            return
        if tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            return
        if self._form is None or not a.get("name"):
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            self._form.fields.append(Field(a["name"], kind, a.get("value", "")))
        elif tag == "textarea":
            self._form.fields.append(Field(a["name"], "textarea"))
        elif tag == "select":
            self._select = Field(a["name"], "select")
            self._form.fields.append(self._select)

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None


def _login_as(client, db, user) -> None:
    client.logout()
    if user is not None:
        db.refresh(user)
        client.login(user)


def _get_pages(app, params) -> list[str]:
    urls = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
            if "GET" not in rule.methods or rule.endpoint in ("static", "main.healthz"):
                continue
            if any(a not in params for a in rule.arguments):
                continue
            urls.append(url_for(rule.endpoint, **{a: params[a] for a in rule.arguments}))
    return urls


def discover(app, client, db, user, params) -> tuple[list[Form], list[JsonEndpoint]]:
    """Every POST form and JSON endpoint on the pages this user can open."""
    forms: dict[tuple, Form] = {}
    endpoints: dict[str, JsonEndpoint] = {}
    for url in _get_pages(app, params):
        _login_as(client, db, user)
        response = client.get(url)
        if response.status_code == 200 and response.mimetype == "text/html":
            parser = FormParser(url)
            parser.feed(response.get_data(as_text=True))
            for form in parser.forms:
                forms.setdefault(form.key, form)
            for endpoint in parser.endpoints:
                endpoints.setdefault(endpoint.url, endpoint)
        response.close()
    return list(forms.values()), list(endpoints.values())


# -- checking responses -----------------------------------------------------------------------

def assert_safe(response, what: str) -> None:
    """No server error; an HTML page shows no input unescaped."""
    assert response.status_code < 500, f"{what}: {response.status_code}"
    if response.mimetype == "text/html":
        body = response.get_data(as_text=True)
        leaked = [leak for leak in LEAKS if leak in body]
        assert not leaked, f"{what}: unescaped {leaked}"


def _fresh_token(client) -> str:
    body = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)


def _local(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != "localhost":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _value_for(data, fld: Field) -> str | None:
    """A hostile or, sometimes, a well-formed value for one field; None leaves it out."""
    if fld.kind in ("checkbox", "radio"):
        return data.draw(st.sampled_from([fld.value or "y", None, "🙂"]), label=fld.name)
    if fld.kind == "select" and fld.options:
        return data.draw(st.one_of(st.sampled_from(fld.options), hostile_text), label=fld.name)
    if fld.kind == "hidden":
        return data.draw(st.one_of(st.just(fld.value), hostile_text), label=fld.name)
    return data.draw(st.one_of(hostile_text, st.just(fld.value)), label=fld.name)


def fuzz_form(client, data, form: Form) -> None:
    token = _fresh_token(client)
    payload = {}
    for fld in form.fields:
        if fld.name == "csrf_token":
            payload[fld.name] = token
            continue
        value = _value_for(data, fld)
        if value is not None:
            payload[fld.name] = value
    response = client.post(form.action, data=payload, headers={"Accept-Language": "en"})
    assert_safe(response, f"POST {form.action} from {form.page}")
    location = response.headers.get("Location")
    response.close()
    if location and (target := _local(location)):
        follow = client.get(target)
        assert_safe(follow, f"GET {target} after POST {form.action}")
        follow.close()


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
              hostile_text),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=10), children, max_size=3)),
    max_leaves=8,
)


def fuzz_json(client, data, endpoint: JsonEndpoint) -> None:
    token = _fresh_token(client)
    body = data.draw(st.one_of(
        st.fixed_dictionaries({}, optional={"text": hostile_text, "version": json_values,
                                            "task_id": json_values, "answers": json_values}),
        json_values,
    ), label="json")
    response = client.post(endpoint.url, json=body,
                           headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert_safe(response, f"JSON POST {endpoint.url}")
    response.close()


# -- the test ---------------------------------------------------------------------------------

@pytest.fixture
def world(db):
    return build_world(db)


FUZZ = settings(max_examples=25, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def _fuzz_as(client, db, user, targets) -> None:
    @FUZZ
    @given(data=st.data())
    def run(data):
        _login_as(client, db, user)
        target = data.draw(st.sampled_from(targets), label="target")
        if isinstance(target, Form):
            fuzz_form(client, data, target)
        else:
            fuzz_json(client, data, target)

    run()


def personas(db, world) -> list[tuple[str, object, dict]]:
    """Every kind of visitor, plus applicants at the steps whose forms the world's applicant
    (stage 1 handed in) no longer sees: one writing stage 1, one who has not applied yet."""
    params = url_params(world)
    found = [(role, world.users[role], params) for role in ROLES]
    stage = world.campaign.stages[0]
    writer = make_user(db, role=Role.APPLICANT)
    candidacy = applications.apply(db, user=writer, campaign=world.campaign, now=utcnow())
    applications.start_stage(db, candidacy=candidacy, stage=stage, now=utcnow())
    found.append(("applicant writing", writer, {**params, "candidacy_id": candidacy.id,
                                                "code": candidacy.code}))
    found.append(("applicant new", make_user(db, role=Role.APPLICANT), params))
    return found


def test_every_form_survives_hostile_input_and_escapes_it(app, client, db, world):
    everyone = personas(db, world)
    found = {}
    for name, user, params in everyone:
        forms, endpoints = discover(app, client, db, user, params)
        found[name] = {form.action for form in forms} | {e.url for e in endpoints}
        if forms or endpoints:
            _fuzz_as(client, db, user, [*forms, *endpoints])
    assert {"/login", "/register", "/reset"} <= found["anonymous"]

    # What one visitor typed must be escaped on every page anyone opens afterwards.
    for name, user, params in everyone:
        for url in _get_pages(app, params):
            _login_as(client, db, user)
            response = client.get(url)
            assert_safe(response, f"GET {url} as {name} after fuzzing")
            response.close()


def test_the_form_parser_finds_fields_and_endpoints():
    parser = FormParser("/page")
    parser.feed('<form method="post" action="/x"><input name="csrf_token" type="hidden" '
                'value="t"><input name="a"><textarea name="b"></textarea><select name="c">'
                '<option value="1">one</option><option value="2">two</option></select>'
                '<input type="submit" name="go"></form><form method="get"><input name="q">'
                '</form><div data-autosave-url="/me/save" data-other="x"></div>')
    [form] = parser.forms
    assert form.action == "/x"
    assert [(f.name, f.kind) for f in form.fields] == [
        ("csrf_token", "hidden"), ("a", "text"), ("b", "textarea"), ("c", "select")]
    assert form.fields[3].options == ["1", "2"]
    assert [e.url for e in parser.endpoints] == ["/me/save"]


@pytest.mark.parametrize("body", [f"<p>{p.format(n=1)}</p>" for p in PAYLOADS[:5]],
                         ids=["script", "img", "svg", "attribute", "iframe"])
def test_the_leak_check_sees_an_unescaped_payload(body):
    from flask import Response

    with pytest.raises(AssertionError, match="unescaped"):
        assert_safe(Response(body, mimetype="text/html"), "a leaky page")
    escaped = body.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        '"', "&#34;").replace("'", "&#39;")
    assert_safe(Response(escaped, mimetype="text/html"), "an escaped page")
