"""The admin panel's Settings page: the core's run-time settings (``workdesk.site_settings``), such as
whether the people directory is open to requesters. The form is generated from the settings schema, as
a plugin's settings form is; the schema judges what is valid."""
from __future__ import annotations

import marshmallow
from flask import flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _

from workdesk.access import require
from workdesk.site_settings import MANAGE_PERMISSION, SiteSettingsSchema, save_site_settings, site_settings

from .base import WorkdeskBaseView, admin_user
from .settings_form import flatten_messages, form_values, settings_form_class, submitted_settings


class SiteSettingsView(WorkdeskBaseView):

    @expose("/", methods=("GET", "POST"))
    def index(self):
        user = admin_user()
        require(user, MANAGE_PERMISSION)
        form_class = settings_form_class(SiteSettingsSchema)
        status = 200
        if request.method == "POST":
            form = form_class()
            if form.validate():
                data, errors = submitted_settings(SiteSettingsSchema, form)
                if not errors:
                    try:
                        save_site_settings(user, data)
                    except marshmallow.ValidationError as exc:
                        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
                    else:
                        flash(_("Settings saved."), "success")
                        return redirect(self.get_url(".index"))
                for name, messages in errors.items():
                    field = getattr(form, name, None)
                    if field is not None:
                        field.errors = [*list(field.errors or []), *flatten_messages(messages)]
                    else:
                        form.form_errors.extend(flatten_messages(messages))
            flash(_("The settings were not saved: correct the marked fields."), "error")
            status = 400
        else:
            form = form_class(formdata=None, data=form_values(SiteSettingsSchema, site_settings()))
        return self.render("workdesk_admin/site_settings.html", form=form), status
