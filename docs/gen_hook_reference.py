"""Write docs/hooks.md from the docstrings in core/hookspecs.py (run after changing a hook).

    .venv/bin/python docs/gen_hook_reference.py
"""
from __future__ import annotations

import inspect
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workdesk import hookspecs  # noqa: E402

TARGET = Path(__file__).with_name("hooks.md")


def hooks() -> list:
    return [fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(fn, "workdesk_spec")]


def render() -> str:
    lines = ["# Hook reference", "",
             "Generated from `core/hookspecs.py` (`workdesk.hookspecs`) by `docs/gen_hook_reference.py`; do not edit by hand.", "",
             f"Hook API version: **{hookspecs.HOOK_API_VERSION}**.", "",
             inspect.getdoc(hookspecs), ""]
    for fn in sorted(hooks(), key=lambda f: f.__code__.co_firstlineno):
        opts = fn.workdesk_spec
        marker = " *(firstresult: the first non-None answer wins)*" if opts.get("firstresult") else ""
        lines += [f"## `{fn.__name__}{inspect.signature(fn)}`{marker}", "", inspect.getdoc(fn) or "", ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET} ({len(hooks())} hooks)")
