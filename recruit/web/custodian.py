"""The custodian's pages: the only place identities are shown, each view audited.

Also here, because it belongs to custody: the coordinators' form asking the custodian to
contact a candidacy (``/coordinate/candidacies/<code>/contact``), which shows them nothing
but the code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from recruit import access, mail, security
from recruit.db import get_db, utcnow, writes
from recruit.domain import accounts, custody, notify, redaction
from recruit.domain import audit as audit_log
from recruit.domain.applications import MAX_ANSWER_CHARS
from recruit.i18n import current_language
from recruit.models import (
    Answer,
    AuditEvent,
    Campaign,
    Candidacy,
    ContactRequest,
    Stage,
    Submission,
    Task,
    User,
)
from recruit.web.forms import ConfirmForm
from recruit.web.labels import REDACTION_KINDS as KIND_LABELS

bp = Blueprint("custodian", __name__)

PREFIX = "/custody"
PAGE_SIZE = 50


ERRORS = {
    "draft": _l("This answer has not been submitted yet."),
    "bad_kind": _l("Choose what kind of data the stretch is."),
    "bad_range": _l("The stretch must lie inside the answer, and its end must come after its "
                    "start."),
    "empty_phrase": _l("Type the phrase to redact."),
    "long_phrase": _l("The phrase is too long (%(n)s characters at most).",
                      n=custody.PHRASE_MAX),
    "not_found": _l("The phrase does not occur in the answer."),
    "released": _l("This answer is already in review: it can only be redacted further, not "
                   "less."),
    "no_span": _l("There is no such redaction; the page may be out of date."),
    "no_flag": _l("There is no such suggestion any more; the page may be out of date."),
    "not_pending": _l("This answer is not waiting for the check any more."),
    "no_reason": _l("Give a reason for opening this identity."),
    "long_reason": _l("The reason is too long (%(n)s characters at most).",
                      n=custody.REASON_MAX),
    "empty_message": _l("Write what the custodian should tell the candidate."),
    "long_message": _l("The message is too long (%(n)s characters at most).",
                       n=custody.MESSAGE_MAX),
    "handled": _l("This request was already handled."),
    "not_custodian": _l("Only the custodian can do this."),
    "same_user": _l("You already are the custodian."),
    "custodian_not_coordinator": _l("Only a coordinator can be the custodian."),
    "inactive": _l("A deactivated account cannot be the custodian."),
    "in_reviewer_pool": _l("This account is in a reviewer pool, so it can never be the "
                           "custodian."),
}


def _error(exc: custody.CustodyError) -> str:
    return str(ERRORS.get(exc.code, exc))


def _kind_choices() -> list[tuple[str, str]]:
    # Names are what the custodian marks by hand most often: offer them first.
    kinds = sorted(redaction.KINDS, key=lambda kind: kind != "name")
    return [(kind, str(KIND_LABELS[kind])) for kind in kinds]


# -- forms -----------------------------------------------------------------------------------

class MarkSpanForm(FlaskForm):
    """Redact one stretch of the original, given by character offsets."""

    start = IntegerField(_l("From character"), validators=[
        InputRequired(message=_l("Give the first character's position.")),
        NumberRange(min=0, max=MAX_ANSWER_CHARS)])
    end = IntegerField(_l("To character (not included)"), validators=[
        InputRequired(message=_l("Give the position after the last character.")),
        NumberRange(min=1, max=MAX_ANSWER_CHARS)])
    kind = SelectField(_l("It is a"), validators=[DataRequired()])
    submit = SubmitField(_l("Redact this stretch"))


class MarkPhraseForm(FlaskForm):
    """Redact every occurrence of an exact phrase."""

    phrase = StringField(_l("Exact phrase"), validators=[
        DataRequired(message=_l("Type the phrase to redact.")),
        Length(max=custody.PHRASE_MAX)])
    kind = SelectField(_l("It is a"), validators=[DataRequired()])
    submit = SubmitField(_l("Redact every occurrence"))


class UnmarkForm(FlaskForm):
    """Take back one redaction, or (for a suggestion) confirm it."""

    start = HiddenField(validators=[DataRequired(), Length(max=9)])
    end = HiddenField(validators=[DataRequired(), Length(max=9)])
    submit = SubmitField(_l("Undo"))


class RevealForm(FlaskForm):
    """Open one identity, with a reason that goes to the audit log."""

    code = StringField(_l("Candidacy code"), validators=[
        DataRequired(message=_l("Type the candidacy code, e.g. K7-QX3M.")), Length(max=16)])
    reason = TextAreaField(_l("Reason (written to the audit log)"), validators=[
        DataRequired(message=_l("Give a reason for opening this identity.")),
        Length(max=custody.REASON_MAX)])
    submit = SubmitField(_l("Open identity"))


class HandoverForm(FlaskForm):
    """Pass the custodian flag to another coordinator."""

    successor = SelectField(_l("New custodian"), coerce=int, validators=[
        DataRequired(message=_l("Choose the coordinator who takes over."))])
    confirm = BooleanField(_l("I understand that I lose access to identities at once."),
                           validators=[DataRequired(message=_l("Confirm the handover."))])
    submit = SubmitField(_l("Hand over custody"))


class ContactForm(FlaskForm):
    """Ask the custodian to contact a candidacy."""

    message = TextAreaField(_l("What should the custodian tell or ask the candidate?"),
                            validators=[DataRequired(message=_l("Write a message.")),
                                        Length(max=custody.MESSAGE_MAX)])
    submit = SubmitField(_l("Send to the custodian"))


# -- view objects ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    """A piece of an answer's original text, redacted (``kind``) or kept (``kind`` None);
    ``flag`` marks a redaction the automatic pass only suggests."""

    start: int
    text: str
    kind: str | None
    flag: bool = False


def _segments(text: str, spans: list[dict]) -> list[Segment]:
    """Cut the original into kept and redacted pieces; overlapping spans are shown fused."""
    pieces: list[Segment] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (s["start"], -s["end"])):
        start, end = max(span["start"], pos), span["end"]
        if end <= start:
            continue
        if start > pos:
            pieces.append(Segment(pos, text[pos:start], None))
        pieces.append(Segment(start, text[start:end], span["kind"], bool(span.get("flag"))))
        pos = end
    if pos < len(text):
        pieces.append(Segment(pos, text[pos:], None))
    return pieces


def _auto_release_due(answer_submitted: datetime | None, hours: int | None) -> datetime | None:
    if hours is None or answer_submitted is None:
        return None
    return answer_submitted + timedelta(hours=hours)


def _page_number() -> int:
    return security.page_arg()


def _no_store(response):
    # Pages with originals or identities must not stay in a browser or proxy cache.
    response.headers["Cache-Control"] = "no-store"
    return response


# -- the queue -------------------------------------------------------------------------------

@bp.route(f"{PREFIX}/")
@access.guard(access.may_check_redaction)
@writes
def home():
    """The custodian's desk: answers waiting for the check and open contact requests."""
    db = get_db()
    released = custody.auto_release(db, now=utcnow())
    if released:
        flash(ngettext("%(num)d answer waited longer than its campaign allows and went to "
                       "review unchecked.",
                       "%(num)d answers waited longer than their campaign allows and went to "
                       "review unchecked.", released), "warning")
    page = _page_number()
    total = db.scalar(select(func.count()).select_from(Answer)
                      .where(Answer.check_status == "pending"))
    rows = db.execute(
        select(Answer.token, Answer.text, Answer.redaction_spans, Submission.submitted_at,
               Candidacy.code, Campaign.title_en, Campaign.title_ru, Campaign.auto_release_hours,
               Stage.position, Task.position.label("task_position"))
        .join(Submission, Submission.id == Answer.submission_id)
        .join(Candidacy, Candidacy.id == Submission.candidacy_id)
        .join(Campaign, Campaign.id == Candidacy.campaign_id)
        .join(Task, Task.id == Answer.task_id)
        .join(Stage, Stage.id == Task.stage_id)
        .where(Answer.check_status == "pending")
        .order_by(Submission.submitted_at, Answer.id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    queue = [{
        "token": r.token, "code": r.code,
        "campaign": r.title_ru if current_language() == "ru" else r.title_en,
        "stage": r.position, "task": r.task_position, "submitted_at": r.submitted_at,
        "spans": len(r.redaction_spans or []),
        "signed": redaction.looks_signed(r.text),
        "due": _auto_release_due(r.submitted_at, r.auto_release_hours),
    } for r in rows]
    asker = aliased(User)
    requests = db.execute(
        select(ContactRequest, Candidacy.code, asker.email)
        .join(Candidacy, Candidacy.id == ContactRequest.candidacy_id)
        .outerjoin(asker, asker.id == ContactRequest.requested_by_id)
        .where(ContactRequest.handled_at.is_(None))
        .order_by(ContactRequest.created_at)
    ).all()
    return render_template("custodian/home.html", queue=queue, total=total, page=page,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                           requests=requests, form=ConfirmForm())


def _answer(token: str) -> Answer:
    answer = get_db().scalar(select(Answer).where(Answer.token == token))
    # A calibration answer (no submission) has no original and no candidacy to check.
    if answer is None or answer.check_status == "draft" or answer.submission_id is None:
        abort(404)
    return answer


def _render_answer(answer: Answer, *, mark: MarkSpanForm | None = None,
                   phrase: MarkPhraseForm | None = None, status: int = 200):
    db = get_db()
    context = db.execute(
        select(Candidacy.code, Campaign.title_en, Campaign.title_ru, Campaign.auto_release_hours,
               Submission.submitted_at)
        .join(Submission, Submission.candidacy_id == Candidacy.id)
        .join(Campaign, Campaign.id == Candidacy.campaign_id)
        .where(Submission.id == answer.submission_id)
    ).one()
    mark = mark or MarkSpanForm(formdata=None)
    phrase = phrase or MarkPhraseForm(formdata=None)
    mark.kind.choices = phrase.kind.choices = _kind_choices()
    task = db.get(Task, answer.task_id)
    spans = sorted(answer.redaction_spans or [], key=lambda s: (s["start"], s["end"]))
    html = render_template(
        "custodian/answer.html", answer=answer, task=task, code=context.code,
        campaign=context.title_ru if current_language() == "ru" else context.title_en,
        submitted_at=context.submitted_at,
        due=_auto_release_due(context.submitted_at, context.auto_release_hours),
        segments=_segments(answer.text, spans), spans=spans,
        redacted=redaction.split_markers(answer.redacted_text or ""),
        signed=redaction.looks_signed(answer.text), kind_labels=KIND_LABELS,
        kinds=redaction.KINDS, open_flags=sum(1 for s in spans if s.get("flag")),
        mark=mark, phrase=phrase, unmark=UnmarkForm(formdata=None), confirm=ConfirmForm())
    return _no_store(make_response(html, status))


@bp.route(f"{PREFIX}/answers/<token>")
@access.guard(access.may_check_redaction)
def answer(token: str):
    """One answer: original and redacted side by side, with its spans."""
    return _render_answer(_answer(token))


@bp.route(f"{PREFIX}/answers/<token>/spans", methods=["POST"])
@access.guard(access.may_check_redaction)
def mark_span(token: str):
    """Redact one more stretch, chosen by offsets (the page's script fills them in)."""
    answer = _answer(token)
    form = MarkSpanForm()
    form.kind.choices = _kind_choices()
    if form.validate_on_submit():
        try:
            custody.mark_span(answer=answer, kind=form.kind.data, start=form.start.data,
                              end=form.end.data)
        except custody.CustodyError as exc:
            form.start.errors.append(_error(exc))
        else:
            flash(_("Redacted."), "success")
            return redirect(url_for(".answer", token=token))
    return _render_answer(answer, mark=form, status=400)


@bp.route(f"{PREFIX}/answers/<token>/phrase", methods=["POST"])
@access.guard(access.may_check_redaction)
def mark_phrase(token: str):
    """Redact every occurrence of a phrase."""
    answer = _answer(token)
    form = MarkPhraseForm()
    form.kind.choices = _kind_choices()
    if form.validate_on_submit():
        try:
            count = custody.mark_phrase(answer=answer, phrase=form.phrase.data,
                                        kind=form.kind.data)
        except custody.CustodyError as exc:
            form.phrase.errors.append(_error(exc))
        else:
            flash(ngettext("Redacted %(num)d occurrence.", "Redacted %(num)d occurrences.",
                           count), "success")
            return redirect(url_for(".answer", token=token))
    return _render_answer(answer, phrase=form, status=400)


def _act_on_span(token: str, act, *, missing: str, done) -> object:
    """Run ``act`` on the span the posted form names, then back to the answer page."""
    answer = _answer(token)
    form = UnmarkForm()
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for(".answer", token=token))
    try:
        start, end = int(form.start.data), int(form.end.data)
        was_flag = any((s["start"], s["end"]) == (start, end) and s.get("flag")
                       for s in answer.redaction_spans or [])
        act(answer=answer, start=start, end=end)
    except (ValueError, custody.CustodyError) as exc:
        message = _error(exc) if isinstance(exc, custody.CustodyError) else ERRORS[missing]
        flash(message, "error")
    else:
        flash(done(was_flag), "success")
    return redirect(url_for(".answer", token=token))


@bp.route(f"{PREFIX}/answers/<token>/unmark", methods=["POST"])
@access.guard(access.may_check_redaction)
def unmark_span(token: str):
    """Take back one redaction (or dismiss a suggestion) while the answer still waits."""
    return _act_on_span(token, custody.unmark_span, missing="no_span", done=lambda flag: (
        _("Suggestion dismissed: reviewers will read this text.") if flag
        else _("Redaction undone.")))


@bp.route(f"{PREFIX}/answers/<token>/confirm", methods=["POST"])
@access.guard(access.may_check_redaction)
def confirm_flag(token: str):
    """Keep a suggested redaction hidden for good."""
    return _act_on_span(token, custody.confirm_flag, missing="no_flag",
                        done=lambda _flag: _("Suggestion confirmed: it stays hidden."))


@bp.route(f"{PREFIX}/answers/<token>/release", methods=["POST"])
@access.guard(access.may_check_redaction)
def release(token: str):
    """Let the answer into the review pool."""
    answer = _answer(token)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for(".answer", token=token))
    try:
        custody.release_answer(get_db(), answer=answer, by=current_user, now=utcnow())
    except custody.CustodyError as exc:
        flash(_error(exc), "error")
        return redirect(url_for(".answer", token=token))
    undecided = custody.open_flags(answer)
    if undecided:
        flash(ngettext("Released to review; %(num)d suggestion you did not decide on stays "
                       "hidden.",
                       "Released to review; %(num)d suggestions you did not decide on stay "
                       "hidden.", undecided), "success")
    else:
        flash(_("Released to review."), "success")
    return redirect(url_for(".home"))


# -- reveals and contact requests ------------------------------------------------------------

def _find_candidacy(code: str) -> Candidacy | None:
    return get_db().scalar(select(Candidacy).where(Candidacy.code == code.strip().upper()))


def _requests_of(candidacy_id: int) -> list:
    asker = aliased(User)
    return get_db().execute(
        select(ContactRequest, asker.email)
        .outerjoin(asker, asker.id == ContactRequest.requested_by_id)
        .where(ContactRequest.candidacy_id == candidacy_id)
        .order_by(ContactRequest.created_at.desc())
    ).all()


@bp.route(f"{PREFIX}/identity", methods=["GET", "POST"])
@access.guard(access.may_see_identity)
def reveal():
    """Open the identity behind one candidacy code; every opening is an audit event."""
    form = RevealForm()
    if request.method == "GET":
        form.code.data = request.args.get("code", "")[:16]
        form.reason.data = request.args.get("reason", "")[:custody.REASON_MAX]
    elif form.validate_on_submit():
        candidacy = _find_candidacy(form.code.data)
        if candidacy is None:
            form.code.errors.append(_("No candidacy has this code."))
        else:
            try:
                identity = custody.reveal_identity(get_db(), candidacy=candidacy,
                                                   by=current_user, reason=form.reason.data)
            except custody.CustodyError as exc:
                form.reason.errors.append(_error(exc))
            else:
                campaign = get_db().get(Campaign, candidacy.campaign_id)
                html = render_template("custodian/identity.html", identity=identity,
                                       candidacy=candidacy, campaign=campaign,
                                       requests=_requests_of(candidacy.id),
                                       reason=" ".join(form.reason.data.split()),
                                       confirm=ConfirmForm())
                return _no_store(make_response(html, 200))
    status = 400 if request.method == "POST" else 200
    return _no_store(make_response(render_template("custodian/reveal.html", form=form), status))


@bp.route(f"{PREFIX}/contact-requests/<int:contact_request_id>/handled", methods=["POST"])
@access.guard(access.may_see_identity)
def contact_handled(contact_request_id: int):
    """Mark a contact request done."""
    contact = get_db().get(ContactRequest, contact_request_id) or abort(404)
    if ConfirmForm().validate_on_submit():
        try:
            custody.handle_contact_request(request=contact, by=current_user, now=utcnow())
        except custody.CustodyError as exc:
            flash(_error(exc), "error")
        else:
            flash(_("Contact request marked as handled."), "success")
    return redirect(url_for(".home"))


@bp.route("/coordinate/candidacies/<code>/contact", methods=["GET", "POST"])
@access.guard(access.may_request_contact)
def contact_request(code: str):
    """Ask the custodian to contact a candidacy known only by its code."""
    db = get_db()
    candidacy = db.scalar(select(Candidacy).where(Candidacy.code == code)) or abort(404)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            custody.request_contact(db, candidacy=candidacy, by=current_user,
                                    message=form.message.data, now=utcnow())
        except custody.CustodyError as exc:
            form.message.errors.append(_error(exc))
        else:
            keeper = accounts.current_custodian(db)
            if keeper is None:
                flash(_("Request saved. No custodian is appointed at the moment, so it waits "
                        "until one is."), "warning")
            else:
                mail.queue(db, to=keeper.email, template="contact_request",
                           locale=keeper.locale or "en", audience="staff",
                           context={"code": candidacy.code,
                                    "url": notify.link("custodian.home")})
                flash(_("Request sent to the custodian."), "success")
            return redirect(url_for(".contact_request", code=candidacy.code))
    campaign = db.get(Campaign, candidacy.campaign_id)
    asked = [{"message": r.message, "asked_by": email, "created_at": r.created_at,
              "handled_at": r.handled_at} for r, email in _requests_of(candidacy.id)]
    status = 400 if form.is_submitted() else 200
    return render_template("custodian/contact.html", code=candidacy.code,
                           campaign_id=campaign.id,
                           campaign_title=campaign.title(current_language()),
                           asked=asked, form=form), status


# -- handover and the audit log --------------------------------------------------------------

@bp.route(f"{PREFIX}/handover", methods=["GET", "POST"])
@access.guard(access.may_hand_over_custody)
def handover():
    """Pass the custodian flag to another coordinator, after a confirmation."""
    db = get_db()
    form = HandoverForm()
    successors = custody.eligible_successors(db, current=current_user)
    form.successor.choices = [(u.id, u.email) for u in successors]
    if form.validate_on_submit():
        successor = db.get(User, form.successor.data) or abort(404)
        try:
            custody.hand_over(db, to=successor, by=current_user)
        except custody.CustodyError as exc:
            form.successor.errors.append(_error(exc))
        else:
            # The handover ended this session too (it could open identities): log in again.
            flash(_("%(email)s is now the custodian. You no longer see identities; log in "
                    "again to go on as a coordinator.", email=successor.email), "success")
            return redirect(url_for("auth.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("custodian/handover.html", form=form,
                           has_successors=bool(successors)), status


@bp.route(f"{PREFIX}/audit")
@access.guard(access.may_read_audit_log)
def audit():
    """The audit log, newest first, read-only, with the state of its hash chain."""
    db = get_db()
    page = _page_number()
    total = db.scalar(select(func.count()).select_from(AuditEvent))
    actor = aliased(User)
    events = db.execute(
        select(AuditEvent, actor.email)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .order_by(AuditEvent.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    checked, broken = audit_log.verify(db, checkpoint=audit_log.checkpoint_path())
    return render_template("custodian/audit.html", events=events, page=page, total=total,
                           pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
                           checked=checked, broken=broken)
