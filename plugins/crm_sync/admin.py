"""Admin panel: sync status (last run, counts, errors, cursor, progress, "sync now"), customers, CSV
import with a dry-run preview and export, and the activity log with dead letters and retry."""
from __future__ import annotations

from flask import flash, redirect, request
from flask_admin import BaseView, expose
from flask_admin.contrib.peewee import ModelView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from wtforms import BooleanField, FileField

from workdesk import WorkdeskForm, csv_export, delivery_admin_views

from .connectors import connector_classes, missing_connector
from .csvio import HEADER, export_rows, import_csv
from .models import CrmPush, Customer, SyncState
from .sync import settings

CATEGORY = _l("CRM sync")


class ImportForm(WorkdeskForm):
    file = FileField(_l("CSV file (UTF-8; columns external_id, kind, name, emails, phones, company_external_id, "
                        "owner)"))
    dry_run = BooleanField(_l("Dry run: only show what would change"), default=True)


class SyncStatusView(BaseView):
    """Where each pull stands, with "sync now", a full reconcile, and the CSV import and export."""

    @expose("/")
    def index(self):
        return self._page(ImportForm(), None)

    def _page(self, import_form: ImportForm, plan):
        current = settings()
        states = list(SyncState.select().where(SyncState.connector == current["connector"]).order_by(SyncState.resource))
        failed = CrmPush.select().where(CrmPush.status.in_(("retry", "dead"))).count()
        label = getattr(connector_classes().get(current["connector"]), "label", current["connector"])
        missing = missing_connector()
        if missing is not None:  # name the chosen connector, not the default standing in for it
            label = missing.name
        return self.render("crm_sync/admin_status.html", states=states, failed=failed, connector=label,
                           missing=str(missing) if missing is not None else None,
                           form=WorkdeskForm(), import_form=import_form, plan=plan)

    @expose("/sync", methods=("POST",))
    def sync(self):
        if not WorkdeskForm().validate_on_submit():
            flash(_("The form expired or did not come from this site. Reload the page and try again."), "error")
            return redirect(self.get_url(".index"))
        from .jobs import sync_now
        full = request.form.get("full") == "1"
        sync_now(full)
        flash(_("A full reconcile is queued; its progress shows here.") if full else
              _("A sync is queued; its progress shows here."), "success")
        return redirect(self.get_url(".index"))

    @expose("/export.csv")
    def export(self):
        return csv_export.csv_response(HEADER, export_rows(), "customers.csv")

    @expose("/import", methods=("POST",))
    def import_file(self):
        form = ImportForm()
        if not form.validate_on_submit() or not request.files.get("file"):
            flash(_("Choose a CSV file to import."), "error")
            return redirect(self.get_url(".index"))
        plan = import_csv(request.files["file"].read(), dry_run=form.dry_run.data)
        if plan.applied or not form.dry_run.data:
            flash(_("Imported: %(create)s created, %(update)s updated, %(refused)s refused.",
                    create=len(plan.create), update=len(plan.update), refused=len(plan.refused)), "success")
        return self._page(form, plan)


def _name_cell(view, context, model, name):
    return escape(model.name or f"#{model.id}")


class CustomerView(ModelView):
    """Customers, read-only here: the CRM owns most fields (change Workdesk's in the API)."""
    form_base_class = WorkdeskForm
    can_create = can_edit = can_delete = False
    can_view_details = True
    column_list = ("id", "kind", "name", "emails", "phones", "owner", "deleted_at")
    column_labels = {"kind": _l("Kind"), "name": _l("Name"), "emails": _l("Emails"), "phones": _l("Phones"),
                     "owner": _l("Owner"), "deleted_at": _l("Deleted in the CRM (UTC)")}
    column_searchable_list = ("search_text",)
    column_filters = ("kind",)
    column_default_sort = ("id", True)
    page_size = 50


def _push_cell(view, context, model, name):
    return escape(f"{model.kind} · {model.subject}" if model.subject else f"#{model.id}")


def admin_views() -> list:
    views = [SyncStatusView(name=_l("Sync status"), endpoint="crm_sync_status", url="/admin/crm_sync/status",
                            category=CATEGORY),
             CustomerView(Customer, name=_l("Customers"), endpoint="crm_sync_customers",
                          url="/admin/crm_sync/customers", category=CATEGORY)]
    for view in delivery_admin_views(CrmPush, "crm_sync", CATEGORY):
        # the ledger's notification column holds the task event: show the activity instead
        view.column_formatters = {**view.column_formatters, "notification": _push_cell}
        view.column_labels = {**view.column_labels, "notification": _l("Activity")}
        views.append(view)
    return views
