"""Catalog upkeep: every catalog carries the plural forms of the Babel version the lock pins.

``python -m workdesk.i18n plurals DIR ...`` (run by ``make messages``) rewrites the ``Plural-Forms``
header of every ``<DIR>/<lang>/LC_MESSAGES/messages.po`` to what the installed Babel says for that
language, and gives each plural entry that many forms, keeping the first ("one") and the last
("other"): a new form in between starts empty, so the catalog test fails until a translator fills it.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po


def sync_plural_forms(folder: Path) -> list[Path]:
    """Bring every catalog under ``folder`` to the installed Babel's plural forms; return those changed."""
    changed = []
    for path in sorted(folder.glob("*/LC_MESSAGES/messages.po")):
        with path.open("rb") as f:
            catalog = read_po(f, locale=path.parts[-3])
        before = catalog.num_plurals
        catalog._num_plurals = catalog._plural_expr = None  # from the locale's CLDR data, not the header
        if catalog.num_plurals == before:
            continue
        for message in catalog:
            if message.id and message.pluralizable:
                # CLDR orders forms from "one" to "other": keep both ends, open the new ones between.
                forms = list(message.string)
                missing = catalog.num_plurals - len(forms)
                message.string = tuple(forms[:-1] + [""] * missing + forms[-1:] if missing > 0
                                       else forms[:catalog.num_plurals - 1] + forms[-1:])
        with path.open("wb") as f:
            write_po(f, catalog)
        changed.append(path)
    return changed


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "plurals":
        print("usage: python -m workdesk.i18n plurals TRANSLATIONS_DIR ...", file=sys.stderr)
        return 2
    for folder in argv[1:]:
        for path in sync_plural_forms(Path(folder)):
            print(f"{path}: plural forms now follow the installed Babel; fill in the new forms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
