"""The mail_intake plugin's settings: the mailboxes it reads, each with its own limits and policies."""
from __future__ import annotations

import re

import marshmallow as ma

from workdesk import PRIORITIES

SECURITY = ("tls", "starttls", "none")
SENDER_POLICIES = ("users_only", "anyone")
SOURCES = ("imap", "listener")


def _dns_server(value: str) -> None:
    from .dkim_check import parse_server
    try:
        parse_server(value)
    except ValueError as exc:
        raise ma.ValidationError("An IP address with an optional port (host, host:port or [IPv6]:port).") from exc


LANGUAGES = ("", "en", "de", "fr", "es", "bg", "ru", "vi", "zh_Hans")


class Mailbox(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Regexp(
        r"^[a-z0-9][a-z0-9_-]{0,63}$", error="Lower-case letters, digits, - and _ (at most 64)."),
        metadata={"key": True})  # a saved mailbox keeps its password by name
    enabled = ma.fields.Boolean(load_default=True)
    source = ma.fields.String(load_default="imap", validate=ma.validate.OneOf(SOURCES), metadata={
        "description": "imap: read from an IMAP server (host, username and password needed); listener: mail "
                       "to the address is delivered by a mail server to `workdesk mail_intake serve` (SMTP/LMTP)"})
    host = ma.fields.String(load_default="", validate=ma.validate.Length(0, 253))
    port = ma.fields.Integer(load_default=993, validate=ma.validate.Range(1, 65535))
    security = ma.fields.String(load_default="tls", validate=ma.validate.OneOf(SECURITY), metadata={
        "description": "tls: IMAPS with the certificate verified; starttls: upgrade on the plain port; "
                       "none: only for a server on this machine or a trusted network"})
    username = ma.fields.String(load_default="", validate=ma.validate.Length(0, 254))
    password = ma.fields.String(load_default="", validate=ma.validate.Length(0, 1024), metadata={"secret": True})
    folder = ma.fields.String(load_default="INBOX", validate=ma.validate.Length(1, 200))
    processed_folder = ma.fields.String(load_default="", validate=ma.validate.Length(0, 200), metadata={
        "description": "Move each message there once its task or comment is committed (created when missing); "
                       "empty: leave it in the folder, flagged as read"})
    address = ma.fields.Email(required=True, metadata={
        "description": "The mailbox's own address: mail from it is ignored (no loops); the listener takes mail "
                       "to it (and to its plus-addresses, address+token@domain, which carry reply tokens)"})
    department_id = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 2**31 - 1))
    type = ma.fields.String(load_default="task", validate=ma.validate.Length(1, 64))
    priority = ma.fields.String(load_default="normal", validate=ma.validate.OneOf(PRIORITIES))
    sender_policy = ma.fields.String(load_default="users_only", validate=ma.validate.OneOf(SENDER_POLICIES), metadata={
        "description": "users_only: mail from addresses that are not active users is refused and logged; "
                       "anyone: it becomes a task filed by the system, with the sender kept as the requester"})
    trust_dkim_domains = ma.fields.List(ma.fields.String(validate=[ma.validate.Length(1, 253), ma.validate.Regexp(
        r"^(?=.*\.)[a-z0-9.-]+$", flags=re.IGNORECASE, error="A domain name, e.g. example.com.")]),
        load_default=list, validate=ma.validate.Length(0, 100), metadata={
        "description": "Domains whose DKIM signature identifies the sender: a message from a user's address "
                       "in one of them (or under one) acts as that user (comment, reopen, file as them) only "
                       "when it carries a valid DKIM signature of that domain or a parent of it (relaxed "
                       "alignment). Empty: only reply tokens identify; the From header alone never does"})
    max_message_kb = ma.fields.Integer(load_default=10240, validate=ma.validate.Range(1, 1024 * 1024))
    max_attachments = ma.fields.Integer(load_default=9, validate=ma.validate.Range(0, 10), metadata={
        "description": "Files taken per message (the core takes at most 10 per upload, the original message "
                       "included when it is kept)"})
    keep_original = ma.fields.Boolean(load_default=True, metadata={
        "description": "Attach the message as received (original-message.eml) to its task or comment"})
    max_per_sender_per_hour = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 100000))
    acknowledge = ma.fields.Boolean(load_default=True, metadata={
        "description": "Send external requesters (senders who are not users, sender policy 'anyone') an "
                       "acknowledgement with their task's number; needs the email plugin for sending"})
    language = ma.fields.String(load_default="", validate=ma.validate.OneOf(LANGUAGES), metadata={
        "description": "Language of the mail to external requesters (empty: the site's default language)"})

    @ma.pre_load
    def _drop_retired(self, data, **kwargs):
        # trust_sender_address (the From alone granting identity) is gone; settings saved with it still load.
        if isinstance(data, dict) and "trust_sender_address" in data:
            data = {k: v for k, v in data.items() if k != "trust_sender_address"}
        return data

    @ma.validates_schema
    def _imap_needs_a_server(self, data, **kwargs):
        if data.get("source", "imap") != "imap":
            return
        missing = {name: ["Required for an IMAP mailbox."] for name in ("host", "username", "password")
                   if not data.get(name)}
        if missing:
            raise ma.ValidationError(missing)


class MailIntakeSettings(ma.Schema):
    mailboxes = ma.fields.Nested(Mailbox, many=True, load_default=list, metadata={
        "description": 'JSON list, e.g. [{"name": "support", "host": "imap.example.com", "username": '
                       '"support@example.com", "password": "…", "address": "support@example.com", '
                       '"department_id": 1}] (a password reads "********": leave it so to keep the stored one)',
        "required_to_enable": True})
    allow_private_destinations = ma.fields.Boolean(load_default=False, metadata={
        "description": "Allow IMAP servers whose addresses are not globally routable (loopback, private networks)"})
    timeout_seconds = ma.fields.Float(load_default=30.0, validate=ma.validate.Range(1, 300))
    reply_to_address = ma.fields.String(load_default="", validate=[ma.validate.Length(0, 200), ma.validate.Regexp(
        r"^$|^[^@\s<>+]+@[^@\s<>]+$", error="An e-mail address without a +tag, or empty.")], metadata={
        "description": "Where replies to Workdesk's notifications go (the email plugin's Reply-To, as "
                       "address+token@domain): a mailbox's address; empty: the first enabled mailbox's"})
    listen_host = ma.fields.String(load_default="127.0.0.1", validate=ma.validate.Length(1, 253), metadata={
        "description": "Where `workdesk mail_intake serve` listens (an address of this machine; 0.0.0.0: all)"})
    listen_port = ma.fields.Integer(load_default=2525, validate=ma.validate.Range(1, 65535), metadata={
        "description": "The listener's port (25 needs privileges: put it behind the mail server, or map the port)"})
    listen_lmtp = ma.fields.Boolean(load_default=False, metadata={
        "description": "Speak LMTP instead of SMTP (for a local mail server such as Postfix or Dovecot's LDA)"})
    dns_servers = ma.fields.List(ma.fields.String(validate=_dns_server), load_default=list,
                                 validate=ma.validate.Length(0, 10), metadata={
        "description": "DNS resolvers asked for DKIM public keys, as IP addresses with an optional port "
                       "(host or host:port, [IPv6]:port); empty: the system's resolver"})
    dns_timeout_seconds = ma.fields.Float(load_default=5.0, validate=ma.validate.Range(0.1, 60), metadata={
        "description": "How long a DKIM key lookup may take; a resolver that does not answer leaves the "
                       "sender unverified"})
    batch_size = ma.fields.Integer(load_default=200, validate=ma.validate.Range(1, 5000), metadata={
        "description": "At most this many messages per mailbox and run (the next run goes on)"})

    @ma.validates_schema
    def _unique_names(self, data, **kwargs):
        names = [mailbox["name"] for mailbox in data.get("mailboxes") or []]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ma.ValidationError(f"Mailbox names must be unique: {', '.join(duplicates)}.", "mailboxes")
