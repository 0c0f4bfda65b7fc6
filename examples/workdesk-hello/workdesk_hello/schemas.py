from marshmallow import Schema, fields, validate


class HelloSettings(Schema):
    greeting = fields.String(load_default="Hello! Thanks for filing this.",
                             validate=validate.Length(min=1, max=200))
