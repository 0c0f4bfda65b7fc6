"""The admin panel's Settings page: the core's run-time settings (``workdesk.site_settings``), such as
whether the people directory is open to requesters. The form is generated from the settings schema, as
a plugin's settings form is; the schema judges what is valid."""
from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import expose
from flask_babel import gettext as _

from workdesk.access import require
from workdesk.site_settings import MANAGE_PERMISSION, SiteSettingsSchema, save_site_settings, site_settings

from .base import WorkdeskBaseView, admin_user
from .settings_form import form_values, save_settings_form, settings_form_class


class SiteSettingsView(WorkdeskBaseView):

    @expose("/", methods=("GET", "POST"))
    def index(self):
        user = admin_user()
        require(user, MANAGE_PERMISSION)
        form_class = settings_form_class(SiteSettingsSchema)
        status = 200
        if request.method == "POST":
            form = form_class()
            if save_settings_form(form, SiteSettingsSchema, lambda data: save_site_settings(user, data)):
                flash(_("Settings saved."), "success")
                return redirect(self.get_url(".index"))
            flash(_("The settings were not saved: correct the marked fields."), "error")
            status = 400
        else:
            form = form_class(formdata=None, data=form_values(SiteSettingsSchema, site_settings()))
        return self.render("workdesk_admin/site_settings.html", form=form), status
