from flask_admin.contrib.peewee import ModelView
from flask_admin.form import SecureForm


class DailyCountView(ModelView):
    form_base_class = SecureForm
    can_create = can_edit = can_delete = False
    column_default_sort = ("day", True)
