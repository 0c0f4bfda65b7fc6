"""The first day of the week follows the reader's language (CLDR through Babel), not a table of ours."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk import dates


@pytest.mark.parametrize("locale, first", [("en", 6), ("en_GB", 0), ("de", 0), ("fr", 0), ("es", 0), ("ru", 0),
                                           ("bg", 0), ("vi", 0), ("zh_Hans", 0), ("pt_BR", 6), ("ar_EG", 5)])
def test_first_week_day_comes_from_cldr(locale, first):
    assert dates.first_week_day(locale) == first


def test_week_start_and_the_order_of_the_days():
    wednesday = dt.date(2026, 4, 1)
    assert dates.week_start(wednesday, "en") == dt.date(2026, 3, 29)
    assert dates.week_start(wednesday, "de") == dt.date(2026, 3, 30)
    assert dates.week_start(dt.date(2026, 3, 29), "de") == dt.date(2026, 3, 23)  # a Sunday ends a German week
    assert dates.week_days("en")[0] == (7, "Sun") and dates.week_days("en")[-1] == (6, "Sat")
    assert [iso for iso, _name in dates.week_days("de")] == [1, 2, 3, 4, 5, 6, 7]
    assert dates.week_days("ru")[0] == (1, "пн")


def test_the_page_says_the_readers_language(client, login, make_user):
    user = make_user(locale="zh_Hans")
    login(client, user)
    html = client.get("/notifications").get_data(as_text=True)
    assert html.startswith("<!doctype html>\n<html lang=\"zh-Hans\"") or '<html lang="zh-Hans"' in html
