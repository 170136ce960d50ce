"""Times on the pages as people in the county read them: UK time with the date, stored UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

from partnership_api.web.presenters.common import day, on_day


def test_01_30_utc_on_1_july_is_2_30am_uk_time():
    assert on_day(datetime(2026, 7, 1, 1, 30, tzinfo=UTC)) == "1 July 2026 at 2:30am"


def test_in_winter_uk_time_is_utc():
    assert on_day(datetime(2026, 12, 4, 21, 5, tzinfo=UTC)) == "4 December 2026 at 9:05pm"


def test_the_date_follows_uk_time_across_midnight():
    # 23:30 UTC on 30 June is 00:30 on 1 July in the UK (BST).
    assert on_day(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2026 at 12:30am"
    assert day(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2026"


def test_midnight_and_midday_are_words_and_the_clock_change_is_kept():
    assert on_day(datetime(2026, 12, 1, 0, 0, tzinfo=UTC)) == "1 December 2026 at midnight"
    assert on_day(datetime(2026, 6, 1, 11, 0, tzinfo=UTC)) == "1 June 2026 at midday"
    # The clocks went forward at 01:00 UTC on 29 March 2026: 00:59 GMT, then 02:00 BST.
    assert on_day(datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) == "29 March 2026 at 12:59am"
    assert on_day(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == "29 March 2026 at 2am"


def test_a_stored_time_without_a_zone_is_utc_and_text_is_read():
    assert on_day(datetime(2026, 7, 1, 1, 30)) == "1 July 2026 at 2:30am"
    assert on_day("2026-07-01T01:30:00+00:00") == "1 July 2026 at 2:30am"
    assert day(date(2026, 4, 6)) == "6 April 2026" and on_day(None) == ""
