"""Test plugins for the pages: task page panels, navigation links, account page sections and additions to
every page's head, each also from a plugin that raises; a veto."""
from __future__ import annotations

from flask import render_template_string
from markupsafe import Markup

from workdesk import Plugin, hookimpl


class PanelPlugin(Plugin):
    """Checklist panel (test plugin)"""
    name = "webpanel"

    @hookimpl
    def task_page_panels(self, task, user):
        html = render_template_string('<p class="probe">{{ title }} seen by {{ viewer }}</p>',
                                      title=task.title, viewer=user.name)
        return [("Checklist", Markup(html)), ("Plain text", "<b>not html</b>")]

    @hookimpl
    def extra_task_data(self, task):
        return {"checklist": "2 of 3 done", "note": "<i>plain</i>"}

    @hookimpl
    def describe_task_event(self, event):
        if event.kind == "webpanel.ticked":
            return f"ticked “{event.changes['item'][1]}” on the checklist"
        return None


class BrokenPanelPlugin(Plugin):
    """Panel that fails (test plugin)"""
    name = "webpanel_broken"

    @hookimpl
    def task_page_panels(self, task, user):
        raise RuntimeError("panel exploded")

    @hookimpl
    def describe_task_event(self, event):
        raise RuntimeError("description exploded")


class HoldVetoPlugin(Plugin):
    """Hold

    Refuses to resolve tasks on hold, and to close or reopen locked ones (test plugin).
    """
    name = "webveto"

    @hookimpl
    def veto_transition(self, task, old_status, new_status):
        if new_status == "resolved" and "[hold]" in task.title:
            return "the task is on hold"
        if new_status in ("closed", "open") and old_status in ("resolved", "closed") and "[locked]" in task.title:
            return "the task is locked"
        return None


class NavPlugin(Plugin):
    """Checklists page (test plugin): a navigation link for people who work tasks, and two bad ones."""
    name = "webnav"

    @hookimpl
    def navigation_links(self, user):
        if not user.has_permission("task.view_department"):
            return []
        return [("Checklists", "/checklists"), ("Elsewhere", "https://evil.example/"), "not a pair"]

    @hookimpl
    def extra_head(self, user):
        who = user.name if user is not None else "nobody"
        return Markup(render_template_string('<meta name="checklists" content="{{ who }}">', who=who))

    @hookimpl
    def account_page_panels(self, user):
        html = render_template_string('<p class="probe">Checklists of {{ name }}</p>', name=user.name)
        return [("My checklists", Markup(html)), ("Plain text", "<b>not html</b>"), "not a pair"]


class BrokenNavPlugin(Plugin):
    """Navigation that fails (test plugin)"""
    name = "webnav_broken"

    @hookimpl
    def navigation_links(self, user):
        raise RuntimeError("navigation exploded")

    @hookimpl
    def extra_head(self, user):
        raise RuntimeError("head exploded")

    @hookimpl
    def account_page_panels(self, user):
        raise RuntimeError("account panel exploded")
