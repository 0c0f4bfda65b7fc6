"""Benchmark of the CRM sync on SQLite, against the local generic CRM the tests use (a real HTTP server
on 127.0.0.1).

1. A first (full) sync of 50,000 contacts, 500 a page. Target: under 60 s.
2. An incremental sync after 500 changes (renames and email changes) in the CRM.

Beside them, as a reference, the same 50,000 rows written straight into an empty customer table with
the core's ``insert_rows`` (no HTTP, no matching, no links or emails): the floor a sync could reach on
this machine.

    .venv/bin/python bench/bench_crm_sync.py [--contacts 50000] [--changes 500]
"""
from __future__ import annotations

import argparse
import datetime as dt
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "plugins" / "crm_sync"))

from fake_crm import TOKEN, start_generic  # noqa: E402

UTC = dt.timezone.utc


def fresh_app(folder: Path, crm_url: str):
    from workdesk.app import create_app
    from workdesk.registry import save_plugin_settings, set_plugin_enabled
    from workdesk.schema import upgrade_all
    app = create_app({"instance_path": str(folder), "secret_key": secrets.token_urlsafe(24),
                      "database_url": f"sqlite:///{folder / 'bench.db'}", "queue_url": "memory://",
                      "plugin_refresh_seconds": 60, "log_level": "WARNING"})
    upgrade_all(app.extensions["workdesk_registry"])
    with app.app_context():
        save_plugin_settings("crm_sync", {"connector": "generic", "generic_base_url": crm_url, "generic_token": TOKEN,
                                          "allow_private_destinations": True, "page_size": 500,
                                          "rate_limit_per_second": 1000, "timeout_seconds": 30})
        set_plugin_enabled("crm_sync", True)
    return app


def reference(app, count: int) -> float:
    from workdesk import insert_rows, write_transaction
    from workdesk.plugins.crm_sync.models import Customer
    with app.app_context():
        Customer.delete().execute()
        started = time.perf_counter()
        with write_transaction():
            insert_rows(Customer, [{"name": f"Contact {n}", "emails": [f"c{n}@client.example"], "phones": [],
                                    "search_text": f"contact {n}"} for n in range(count)])
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--changes", type=int, default=500)
    args = parser.parse_args()
    crm = start_generic()
    for n in range(args.contacts):
        crm.put("contacts", f"c{n}", name=f"Contact {n}", emails=[f"c{n}@client.example"],
                phones=[f"+359 2 {n:07d}"], owner="sales", custom={"n": n})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        app = fresh_app(folder, crm.url)
        from workdesk.plugins.crm_sync.sync import pull
        with app.app_context():
            started = time.perf_counter()
            counts = pull(dt.datetime.now(UTC), full=True)
            first = time.perf_counter() - started
            print(f"first sync of {args.contacts:,} contacts: {first:.1f} s "
                  f"({args.contacts / first:,.0f} contacts/s; target < 60 s) {counts}")
            for n in range(args.changes):
                if n % 2:
                    crm.put("contacts", f"c{n * 7}", name=f"Contact {n * 7} (renamed)")
                else:
                    crm.put("contacts", f"c{n * 7}", emails=[f"new{n}@client.example"])
            started = time.perf_counter()
            counts = pull(dt.datetime.now(UTC))
            incremental = time.perf_counter() - started
            print(f"incremental sync of {args.changes} changes: {incremental * 1000:.0f} ms {counts}")
            started = time.perf_counter()
            counts = pull(dt.datetime.now(UTC))
            print(f"incremental sync with nothing changed: {(time.perf_counter() - started) * 1000:.0f} ms {counts}")
        from workdesk.plugins.crm_sync.models import CrmLink, CustomerEmail
        with app.app_context():
            CustomerEmail.delete().execute()
            CrmLink.delete().execute()
        print(f"reference: {args.contacts:,} rows written with insert_rows, no HTTP or matching: "
              f"{reference(app, args.contacts):.1f} s")
    crm.stop()


if __name__ == "__main__":
    main()
