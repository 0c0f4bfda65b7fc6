"""The metrics duty_roster and compliance_review contribute, on the hand-built history, on both databases."""
from __future__ import annotations

import datetime as dt

from .conftest import BOTH, at

pytestmark = BOTH


def scope_for(viewer, period, **kwargs):
    from workdesk.plugins.reports.scope import build_scope
    return build_scope(viewer, period, **kwargs)


def test_duty_figures_per_department(history, week, enable_plugin, client, login):
    from workdesk.plugins.duty_roster.models import Handover, Rotation, Swap
    from workdesk.plugins.duty_roster.metrics import duty_figures
    enable_plugin("duty_roster")
    a, b = history.agent_a, history.agent_b
    rotation = Rotation.create(department=history.it, name="Daily", member_ids=[a.id, b.id], shift_length=1,
                               shift_unit="days", handoff_time="09:00", timezone="Europe/Sofia",
                               start_date=dt.date(2026, 1, 1))

    def handover(start, submitted=None, acknowledged=None):
        shift_start = at(start)
        Handover.create(department=history.it, rotation=rotation, shift_start=shift_start,
                        shift_end=shift_start + dt.timedelta(days=1), outgoing=a, incoming=b,
                        status="acknowledged" if acknowledged else "submitted" if submitted else "open",
                        due_at=shift_start + dt.timedelta(days=1, hours=1),
                        submitted_at=at(submitted) if submitted else None,
                        acknowledged_at=at(acknowledged) if acknowledged else None)
    handover("2026-01-05T07:00Z", submitted="2026-01-06T07:30Z", acknowledged="2026-01-06T08:00Z")  # on time
    handover("2026-01-06T07:00Z", submitted="2026-01-07T10:00Z")  # late, not acknowledged
    handover("2026-01-07T07:00Z")  # missing
    handover("2026-01-12T07:00Z")  # its shift ends after the period

    def swap(status, created):
        Swap.create(rotation=rotation, requester=a, target=b, starts_at=at("2026-01-20T07:00Z"),
                    ends_at=at("2026-01-21T07:00Z"), status=status, expires_at=at("2026-01-19T07:00Z"),
                    created_at=at(created))
    swap("accepted", "2026-01-06T12:00Z")
    swap("declined", "2026-01-07T12:00Z")
    swap("expired", "2026-01-08T12:00Z")
    swap("pending", "2026-01-12T12:00Z")  # after the period
    from workdesk.plugins.duty_roster.models import LogEntry
    LogEntry.create(department=history.it, user=a, at=at("2026-01-05T09:00Z"), text="Printer jam", on_duty=True)
    LogEntry.create(department=history.it, user=b, at=at("2026-01-03T09:00Z"), text="Before the period")
    [row] = duty_figures(scope_for(history.admin, week)).rows
    # Ana is on duty from Monday 07:00Z (09:00 Sofia) when T1 reaches her and answers it at 08:00Z (60 min);
    # Boris gets it at 08:30Z and resolves it at 13:00Z, both off duty: neither counts for him.
    assert (row["tasks_received"], row["tasks_resolved"], row["first_response_minutes"], row["log_entries"]) == \
        (1, 0, 60.0, 1)
    [boris] = duty_figures(scope_for(history.admin, week, user_id=b.id)).rows
    assert (boris["tasks_received"], boris["first_response_minutes"], boris["log_entries"]) == (0, None, 0)
    assert row["department"] == "IT"
    # a daily rotation from 1 January covers the whole week (168 h): the shift begun Sunday 09:00 and seven more
    assert (row["covered_hours"], row["uncovered_hours"], row["shifts_covered"], row["shifts_with_absence"]) == \
        (168.0, 0.0, 8, 0)
    assert (row["handovers_due"], row["handovers_submitted"], row["handovers_on_time"],
            row["handovers_acknowledged"]) == (3, 2, 1, 1)
    assert (row["swaps_requested"], row["swaps_accepted"], row["swaps_declined"], row["swaps_expired"]) == (3, 1, 1, 1)
    # a manager of Facilities (no roster) sees no duty row; the dashboard shows the metric while the plugin is on
    assert duty_figures(scope_for(history.facilities_head, week)).rows == []
    login(client, history.admin)
    assert 'data-metric="duty_roster.duty"' in client.get("/reports?from=2026-01-05&to=2026-01-11").text


def test_review_lead_time_per_stage(history, week, enable_plugin):
    from workdesk.plugins.compliance_review.metrics import lead_time_per_stage
    from workdesk.plugins.compliance_review.models import Review, ReviewStage
    enable_plugin("compliance_review")
    t0, t1, t2, t3 = history.tasks[:4]

    def stage(task, name, started, decided, outcome="votes"):
        review = Review.get_or_none(Review.task_id == task.id) or Review.create(
            task_id=task.id, task_number=task.number, policy_name="Purchases", restart_from="first_stage",
            distinct_approvers=True)
        ReviewStage.create(review=review, step=1, name=name, approver_kind="people", pass_rule="all",
                           state="approved", started_at=at(started), decided_at=at(decided), outcome=outcome)
    stage(t1, "Legal", "2026-01-05T08:00Z", "2026-01-05T10:00Z")    # 2 h
    stage(t2, "Legal", "2026-01-05T08:00Z", "2026-01-05T12:00Z")    # 4 h
    stage(t3, "Legal", "2026-01-06T08:00Z", "2026-01-06T18:00Z")    # 10 h
    stage(t1, "Finance", "2026-01-05T10:00Z", "2026-01-05T11:30Z", outcome="timeout")  # 1.5 h, timed out
    stage(t0, "Legal", "2026-01-01T08:00Z", "2026-01-02T08:00Z")    # decided before the period
    rows = lead_time_per_stage(scope_for(history.admin, week)).rows
    assert rows == [
        {"stage": "Finance", "decided": 1, "median_hours": 1.5, "p90_hours": 1.5, "timed_out": 1},
        {"stage": "Legal", "decided": 3, "median_hours": 4.0, "p90_hours": 10.0, "timed_out": 0},
    ]
    # scoped to Facilities, only T3's review (T3 was moved there) counts
    facilities = lead_time_per_stage(scope_for(history.admin, week, department_id=history.facilities.id)).rows
    assert facilities == [{"stage": "Legal", "decided": 1, "median_hours": 10.0, "p90_hours": 10.0, "timed_out": 0}]
