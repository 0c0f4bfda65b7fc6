"""A separate worker process for the crash and concurrency tests: takes in every mailbox once.

Usage: python _worker.py CONFIG_JSON NOW [PAUSE_MARKER]. With PAUSE_MARKER, the worker stops inside the
transaction of its first task (after the task and ledger rows, before the commit), writes the marker
file and sleeps, so that the test can SIGKILL it there.
"""
import datetime as dt
import json
import sys
import time


def main() -> None:
    config, now = json.loads(sys.argv[1]), dt.datetime.fromisoformat(sys.argv[2])
    marker = sys.argv[3] if len(sys.argv) > 3 else None
    from workdesk import create_app, services
    app = create_app(config)
    with app.app_context():
        if marker:
            store = services.attachments.store_uploads

            def store_then_hang(*args, **kwargs):
                rows = store(*args, **kwargs)
                with open(marker, "w") as out:
                    out.write("inside the transaction")
                time.sleep(120)
                return rows
            services.attachments.store_uploads = store_then_hang
        from workdesk.plugins.mail_intake.services import take_in_all
        print(json.dumps(take_in_all(now)))


if __name__ == "__main__":
    main()
