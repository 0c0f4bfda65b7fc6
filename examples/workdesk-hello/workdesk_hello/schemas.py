from marshmallow import Schema, fields, validate


class HelloSettings(Schema):
    greeting = fields.String(load_default="Hello! Thanks for filing this.",
                             validate=validate.Length(min=1, max=200))
    language = fields.String(load_default="en", validate=validate.Length(min=2, max=8),
                             metadata={"description": "The language the greeting is written in."})
    refuse_past_due_dates = fields.Boolean(load_default=True,
                                           metadata={"description": "Refuse moving a due date into the past."})
