"""Discussions

A space per department (and instance-wide spaces an admin creates) for talk and materials: threads,
posts in Markdown, attachments, mentions, pinned posts, posts turned into tasks, unread counts, search
and moderation.
"""
from __future__ import annotations

from workdesk import Plugin, hookimpl

from .models import MODELS


class DiscussionsPlugin(Plugin):
    """Discussions

    A space per department and instance-wide spaces: threads with Markdown posts, files, mentions,
    pinned materials, "turn this post into a task", unread counts, search and moderation.
    """

    name = "discussions"
    version = "0.1.0"
    requires_workdesk = ">=1.1,<2"

    @hookimpl
    def register_models(self):
        return list(MODELS)

    @hookimpl
    def register_permissions(self):
        return [("discussions.moderate", "Hide posts in every discussion space and create instance-wide spaces")]

    @hookimpl
    def register_notification_kinds(self):
        from flask_babel import lazy_gettext as _l
        return [("discussions.reply", _l("A reply in a discussion thread I take part in")),
                ("discussions.mention", _l("Someone mentions me in a discussion"))]

    @hookimpl
    def register_blueprints(self, app):
        from .api import blueprint
        from .views import pages
        return [blueprint, pages]

    @hookimpl
    def register_admin_views(self):
        from .admin import admin_views
        return admin_views()

    @hookimpl
    def task_page_panels(self, task, user):
        """The post a task was filed from, when the reader may see its space (the other half of the link)."""
        from flask import render_template
        from markupsafe import Markup
        from flask_babel import gettext as _
        from .services import post_for_task
        post = post_for_task(user, task.id)
        if post is None:
            return None
        return [(_("Discussion"), Markup(render_template("discussions/_task_panel.html", post=post)))]
