"""Reviews: start, decide, resubmit, expedite, deadlines, the veto's reason, the queue and the log.

Every change goes through these functions, whether it comes from the API, a page, the periodic job or
an event handler, and every one runs in one ``write_transaction()`` that starts by bumping the
review's ``version``: on PostgreSQL that takes the review's row lock, on SQLite the transaction is
IMMEDIATE, so two reviewers deciding at the same moment are serialised and each sees the other's
vote. A stage ends through a conditional update (``WHERE state = 'active'``) and a log row whose
``outcome_key`` is unique per stage and round, so it can never pass twice.

Changes of the task itself (sending it back to ``open``, bringing approvers in as watchers) go through
the core's task services, so the workflow, other plugins' vetoes and the audit trail apply.
"""
from __future__ import annotations

import datetime as dt
import math
from contextlib import nullcontext
from typing import Any, Iterable

from flask import has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workdesk import (Conflict, Forbidden, NotFound, Task, TaskEvent, User, ValidationFailed, WorkdeskError,
                      WorkingTime, absences, get_visible_task, notify, plugin_settings, require, services, utcnow,
                      write_transaction)

from . import people
from .models import Approver, Decision, Policy, Review, ReviewStage
from .policies import matching_policy, stages_of

PLUGIN = "compliance_review"
PERMISSION_EXPEDITE = "compliance.expedite"
PERMISSION_AUDIT = "compliance.audit"
KIND_REQUESTED = "compliance_review.requested"
KIND_ESCALATED = "compliance_review.escalated"
KIND_SKIPPED = "compliance_review.skipped"
KIND_REJECTED = "compliance_review.rejected"
KIND_APPROVED = "compliance_review.approved"
MAX_COMMENT = 5000
DONE = ("approved", "skipped")  # stage states that let the workflow go on
# Slots a person holds because they were asked (by the policy, as a fallback, or by a deadline's reassignment), not
# as someone's delegate: the ones their delegate takes over during their absence (one hop).
ASKED = ("policy", "fallback", "reassigned")


# -- small helpers --------------------------------------------------------------------------------

def settings() -> dict[str, Any]:
    return plugin_settings(PLUGIN)


def _in_language_of(user: User):
    """Render a message for ``user`` in their language (the worker's default when they chose none)."""
    return force_locale(user.locale) if has_app_context() and user.locale else nullcontext()


def _tell(user: User, kind: str, task: Task, key: str, subject, body) -> None:
    """Notify ``user``; ``subject`` and ``body`` are callables returning lazy strings: stored as messages with
    their values, so each reader reads them in their language of the moment."""
    with _in_language_of(user):
        notify(user, kind, subject(), body(), task=task, dedupe_key=f"{PLUGIN}:{key}"[:100])


def _label(task: Task) -> str:
    return f"#{task.number} {task.title}"


def _names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    return {u.id: u.name for u in User.select(User.id, User.name).where(User.id.in_(wanted))} if wanted else {}


def _comment(text: Any, field: str = "comment", required: bool = False) -> str:
    text = (text or "").strip() if isinstance(text, str) or text is None else None
    if text is None:
        raise ValidationFailed(_("Invalid value."), {field: [_("Must be text.")]})
    if required and not text:
        raise ValidationFailed(_("Invalid value."), {field: [_("Say why: a written reason is required.")]})
    if len(text) > MAX_COMMENT:
        raise ValidationFailed(_("Invalid value."), {field: [_("At most %(max)s characters.", max=MAX_COMMENT)]})
    if "\x00" in text:
        raise ValidationFailed(_("Invalid value."), {field: [_("Must not contain NUL characters.")]})
    return text


def _lock(task_id: int) -> Review | None:
    """Take the review's row lock (see the module docstring) and read it afresh."""
    Review.update(version=Review.version + 1).where(Review.task_id == task_id).execute()
    return Review.get_or_none(Review.task_id == task_id)


def _stages(review: Review) -> list[ReviewStage]:
    return list(ReviewStage.select().where(ReviewStage.review == review).order_by(ReviewStage.step, ReviewStage.id))


def _slots(stage: ReviewStage, active_only: bool = True) -> list[Approver]:
    query = Approver.select().where((Approver.stage == stage) & (Approver.round == stage.round))
    if active_only:
        query = query.where(Approver.active == True)  # noqa: E712
    return list(query.order_by(Approver.id))


def _log(review: Review, task: Task, action: str, now: dt.datetime, *, stage: ReviewStage | None = None,
         actor: User | None = None, on_behalf_of: User | None = None, on_behalf_reason: str = "",
         automatic: bool = False, override: bool = False, expedite: bool = False, comment: str = "",
         reason: str = "", ends_stage: bool = False) -> Decision:
    """Append to the review's log and to the task's audit trail."""
    decision = Decision.create(
        at=now, review_id=review.id, task_id=review.task_id, task_number=review.task_number, task_title=task.title,
        policy_name=review.policy_name, round=review.round, stage_id=stage.id if stage else None,
        stage_name=stage.name if stage else "", action=action, actor_id=actor.id if actor else None,
        actor_name=actor.name if actor else "", on_behalf_of_id=on_behalf_of.id if on_behalf_of else None,
        on_behalf_of_name=on_behalf_of.name if on_behalf_of else "",
        on_behalf_reason=on_behalf_reason if on_behalf_of else "", automatic=automatic, override=override,
        expedite=expedite, comment=comment, reason=reason,
        outcome_key=f"{stage.id}:{stage.round}" if ends_stage and stage else None)
    changes: dict[str, list] = {"review": [None, review.policy_name], "round": [None, review.round]}
    if stage is not None:
        changes["stage"] = [None, stage.name]
    for key, value in (("comment", comment), ("reason", reason),
                       ("on_behalf_of_id", on_behalf_of.id if on_behalf_of else None),
                       ("on_behalf_of", on_behalf_of.name if on_behalf_of else None),
                       ("on_behalf_reason", on_behalf_reason if on_behalf_of else None)):
        if value:
            changes[key] = [None, value]
    for key, flag in (("automatic", automatic), ("override", override), ("expedite", expedite)):
        if flag:
            changes[key] = [None, True]
    TaskEvent.create(task_id=review.task_id, task_number=review.task_number, actor=actor, at=now,
                     kind=f"{PLUGIN}.{action}", changes=changes)
    return decision


# -- starting -------------------------------------------------------------------------------------

def start_review(task: Task, now: dt.datetime | None = None) -> Review | None:
    """Start the review of ``task`` when a policy matches and none exists; returns the task's review or None.

    Idempotent: events are delivered at least once, and a task keeps its review when it later stops
    matching (changing the type must not escape review).
    """
    now = now or utcnow()
    review = Review.get_or_none(Review.task_id == task.id)
    if review is not None or task.status in ("resolved", "closed"):
        return review  # work already done is not reviewed after the fact
    if matching_policy(task) is None:
        return None  # the common case answers without taking the write lock
    with write_transaction():
        policy = matching_policy(task)
        if policy is None:
            return None
        inserted = Review.insert(task_id=task.id, task_number=task.number, policy_id=policy.id,
                                 policy_name=policy.name, restart_from=policy.restart_from,
                                 distinct_approvers=policy.distinct_approvers, status="in_review", round=1,
                                 started_at=now).on_conflict_ignore().execute()
        review = _lock(task.id)
        if not inserted or ReviewStage.select().where(ReviewStage.review == review).exists():
            return review  # another worker started it meanwhile
        for stage in stages_of(policy):
            ReviewStage.create(review=review, step=stage.step, name=stage.name, approver_kind=stage.approver_kind,
                               approver_user_ids=list(stage.approver_user_ids or []),
                               approver_role=stage.approver_role,
                               approver_department_id=stage.approver_department_id, pass_rule=stage.pass_rule,
                               pass_count=stage.pass_count, pass_percentage=stage.pass_percentage,
                               deadline_hours=stage.deadline_hours, timeout_action=stage.timeout_action,
                               skippable_when_urgent=stage.skippable_when_urgent)
        _log(review, task, "started", now)
        _advance(review, task, now)
    return review


def start_waiting_reviews(now: dt.datetime | None = None) -> int:
    """Start the reviews of open tasks that match a policy and have none (after enabling the plugin,
    whose events were not delivered while it was off)."""
    if not Policy.select().where(Policy.active == True).exists():  # noqa: E712
        return 0  # the usual first enable: nothing to match against
    reviewed = Review.select(Review.task_id)
    candidates = list(Task.select().where(Task.status.not_in(("resolved", "closed")) & Task.id.not_in(reviewed))
                      .order_by(Task.id))
    return sum(1 for task in candidates if start_review(task, now) is not None)


def _deadline(stage: ReviewStage, task: Task, now: dt.datetime) -> dt.datetime | None:
    if not stage.deadline_hours:
        return None
    working = WorkingTime.for_department(task.department)
    if working is None:  # no calendar: every hour is a working hour
        return now + dt.timedelta(hours=stage.deadline_hours)
    return working.add_working_hours(now, stage.deadline_hours)


def _advance(review: Review, task: Task, now: dt.datetime) -> None:
    """Start the next step when no stage is active any more; complete the review after the last one."""
    stages = _stages(review)
    if any(s.state == "active" for s in stages):
        return
    waiting = [s for s in stages if s.state == "waiting"]
    if not waiting:
        _complete(review, task, now)
        return
    review.current_step = min(s.step for s in waiting)
    review.save()
    for stage in waiting:
        if stage.step == review.current_step:
            _activate(review, stage, task, now)


def _activate(review: Review, stage: ReviewStage, task: Task, now: dt.datetime) -> None:
    stage.state, stage.round, stage.started_at = "active", review.round, now
    stage.due_at, stage.timed_out_at, stage.decided_at, stage.outcome = _deadline(stage, task, now), None, None, None
    stage.save()
    asked = people.resolve(stage, task)
    reason = "policy"
    if not asked:  # nobody the policy names can decide: the people who manage reviews step in
        asked, reason = people.compliance_managers(), "fallback"
        _log(review, task, "fallback", now, stage=stage, automatic=True)
    slots = [_slot(stage, person, reason, now) for person in asked]  # all first: a delegate may be one of them
    holders = [_reach(review, stage, task, own, now) for own in slots]
    services.tasks.add_watchers(task.id, [p.id for p in asked] + [h.id for h in holders])


def _slot(stage: ReviewStage, person: User, reason: str, now: dt.datetime,
          on_behalf_of: User | None = None) -> Approver:
    Approver.insert(stage=stage, round=stage.round, user=person, reason=reason, on_behalf_of=on_behalf_of,
                    created_at=now).on_conflict_ignore().execute()
    return Approver.get((Approver.stage == stage) & (Approver.round == stage.round) & (Approver.user == person))


def _reach(review: Review, stage: ReviewStage, task: Task, own: Approver, now: dt.datetime) -> User:
    """Ask the person of the new slot ``own`` to decide, or, when they are away right now with a delegate,
    the delegate in their place; returns who was asked."""
    absence = absences.current_absence(own.user_id, now)
    delegate = _delegate_of(absence)
    held = _hand(review, stage, task, own, delegate, absence, now) if delegate is not None else None
    if held is None:
        _ask_to_decide(review, stage, task, own.user, f"ask:{stage.id}:{stage.round}")
    return held or own.user


def _ask_to_decide(review: Review, stage: ReviewStage, task: Task, person: User, key: str,
                   for_whom: User | None = None) -> None:
    """Tell ``person`` the stage waits for their decision (as the delegate of ``for_whom``, who is away)."""
    def body():
        if for_whom is None:
            return _l("The stage “%(stage)s” of the review “%(policy)s” waits for your decision.",
                      stage=stage.name, policy=review.policy_name)
        return _l("The stage “%(stage)s” of the review “%(policy)s” waits for your decision on behalf of %(name)s, "
                  "who is away and named you their delegate.",
                  stage=stage.name, policy=review.policy_name, name=for_whom.name)
    _tell(person, KIND_REQUESTED, task, key, lambda: _l("Review requested: %(task)s", task=_label(task)), body)


# -- absences: a delegate decides in an absent approver's place ------------------------------------

def _delegate_of(absence) -> User | None:
    """The active delegate an absence names, or None."""
    if absence is None or absence.delegate_id is None:
        return None
    delegate = User.get_or_none(User.id == absence.delegate_id)
    return delegate if delegate is not None and delegate.is_active else None


def _stand_in(stage: ReviewStage, own: Approver) -> Approver | None:
    """The active slot a delegate holds for the person of ``own`` during their absence."""
    return Approver.get_or_none((Approver.stage == stage) & (Approver.round == stage.round)
                                & (Approver.reason == "delegate") & (Approver.on_behalf_of == own.user_id)
                                & (Approver.active == True))  # noqa: E712


def _hand(review: Review, stage: ReviewStage, task: Task, own: Approver, delegate: User | None, absence,
          now: dt.datetime) -> User | None:
    """Let ``delegate`` hold the undecided slot ``own`` of an absent approver, or give it back to them
    (``delegate`` None); returns who holds it after, or None when it stays as it was.

    Only slots the person was asked to decide move (not one they hold as someone else's delegate: one
    hop), only while nobody decided them, and a delegate whose vote would break separation of duties, or
    who already decides this stage, does not stand in: the slot stays with the absent approver, the log
    says why, and the deadline's action is what gets the review past them.
    """
    if own.reason not in ASKED or own.decision is not None:
        return None
    held = _stand_in(stage, own)
    if held is not None and held.decision is not None:
        return None  # the delegate decided: their vote stands after the absence
    if held is None and not own.active:
        return None  # reassigned at a deadline: no longer the absent person's to hand on
    person = own.user
    if delegate is not None and (held is None or held.user_id != delegate.id):
        why_not = _delegate_barred(delegate, review, stage, task) or _already_asked(stage, delegate, person)
        if why_not:
            _log_once(review, task, "not_delegated", now, stage=stage, on_behalf_of=person, automatic=True,
                      comment=_("%(name)s is away, but their delegate %(delegate)s cannot decide in their place: "
                                "%(why)s", name=person.name, delegate=delegate.name, why=why_not))
            delegate = None  # it stays with, or goes back to, the absent approver
    current = held.user_id if held is not None else person.id
    target = delegate.id if delegate is not None else person.id
    if current == target:
        return None
    escalated_to = (held or own).escalated_to_id
    if held is not None:
        Approver.update(active=False).where(Approver.id == held.id).execute()
    if delegate is None:
        Approver.update(active=True, escalated_to=escalated_to).where(Approver.id == own.id).execute()
        _log(review, task, "returned", now, stage=stage, on_behalf_of=person, automatic=True,
             comment=_("%(name)s decides again.", name=person.name))
        _ask_to_decide(review, stage, task, person, f"back:{own.id}:{held.id if held else 0}:{now:%Y%m%d%H%M%S}")
        return person
    Approver.update(active=False).where(Approver.id == own.id).execute()
    taken = (Approver.update(active=True, escalated_to=escalated_to)
             .where((Approver.stage == stage) & (Approver.round == stage.round) & (Approver.user == delegate)
                    & (Approver.reason == "delegate") & (Approver.on_behalf_of == person)).execute())
    if not taken:
        Approver.create(stage=stage, round=stage.round, user=delegate, reason="delegate", on_behalf_of=person,
                        escalated_to=escalated_to, created_at=now)
    _log(review, task, "delegated", now, stage=stage, on_behalf_of=person, automatic=True,
         comment=_("%(name)s is away; their delegate %(delegate)s decides in their place.",
                   name=person.name, delegate=delegate.name))
    _ask_to_decide(review, stage, task, delegate,
                   f"delegated:{own.id}:{absence.id if absence is not None else 0}:{now:%Y%m%d%H%M%S}", for_whom=person)
    return delegate


def _already_asked(stage: ReviewStage, delegate: User, person: User) -> str | None:
    """Why ``delegate`` cannot take ``person``'s slot: they hold one of their own in the stage (one vote each)."""
    other = Approver.get_or_none((Approver.stage == stage) & (Approver.round == stage.round)
                                 & (Approver.user == delegate))
    if other is not None and not (other.reason == "delegate" and other.on_behalf_of_id == person.id
                                  and other.decision is None):
        return _("they are asked to decide this stage themselves, and each person has one vote.")
    return None


def _log_once(review: Review, task: Task, action: str, now: dt.datetime, *, stage: ReviewStage,
              on_behalf_of: User, **kwargs) -> None:
    """Log ``action`` for ``on_behalf_of`` once per stage and round (an event delivered again adds nothing)."""
    if not Decision.select().where((Decision.stage_id == stage.id) & (Decision.round == stage.round)
                                   & (Decision.action == action) & (Decision.on_behalf_of_id == on_behalf_of.id)
                                   ).exists():
        _log(review, task, action, now, stage=stage, on_behalf_of=on_behalf_of, **kwargs)


def follow_absence(user: User, now: dt.datetime | None = None) -> int:
    """Hand ``user``'s undecided review slots to the delegate of their announced absence, or back to them
    when they are back or their absence names no delegate; returns how many slots moved.

    The absence events call it (``on_absence_started``, ``on_absence_ended``, ``on_absence_changed``): it
    reads the state the core announced rather than the event, so events delivered twice, late or out of
    order end in the same place.
    """
    now = now or utcnow()
    named = (Approver.select(Approver.id, Review.task_id).join(ReviewStage).join(Review)
             .where((Approver.user == user) & Approver.reason.in_(ASKED) & Approver.decision.is_null()
                    & (Approver.round == ReviewStage.round) & (ReviewStage.state == "active")
                    & (Review.status == "in_review") & Review.task_deleted_at.is_null())
             .order_by(Approver.id).tuples())
    moved = 0
    for slot_id, task_id in list(named):
        with write_transaction():
            review = _lock(task_id)
            own = Approver.get_or_none(Approver.id == slot_id)
            task = Task.get_or_none(Task.id == task_id)
            if review is None or own is None or task is None or review.status != "in_review":
                continue
            stage = ReviewStage.get_by_id(own.stage_id)
            if stage.state != "active" or own.round != stage.round:
                continue  # decided meanwhile
            absence = absences.announced_absence(user)
            holder = _hand(review, stage, task, own, _delegate_of(absence), absence, now)
            if holder is not None:
                moved += 1
                services.tasks.add_watchers(task.id, [holder.id])
    return moved


def follow_absences(now: dt.datetime | None = None) -> int:
    """:func:`follow_absence` for everyone whose undecided slot may have to move: the approvers away now
    and those a delegate stands in for (after enabling the plugin, whose events were not delivered)."""
    named = {uid for (uid,) in Approver.select(Approver.user).join(ReviewStage)
             .where(Approver.reason.in_(ASKED) & Approver.decision.is_null() & (ReviewStage.state == "active")
                    & (Approver.round == ReviewStage.round)).distinct().tuples()}
    stood_in = {uid for (uid,) in Approver.select(Approver.on_behalf_of).where(
        (Approver.reason == "delegate") & (Approver.active == True)).distinct().tuples()}  # noqa: E712
    users = User.select().where(User.id.in_(list(named))) if named else []
    return sum(follow_absence(user, now) for user in users
               if user.id in stood_in or absences.announced_absence(user) is not None)


def _complete(review: Review, task: Task, now: dt.datetime) -> None:
    review.status, review.completed_at = "approved", now
    review.save()
    _log(review, task, "completed", now, automatic=True)
    for person in {u.id: u for u in (task.reporter, task.assignee) if u is not None}.values():
        _tell(person, KIND_APPROVED, task, f"approved:{review.id}:{review.round}",
              lambda: _l("Review complete: %(task)s", task=_label(task)),
              lambda: _l("Every stage of the review “%(policy)s” is approved; the work can go on.",
                         policy=review.policy_name))


# -- deciding -------------------------------------------------------------------------------------

def _bar(actor: User, review: Review, stage: ReviewStage, task: Task) -> str | None:
    """Which rule of separation of duties keeps ``actor`` from deciding ``stage``: reporter, assignee,
    earlier (approved an earlier stage where the policy requires distinct approvers), or None."""
    if task.reporter_id == actor.id:
        return "reporter"
    if task.assignee_id == actor.id:
        return "assignee"
    if review.distinct_approvers:
        earlier = (Approver.select().join(ReviewStage)
                   .where((ReviewStage.review == review) & (ReviewStage.step < stage.step)
                          & (ReviewStage.state == "approved") & (Approver.round == ReviewStage.round)
                          & (Approver.decided_by == actor) & (Approver.decision == "approve")))
        if earlier.exists():
            return "earlier"
    return None


def _barred(actor: User, review: Review, stage: ReviewStage, task: Task) -> str | None:
    """Why separation of duties keeps ``actor`` from deciding ``stage``, said to them, or None."""
    rule = _bar(actor, review, stage, task)
    if rule == "reporter":
        return _("You reported this task.")
    if rule == "assignee":
        return _("You are assigned to this task.")
    if rule == "earlier":
        return _("You approved an earlier stage of this review, and its policy requires distinct approvers.")
    return None


def _delegate_barred(delegate: User, review: Review, stage: ReviewStage, task: Task) -> str | None:
    """Why separation of duties keeps a delegate from deciding ``stage``, said about them, or None."""
    rule = _bar(delegate, review, stage, task)
    if rule == "reporter":
        return _("they reported this task.")
    if rule == "assignee":
        return _("they are assigned to this task.")
    if rule == "earlier":
        return _("they approved an earlier stage of this review, and its policy requires distinct approvers.")
    return None


def _my_slots(actor: User, review: Review, stage_id: int | None) -> tuple[ReviewStage, list[Approver]]:
    """The active stage ``actor`` decides now and the slots their vote fills there."""
    candidates = (Approver.select(Approver, ReviewStage).join(ReviewStage)
                  .where((ReviewStage.review == review) & (ReviewStage.state == "active")
                         & (Approver.round == ReviewStage.round) & (Approver.active == True)  # noqa: E712
                         & ((Approver.user == actor) | (Approver.escalated_to == actor))
                         & (Approver.decided_by.is_null() | (Approver.decided_by == actor))))
    by_stage: dict[int, list[Approver]] = {}
    for slot in candidates:
        by_stage.setdefault(slot.stage_id, []).append(slot)
    if stage_id is not None:
        by_stage = {k: v for k, v in by_stage.items() if k == stage_id}
    if not by_stage:
        decided = (ReviewStage.select().join(Approver)
                   .where((ReviewStage.review == review) & (Approver.round == ReviewStage.round)
                          & ((Approver.user == actor) | (Approver.escalated_to == actor))
                          & ReviewStage.state.in_(("approved", "rejected", "skipped", "cancelled"))))
        if decided.exists():
            raise Conflict(_("The stage you were asked to decide is decided already; votes can change only until "
                             "a stage passes."))
        raise Forbidden(_("No active stage of this review waits for your decision."), reason="not_an_approver")
    if len(by_stage) > 1:
        raise ValidationFailed(_("Several stages wait for you; say which one."),
                               {"stage_id": [_("One of: %(ids)s.", ids=", ".join(map(str, sorted(by_stage))))]})
    slots = next(iter(by_stage.values()))
    return slots[0].stage, slots


def decide(actor: User, task_id: Any, decision: str, comment: str = "", *, stage_id: int | None = None,
           override_reason: str = "", now: dt.datetime | None = None) -> Review:
    """Approve or reject the stage that waits for ``actor``; a rejection needs a comment.

    A vote may change until the stage passes. Separation of duties bars the reporter, the assignee and
    (when the policy requires distinct approvers) whoever approved an earlier stage; someone with
    ``compliance.manage`` may override that with a written ``override_reason``, which is flagged.
    """
    now = now or utcnow()
    if decision not in ("approve", "reject"):
        raise ValidationFailed(_("Invalid value."), {"decision": [_("Must be approve or reject.")]})
    comment = _comment(comment, required=decision == "reject")
    override_reason = _comment(override_reason, "override_reason")
    with write_transaction():
        task = get_visible_task(actor, task_id)
        review = _lock(task.id)
        if review is None:
            raise NotFound(_("This task has no review."))
        if review.status != "in_review":
            raise Conflict(_("The review is not waiting for decisions (it is %(status)s).",
                             status=status_label(review.status)))
        stage, slots = _my_slots(actor, review, stage_id)
        why_not = _barred(actor, review, stage, task)
        override = False
        if why_not:
            if not override_reason:
                raise Forbidden(_("Separation of duties: %(why)s An administrator may override this with a written "
                                  "reason.", why=why_not), reason="separation_of_duties")
            require(actor, people.PERMISSION_MANAGE,
                    _("Only someone who manages reviews (%(permission)s) may override separation of duties.",
                      permission=people.PERMISSION_MANAGE))
            override = True
        elif override_reason:
            raise ValidationFailed(_("Invalid value."), {"override_reason": [
                _("Nothing to override: separation of duties does not bar you here.")]})
        changed = any(slot.decision is not None for slot in slots)
        for slot in slots:
            slot.decision, slot.decided_by, slot.comment, slot.decided_at = decision, actor, comment, now
            slot.override = override
            slot.save()
        stood_in = next((s for s in slots if s.on_behalf_of_id and s.on_behalf_of_id != actor.id), None)
        if stood_in is not None:  # a delegate during an absence, or a head the slot was reassigned to
            behalf, behalf_reason = stood_in.on_behalf_of, "absent" if stood_in.reason == "delegate" else "reassigned"
        else:  # a head the decision was escalated to, deciding in the holder's place
            behalf, behalf_reason = next((s.user for s in slots if s.user_id != actor.id), None), "escalated"
        _log(review, task, ("changed_to_" if changed else "") + decision, now, stage=stage, actor=actor,
             on_behalf_of=behalf, on_behalf_reason=behalf_reason, override=override, comment=comment,
             reason=override_reason)
        _evaluate(review, stage, task, now, actor)
    return review


def needed_approvals(stage: ReviewStage, asked: int) -> int:
    """How many approvals pass ``stage`` when ``asked`` people may vote (at least one)."""
    if stage.pass_rule == "any":
        needed = 1
    elif stage.pass_rule == "count":
        needed = min(stage.pass_count or 1, asked)
    elif stage.pass_rule == "percentage":
        needed = math.ceil(asked * (stage.pass_percentage or 100) / 100)
    else:
        needed = asked
    return max(needed, 1)


def _evaluate(review: Review, stage: ReviewStage, task: Task, now: dt.datetime, actor: User | None) -> None:
    """End ``stage`` once its votes pass it, or once it can no longer pass."""
    slots = _slots(stage)
    needed = needed_approvals(stage, len(slots))
    approvals = sum(1 for s in slots if s.decision == "approve")
    rejections = sum(1 for s in slots if s.decision == "reject")
    if approvals >= needed:
        _end_stage(review, stage, task, now, "approved", "votes", actor=actor, automatic=actor is None)
    elif len(slots) - rejections < needed:
        reasons = "; ".join(f"{s.decided_by.name if s.decided_by else '?'}: {s.comment}" for s in slots
                            if s.decision == "reject")
        _end_stage(review, stage, task, now, "rejected", "votes", actor=actor, automatic=actor is None,
                   comment=reasons)


def _end_stage(review: Review, stage: ReviewStage, task: Task, now: dt.datetime, state: str, outcome: str, *,
               comment: str = "", actor: User | None = None, automatic: bool = False) -> None:
    """Move the active ``stage`` to ``state`` once: the conditional update and the log row's unique
    ``outcome_key`` refuse a second end of the same stage in the same round."""
    ended = (ReviewStage.update(state=state, outcome=outcome, decided_at=now)
             .where((ReviewStage.id == stage.id) & (ReviewStage.state == "active") & (ReviewStage.round == stage.round))
             .execute())
    if not ended:
        raise Conflict(_("The stage was decided by someone else meanwhile. Reload and try again."))
    stage.state, stage.outcome, stage.decided_at = state, outcome, now
    _log(review, task, "stage_approved" if state == "approved" else "stage_rejected", now, stage=stage, actor=actor,
         automatic=automatic, comment=comment, ends_stage=True)
    if state == "rejected":
        _reject(review, stage, task, now, comment)
    else:
        _advance(review, task, now)


def _reject(review: Review, stage: ReviewStage, task: Task, now: dt.datetime, comment: str) -> None:
    """The review stops at ``stage``: parallel stages stop waiting, the task goes back to its reporter."""
    (ReviewStage.update(state="cancelled", decided_at=now)
     .where((ReviewStage.review == review) & (ReviewStage.state == "active")).execute())
    review.status, review.rejected_stage_id = "rejected", stage.id
    review.save()
    try:
        services.tasks.system_transition(task.id, "open", reason=f"{PLUGIN}: {stage.name}")
    except WorkdeskError as exc:  # the workflow or another plugin keeps the task where it is: say so
        _log(review, task, "not_sent_back", now, stage=stage, automatic=True, comment=exc.message)
    _tell(task.reporter, KIND_REJECTED, task, f"rejected:{review.id}:{review.round}",
          lambda: _l("Review rejected: %(task)s", task=_label(task)),
          lambda: _l("The stage “%(stage)s” of the review “%(policy)s” was rejected: %(reason)s Address it and "
                     "resubmit the task.", stage=stage.name, policy=review.policy_name, reason=comment))


# -- resubmitting and expediting ------------------------------------------------------------------

def resubmit(actor: User, task_id: Any, now: dt.datetime | None = None) -> Review:
    """Restart a rejected review from its first stage or from the rejecting stage, as its policy says.

    The reporter, the assignee or someone who manages reviews may resubmit.
    """
    now = now or utcnow()
    with write_transaction():
        task = get_visible_task(actor, task_id)
        review = _lock(task.id)
        if review is None:
            raise NotFound(_("This task has no review."))
        if actor.id not in (task.reporter_id, task.assignee_id):
            require(actor, people.PERMISSION_MANAGE,
                    _("Only the reporter, the assignee or someone who manages reviews may resubmit."))
        if review.status != "rejected":
            raise Conflict(_("Only a rejected review can be resubmitted (this one is %(status)s).",
                             status=status_label(review.status)))
        rejected = ReviewStage.get_or_none(ReviewStage.id == review.rejected_stage_id)
        review.round += 1
        review.status, review.rejected_stage_id = "in_review", None
        review.save()
        for stage in _stages(review):
            keep = (review.restart_from == "rejecting_stage" and rejected is not None
                    and (stage.step < rejected.step or (stage.step == rejected.step and stage.state in DONE)))
            if not keep:
                stage.state, stage.due_at, stage.timed_out_at, stage.decided_at, stage.outcome = (
                    "waiting", None, None, None, None)
                stage.save()
        # The log names the stage the review restarts from when it is not the first.
        _log(review, task, "resubmitted", now, actor=actor,
             stage=rejected if review.restart_from == "rejecting_stage" else None)
        _advance(review, task, now)
    return review


def expedite(actor: User, task_id: Any, reason: str, now: dt.datetime | None = None) -> Review:
    """Skip every stage marked "may be skipped for urgent tasks" that has not passed, for an urgent task.

    Needs ``compliance.expedite`` and a written reason; the skipped approvers are told, and each skip is
    flagged in the log and the export.
    """
    now = now or utcnow()
    reason = _comment(reason, "reason", required=True)
    with write_transaction():
        task = get_visible_task(actor, task_id)
        require(actor, PERMISSION_EXPEDITE)
        review = _lock(task.id)
        if review is None:
            raise NotFound(_("This task has no review."))
        if review.status != "in_review":
            raise Conflict(_("The review is not under way (it is %(status)s).", status=status_label(review.status)))
        if task.priority != "urgent":
            raise Conflict(_("Only urgent tasks can be expedited; this one is %(priority)s.",
                             priority=task.priority))
        skippable = [s for s in _stages(review) if s.skippable_when_urgent and s.state in ("waiting", "active")]
        if not skippable:
            raise Conflict(_("No stage left in this review may be skipped for urgent tasks."))
        for stage in skippable:
            asked = [slot.user for slot in _slots(stage)] if stage.state == "active" else people.resolve(stage, task)
            _end_stage_skipped(review, stage, task, now, actor, reason)
            for person in asked:
                _tell(person, KIND_SKIPPED, task, f"skipped:{stage.id}:{review.round}",
                      lambda: _l("Review stage skipped: %(task)s", task=_label(task)),
                      lambda: _l("%(who)s expedited the urgent task, so the stage “%(stage)s” no longer needs your "
                                 "decision. Reason: %(reason)s", who=actor.name, stage=stage.name, reason=reason))
        _advance(review, task, now)
    return review


def _end_stage_skipped(review: Review, stage: ReviewStage, task: Task, now: dt.datetime, actor: User,
                       reason: str) -> None:
    ended = (ReviewStage.update(state="skipped", outcome="expedite", decided_at=now, round=review.round)
             .where((ReviewStage.id == stage.id) & (ReviewStage.state == stage.state)).execute())
    if not ended:
        raise Conflict(_("The stage was decided by someone else meanwhile. Reload and try again."))
    stage.state, stage.outcome, stage.decided_at, stage.round = "skipped", "expedite", now, review.round
    _log(review, task, "expedited", now, stage=stage, actor=actor, expedite=True, reason=reason, ends_stage=True)


# -- deadlines ------------------------------------------------------------------------------------

def process_timeouts(now: dt.datetime) -> dict[str, int]:
    """Apply the timeout action of every active stage whose deadline passed by ``now`` (once per round)."""
    due = [stage_id for (stage_id,) in ReviewStage.select(ReviewStage.id).join(Review)
           .where((ReviewStage.state == "active") & ReviewStage.due_at.is_null(False) & (ReviewStage.due_at <= now)
                  & ReviewStage.timed_out_at.is_null() & (Review.status == "in_review")
                  & Review.task_deleted_at.is_null())
           .order_by(ReviewStage.due_at, ReviewStage.id).tuples()]
    counts: dict[str, int] = {}
    for stage_id in due:
        with write_transaction():
            action = _time_out(stage_id, now)
        if action:
            counts[action] = counts.get(action, 0) + 1
    return counts


def _time_out(stage_id: int, now: dt.datetime) -> str | None:
    stage = ReviewStage.get_or_none(ReviewStage.id == stage_id)
    if stage is None:
        return None
    review = Review.get_by_id(stage.review_id)
    review = _lock(review.task_id)
    stage = ReviewStage.get_by_id(stage_id)
    if (stage.state != "active" or stage.timed_out_at is not None or stage.due_at is None or stage.due_at > now
            or review.status != "in_review"):
        return None  # decided or handled by another worker meanwhile
    task = Task.get_or_none(Task.id == review.task_id)
    ReviewStage.update(timed_out_at=now).where(ReviewStage.id == stage.id).execute()
    stage.timed_out_at = now
    if task is None:
        return None
    action = stage.timeout_action
    note = _("The deadline of %(hours)s working hours passed.", hours=_hours(stage.deadline_hours))
    if action == "approve":
        _log(review, task, "auto_approve", now, stage=stage, automatic=True, comment=note)
        _end_stage(review, stage, task, now, "approved", "timeout", automatic=True, comment=note)
    elif action == "reject":
        _log(review, task, "auto_reject", now, stage=stage, automatic=True, comment=note)
        _end_stage(review, stage, task, now, "rejected", "timeout", automatic=True, comment=note)
    elif action in ("notify_escalate", "reassign"):
        for slot in _slots(stage):
            if slot.decision is None:
                _hand_up(review, stage, task, slot, now, reassign=action == "reassign", note=note)
        if action == "reassign":
            _evaluate(review, stage, task, now, None)  # the heads may already have approved as approvers
    return action


def _hours(value: float | None) -> str:
    return f"{value:g}" if value is not None else "?"


def _hand_up(review: Review, stage: ReviewStage, task: Task, slot: Approver, now: dt.datetime, *, reassign: bool,
             note: str) -> None:
    """Escalate a missed decision to the approver's head (who may then decide), or give the slot to them."""
    holder = slot.user
    head = people.manager_of(holder)
    heads = [head] if head is not None else [u for u in people.compliance_managers() if u.id != holder.id][:1]
    if not heads:
        _log(review, task, "not_escalated", now, stage=stage, automatic=True, on_behalf_of=holder, comment=note)
        return
    head = heads[0]
    asked = head
    if reassign:
        Approver.update(active=False).where(Approver.id == slot.id).execute()
        _log(review, task, "reassigned", now, stage=stage, automatic=True, on_behalf_of=holder,
             comment=f"{note} → {head.name}")
        asked = _reach(review, stage, task, _slot(stage, head, "reassigned", now, slot.on_behalf_of or holder), now)
    else:
        Approver.update(escalated_to=head).where(Approver.id == slot.id).execute()
        _log(review, task, "escalated", now, stage=stage, automatic=True, on_behalf_of=holder,
             comment=f"{note} → {head.name}")
        _tell(head, KIND_ESCALATED, task, f"escalated:{slot.id}",
              lambda: _l("Review overdue: %(task)s", task=_label(task)),
              lambda: _l("%(who)s has not decided the stage “%(stage)s” of the review “%(policy)s” in time. You may "
                         "decide it in their place.", who=holder.name, stage=stage.name, policy=review.policy_name))
        _tell(holder, KIND_ESCALATED, task, f"overdue:{slot.id}",
              lambda: _l("Review overdue: %(task)s", task=_label(task)),
              lambda: _l("The deadline of the stage “%(stage)s” passed; %(head)s was asked too.",
                         stage=stage.name, head=head.name))
    services.tasks.add_watchers(task.id, list({head.id, asked.id}))


# -- the veto -------------------------------------------------------------------------------------

def waiting_for(stage: ReviewStage) -> list[User]:
    """Who the active ``stage`` waits for: the undecided slot holders and the heads it was escalated to."""
    found: dict[int, User] = {}
    for slot in _slots(stage):
        if slot.decision is None:
            found.setdefault(slot.user_id, slot.user)
            if slot.escalated_to_id:
                found.setdefault(slot.escalated_to_id, slot.escalated_to)
    return list(found.values())


def refusal(task: Task, new_status: str) -> str | None:
    """The veto's reason for moving ``task`` to ``new_status`` while its review is incomplete, or None."""
    if new_status not in settings()["blocked_statuses"] or task.id is None:
        return None
    review = Review.get_or_none(Review.task_id == task.id)
    if review is None:
        policy = matching_policy(task)
        if policy is None:
            return None
        return _("The task needs the review “%(policy)s”, which has not started yet.", policy=policy.name)
    if review.status == "approved":
        return None
    if review.status == "rejected":
        stage = ReviewStage.get_or_none(ReviewStage.id == review.rejected_stage_id)
        return _("The review “%(policy)s” was rejected at the stage “%(stage)s”; it must be resubmitted and "
                 "approved first.", policy=review.policy_name, stage=stage.name if stage else "?")
    parts = []
    for stage in _stages(review):
        if stage.state == "active":
            names = ", ".join(u.name for u in waiting_for(stage)) or _("nobody yet")
            parts.append(_("the stage “%(stage)s” waits for %(people)s", stage=stage.name, people=names))
    return _("The review “%(policy)s” is not complete: %(stages)s.", policy=review.policy_name,
             stages="; ".join(parts) or _("it is being started"))


# -- reading --------------------------------------------------------------------------------------

def status_label(status: str) -> str:
    labels = {"in_review": _("in review"), "approved": _("approved"), "rejected": _("rejected")}
    return labels.get(status, status)


def review_of(task: Task) -> Review | None:
    return Review.get_or_none(Review.task_id == task.id)


def get_review(actor: User, task_id: Any) -> tuple[Task, Review]:
    task = get_visible_task(actor, task_id)
    review = review_of(task)
    if review is None:
        raise NotFound(_("This task has no review."))
    return task, review


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.timezone.utc).isoformat() if value else None


def review_to_dict(review: Review, viewer: User | None = None, task: Task | None = None) -> dict[str, Any]:
    """The review as the API and the task page show it: each stage's state, who decided, when and why,
    and whom it waits for."""
    stages = _stages(review)
    slots = {s.id: _slots(s, active_only=False) if s.state != "waiting" else [] for s in stages}
    names = _names([uid for rows in slots.values() for slot in rows
                    for uid in (slot.user_id, slot.on_behalf_of_id, slot.escalated_to_id, slot.decided_by_id)])
    out_stages = []
    for stage in stages:
        # Whose active slot stands in for whom: a slot handed on names who holds it now.
        stands_in = {slot.on_behalf_of_id: slot for slot in slots[stage.id]
                     if slot.active and slot.reason in ("delegate", "reassigned")}
        approvers = [{"user_id": slot.user_id, "name": names.get(slot.user_id, "?"),
                      "on_behalf_of_id": slot.on_behalf_of_id, "on_behalf_of_name": names.get(slot.on_behalf_of_id),
                      "reason": slot.reason, "active": slot.active,
                      "handed_to_name": None if slot.active or slot.user_id not in stands_in
                      else names.get(stands_in[slot.user_id].user_id),
                      "handed_to_reason": None if slot.active or slot.user_id not in stands_in
                      else stands_in[slot.user_id].reason,
                      "escalated_to_id": slot.escalated_to_id,
                      "escalated_to_name": names.get(slot.escalated_to_id), "decision": slot.decision,
                      "decided_by_id": slot.decided_by_id, "decided_by_name": names.get(slot.decided_by_id),
                      "comment": slot.comment, "decided_at": _iso(slot.decided_at), "override": slot.override}
                     for slot in slots[stage.id]]
        waiting = [u.name for u in waiting_for(stage)] if stage.state == "active" else []
        out_stages.append({"id": stage.id, "step": stage.step, "name": stage.name, "state": stage.state,
                           "approver_kind": stage.approver_kind, "pass_rule": stage.pass_rule,
                           "pass_count": stage.pass_count, "pass_percentage": stage.pass_percentage,
                           "needed": needed_approvals(stage, sum(1 for a in approvers if a["active"]))
                           if approvers else None,
                           "skippable_when_urgent": stage.skippable_when_urgent, "started_at": _iso(stage.started_at),
                           "due_at": _iso(stage.due_at), "decided_at": _iso(stage.decided_at),
                           "outcome": stage.outcome, "approvers": approvers, "waiting_for": waiting})
    data = {"task_id": review.task_id, "policy_id": review.policy_id, "policy": review.policy_name,
            "status": review.status, "round": review.round, "current_step": review.current_step,
            "restart_from": review.restart_from, "distinct_approvers": review.distinct_approvers,
            "started_at": _iso(review.started_at), "completed_at": _iso(review.completed_at),
            "rejected_stage_id": review.rejected_stage_id, "stages": out_stages,
            "waiting_for": sorted({n for s in out_stages for n in s["waiting_for"]})}
    if viewer is not None:
        data["you_decide"] = [s["id"] for s in out_stages if s["state"] == "active" and any(
            a["active"] and (viewer.id in (a["user_id"], a["escalated_to_id"]))
            and a["decided_by_id"] in (None, viewer.id) for a in s["approvers"])]
        task = task or Task.get_or_none(Task.id == review.task_id)
        data["you_may_resubmit"] = bool(task and review.status == "rejected" and (
            viewer.id in (task.reporter_id, task.assignee_id) or viewer.has_permission(people.PERMISSION_MANAGE)))
        data["you_may_expedite"] = bool(task and review.status == "in_review" and task.priority == "urgent"
                                        and viewer.has_permission(PERMISSION_EXPEDITE)
                                        and any(s["skippable_when_urgent"] and s["state"] in ("waiting", "active")
                                                for s in out_stages))
    return data


def summary(review: Review) -> dict[str, Any]:
    """A few facts for a task's representation (``plugins.compliance_review``): cheap enough for lists."""
    active = list(ReviewStage.select().where((ReviewStage.review == review) & (ReviewStage.state == "active"))
                  .order_by(ReviewStage.id))
    return {"status": review.status, "policy": review.policy_name, "round": review.round,
            "current_step": review.current_step, "active_stages": [s.name for s in active],
            "waiting_for": sorted({u.name for s in active for u in waiting_for(s)})}


def history(review: Review) -> list[Decision]:
    return list(Decision.select().where(Decision.review_id == review.id).order_by(Decision.at, Decision.id))


def decision_to_dict(row: Decision) -> dict[str, Any]:
    return {"id": row.id, "at": _iso(row.at), "task_id": row.task_id, "task_number": row.task_number,
            "task_title": row.task_title, "policy": row.policy_name, "round": row.round, "stage_id": row.stage_id,
            "stage": row.stage_name, "action": row.action, "actor_id": row.actor_id, "actor": row.actor_name,
            "on_behalf_of_id": row.on_behalf_of_id, "on_behalf_of": row.on_behalf_of_name,
            "on_behalf_reason": row.on_behalf_reason, "automatic": row.automatic, "override": row.override,
            "expedite": row.expedite,
            "comment": row.comment, "reason": row.reason}


def queue(user: User) -> list[dict[str, Any]]:
    """What waits for ``user``: active stages where they hold (or were escalated) an undecided slot,
    soonest deadline first."""
    rows = list(Approver.select(Approver, ReviewStage, Review).join(ReviewStage).join(Review)
                .where(((Approver.user == user) | (Approver.escalated_to == user)) & (Approver.active == True)  # noqa: E712
                       & Approver.decision.is_null() & (ReviewStage.state == "active")
                       & (Approver.round == ReviewStage.round) & (Review.status == "in_review")
                       & Review.task_deleted_at.is_null())
                .order_by(ReviewStage.started_at, Approver.id))
    tasks = {t.id: t for t in Task.select().where(Task.id.in_([r.stage.review.task_id for r in rows]))} if rows else {}
    names = _names([r.user_id for r in rows] + [r.on_behalf_of_id for r in rows])
    items, seen = [], set()
    for row in rows:
        stage, review = row.stage, row.stage.review
        task = tasks.get(review.task_id)
        if task is None or stage.id in seen:
            continue
        seen.add(stage.id)
        items.append({"task_id": task.id, "task_number": task.number, "task_title": task.title,
                      "priority": task.priority, "policy": review.policy_name, "stage_id": stage.id,
                      "stage": stage.name, "step": stage.step, "since": _iso(stage.started_at),
                      "due_at": _iso(stage.due_at), "escalated": row.user_id != user.id,
                      "on_behalf_of": names.get(row.on_behalf_of_id) or (
                          names.get(row.user_id) if row.user_id != user.id else None),
                      "on_behalf_reason": _behalf_reason(row, user)})
    far = dt.datetime.max.replace(tzinfo=dt.timezone.utc).isoformat()
    return sorted(items, key=lambda i: (i["due_at"] or far, i["since"] or "", i["stage_id"]))


def _behalf_reason(slot: Approver, user: User) -> str | None:
    """Why ``user`` decides ``slot`` for someone else (absent, escalated, reassigned), or None."""
    if slot.user_id != user.id:
        return "escalated"
    return {"delegate": "absent", "reassigned": "reassigned"}.get(slot.reason) if slot.on_behalf_of_id else None


def decisions_between(actor: User, start: dt.datetime, end: dt.datetime):
    """Every log row from ``start`` (inclusive) to ``end`` (exclusive), oldest first: the auditors' export."""
    require(actor, PERMISSION_AUDIT)
    if end <= start:
        raise ValidationFailed(_("Invalid value."), {"until": [_("Must be after the start of the period.")]})
    return (Decision.select().where((Decision.at >= start) & (Decision.at < end))
            .order_by(Decision.at, Decision.id))


# -- task lifecycle -------------------------------------------------------------------------------

def task_deleted(task_id: int, now: dt.datetime | None = None) -> None:
    """Keep a deleted task's review and log (auditors need them); it no longer waits for anyone."""
    with write_transaction():
        Review.update(task_deleted_at=now or utcnow()).where(
            (Review.task_id == task_id) & Review.task_deleted_at.is_null()).execute()
