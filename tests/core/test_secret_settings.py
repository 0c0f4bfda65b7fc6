"""Secret settings as any plugin's schema declares them: masked when shown, kept, replaced or
cleared when saved, at the top level and inside nested lists (by key, or by position)."""
from __future__ import annotations

import marshmallow as ma

from workdesk.secret_settings import SECRET_MASK, keep_secrets, mask_secrets


class Account(ma.Schema):
    login = ma.fields.String()
    token = ma.fields.String(required=True, metadata={"secret": True})


class Keyed(ma.Schema):
    name = ma.fields.String(metadata={"key": True})
    token = ma.fields.String(required=True, metadata={"secret": True})


class Settings(ma.Schema):
    api_key = ma.fields.String(load_default="", metadata={"secret": True})
    unset_key = ma.fields.String(load_default="", metadata={"secret": True})
    accounts = ma.fields.List(ma.fields.Nested(Account), load_default=list)
    keyed = ma.fields.Nested(Keyed, many=True, load_default=list)
    owner = ma.fields.Nested(Account, allow_none=True, load_default=None)


STORED = {"api_key": "k-123", "unset_key": "", "owner": {"login": "o", "token": "t-owner"},
          "accounts": [{"login": "a", "token": "t-a"}, {"login": "b", "token": "t-b"}],
          "keyed": [{"name": "x", "token": "t-x"}, {"name": "y", "token": "t-y"}]}


def test_every_set_secret_is_masked_wherever_it_sits():
    assert mask_secrets(Settings(), STORED) == {
        "api_key": SECRET_MASK, "unset_key": "", "owner": {"login": "o", "token": SECRET_MASK},
        "accounts": [{"login": "a", "token": SECRET_MASK}, {"login": "b", "token": SECRET_MASK}],
        "keyed": [{"name": "x", "token": SECRET_MASK}, {"name": "y", "token": SECRET_MASK}]}


def test_what_was_shown_saves_back_to_what_was_stored():
    schema = Settings()
    assert schema.load(keep_secrets(schema, mask_secrets(schema, STORED), STORED)) == STORED


def test_keep_replace_and_clear():
    schema = Settings()
    merged = keep_secrets(schema, {"api_key": "", "unset_key": "new", "owner": {"login": "o"},
                                   "accounts": [{"login": "b", "token": SECRET_MASK}],
                                   "keyed": [{"name": "y", "token": SECRET_MASK}, {"name": "z", "token": SECRET_MASK}]},
                          STORED)
    assert merged["api_key"] == "k-123" and merged["unset_key"] == "new"
    assert merged["owner"] == {"login": "o", "token": "t-owner"}
    assert merged["accounts"] == [{"login": "b", "token": "t-a"}]  # no key field: matched by position
    assert merged["keyed"] == [{"name": "y", "token": "t-y"}, {"name": "z"}]  # by key; "z" has nothing to keep
    assert keep_secrets(schema, {"api_key": None}, STORED) == {}  # cleared: the default applies
    assert schema.load(keep_secrets(schema, {"api_key": None}, STORED))["api_key"] == ""
