"""DKIM: whether a message's ``From`` domain vouches for it, for mailboxes that trust it
(``trust_dkim_domains``).

The signature is verified by dkimpy; the public key is looked up in DNS with dnspython, through the
resolver of the ``dns_servers`` setting (the system's when empty). Alignment is relaxed (DMARC's
``adkim=r``): the signing domain ``d=`` must be the ``From`` address's domain or a parent of it, and
``d=`` must be one of the mailbox's trusted domains or under one. A signature with a body length
limit (``l=``) is never trusted: anything could be appended after the signed part.

Every failure (no signature, a broken one, a key missing from DNS, a resolver that does not answer)
is a "no" with a reason for the intake log, never an error: the message is then filed as from an
unverified sender.
"""
from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email import policy

import dkim
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

log = logging.getLogger("workdesk.mail_intake")
# dkimpy's own log lines (a failed verification is an error to it; here an ordinary outcome, said in the
# intake log) go under this name, where an operator can quieten them apart from the plugin's.
_quiet = logging.getLogger("workdesk.mail_intake.dkim")
# One DKIM-Signature is verified at most this many times per message (each may cost a DNS query).
MAX_SIGNATURES = 5


@dataclass(frozen=True)
class Result:
    verified: bool
    domain: str = ""  # the signing domain (d=) that vouched for the sender
    reason: str = ""  # why not, for the intake log

    def note(self) -> str:
        """What the intake log says about it."""
        return f"DKIM: verified by {self.domain}" if self.verified else f"DKIM: not trusted ({self.reason})"


def parse_server(text: str) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` → (IP address, port); ValueError when not."""
    text = text.strip()
    port = "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"not an IP address with an optional port: {text!r}")
            port = rest[1:]
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host = text  # an IPv4 address, or a bare IPv6 one (no port can follow it)
    address = ipaddress.ip_address(host)
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"not a port: {text!r}")
    return str(address), int(port)


def resolver(servers: list[str], timeout: float) -> dns.resolver.Resolver:
    """A resolver asking ``servers`` (``host[:port]``), or the system's when the list is empty."""
    if servers:
        made = dns.resolver.Resolver(configure=False)
        made.nameservers = [dns.nameserver.Do53Nameserver(*parse_server(server)) for server in servers]
    else:
        made = dns.resolver.Resolver()
    made.lifetime = timeout
    made.timeout = timeout
    return made


def _txt_lookup(made: dns.resolver.Resolver):
    """dkimpy's ``dnsfunc``: the TXT record of ``name`` (bytes), None when there is none."""
    def lookup(name, timeout: float = 5):
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else str(name)
        try:
            answer = made.resolve(text, dns.rdatatype.TXT, raise_on_no_answer=False, search=False)
        except dns.resolver.NXDOMAIN:
            return None
        except dns.exception.DNSException as exc:  # timeouts, refusals, malformed answers
            # dkimpy turns this into a plain "does not verify": the failure is kept to say why.
            lookup.failure = f"{type(exc).__name__}: {exc}"[:120]
            raise dkim.DnsTimeoutError(lookup.failure) from exc
        for rrset in answer.response.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b"".join(next(iter(rrset)).strings)
        return None
    lookup.failure = ""
    return lookup


def _under(domain: str, parent: str) -> bool:
    return domain == parent or domain.endswith("." + parent)


def check(raw: bytes, sender: str, trusted: list[str], servers: list[str], timeout: float) -> Result:
    """Whether ``raw`` carries a valid DKIM signature of a trusted domain aligned with ``sender`` (the
    ``From`` address)."""
    trusted = [domain.strip().lower().rstrip(".") for domain in trusted if domain.strip()]
    sender_domain = sender.rpartition("@")[2].lower().rstrip(".")
    if not trusted:
        return Result(False, reason="the mailbox trusts no DKIM domain")
    if not any(_under(sender_domain, domain) for domain in trusted):
        return Result(False, reason=f"{sender_domain} is not a trusted domain")
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    if len(headers.get_all("From") or []) != 1:
        return Result(False, reason="not exactly one From header")
    try:
        verifier = dkim.DKIM(raw, logger=_quiet, minkey=1024, timeout=timeout)
        signatures = [value for name, value in verifier.headers if name.lower() == b"dkim-signature"]
    except dkim.DKIMException as exc:
        return Result(False, reason=f"unreadable message: {exc}"[:200])
    if not signatures:
        return Result(False, reason="no signature")
    lookup = _txt_lookup(resolver(servers, timeout))
    reasons = []
    for index in range(min(len(signatures), MAX_SIGNATURES)):
        try:
            fields = dkim.util.parse_tag_value(signatures[index])
        except Exception:  # noqa: BLE001 - dkimpy raises its own and others for a garbled tag list
            reasons.append("a garbled signature")
            continue
        domain = fields.get(b"d", b"").decode("ascii", "replace").lower().rstrip(".")
        if b"l" in fields:
            reasons.append(f"{domain}: a body length limit (l=)")
            continue
        if not (_under(sender_domain, domain) and any(_under(domain, parent) for parent in trusted)):
            reasons.append(f"signed by {domain or 'no domain'}, not aligned with {sender_domain}")
            continue
        lookup.failure = ""
        try:
            good = verifier.verify(idx=index, dnsfunc=lookup)
        except dkim.DKIMException as exc:
            text = str(exc)
            if text.startswith("body hash mismatch"):  # without the hashes: they tell an admin nothing
                text = "body hash mismatch (the body was changed after signing)"
            reasons.append(f"{domain}: {text}"[:150])
            continue
        except Exception as exc:  # noqa: BLE001 - a hostile message must not stop the intake
            log.warning("mail_intake: DKIM verification failed unexpectedly: %s", exc)
            reasons.append(f"{domain}: {type(exc).__name__}")
            continue
        if good:
            return Result(True, domain=domain)
        if lookup.failure:
            reasons.append(f"{domain}: DNS did not answer ({lookup.failure})")
        else:
            reasons.append(f"{domain}: the signature does not verify")
    return Result(False, reason="; ".join(reasons)[:250])
