"""The email plugin's settings (edited on the admin panel's plugin page)."""
from __future__ import annotations

import os.path

import marshmallow as ma

from workdesk import RetrySettings

ADDRESS = r"^[^@\s<>]+@[^@\s<>]+$"


def _absolute_or_empty(path: str) -> None:
    # A relative path would be resolved against whichever directory each worker was started in.
    if path and not os.path.isabs(path):
        raise ma.ValidationError("Give an absolute path, or leave empty to trust the system's certificate store.")


class EmailSettings(RetrySettings):
    host = ma.fields.String(load_default="", validate=ma.validate.Length(0, 255),
                            metadata={"description": "SMTP server host name or address (needed to enable the plugin)",
                                      "required_to_enable": True})
    port = ma.fields.Integer(load_default=25, validate=ma.validate.Range(1, 65535),
                             metadata={"description": "SMTP port (25, 587 for STARTTLS, 465 for SSL)"})
    security = ma.fields.String(load_default="none", validate=ma.validate.OneOf(["none", "starttls", "ssl"]),
                                metadata={"description": "none, starttls or ssl"})
    ca_file = ma.fields.String(load_default="", validate=[ma.validate.Length(0, 1024), _absolute_or_empty],
                               metadata={"description": "With starttls or ssl: PEM file of the certificate authorities "
                                                        "to trust instead of the system's store (empty: the system's); "
                                                        "the server's certificate and host name are always verified"})
    username = ma.fields.String(load_default="", validate=ma.validate.Length(0, 255),
                                metadata={"description": "SMTP login (empty: no authentication)"})
    password = ma.fields.String(load_default="", validate=ma.validate.Length(0, 255),
                                metadata={"description": "SMTP password (write-only: leave empty to keep the stored one)",
                                          "secret": True})
    from_address = ma.fields.String(load_default="workdesk@localhost",
                                    validate=[ma.validate.Length(3, 254), ma.validate.Regexp(ADDRESS)],
                                    metadata={"description": "Sender address of every message"})
    timeout_seconds = ma.fields.Float(load_default=10.0, validate=ma.validate.Range(0.1, 300),
                                      metadata={"description": "Give up on an unresponsive server after this long"})
