"""Schedule arithmetic with a controllable clock: cron and RRULE in a timezone across DST
changes, one-off times, misfire grace, coalescing and catch-up after downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from langorch.scheduling.schedules import Schedule, ScheduleError, describe, due

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def _local(instants: list[datetime], tz: ZoneInfo) -> list[str]:
    return [i.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") for i in instants]


@pytest.mark.parametrize(("tz_name", "spring", "autumn"), [
    ("Europe/Berlin", "2026-03-29", "2026-10-25"),
    ("America/New_York", "2026-03-08", "2026-11-01"),
])
def test_a_daily_0230_fires_exactly_once_on_both_dst_days(tz_name: str, spring: str, autumn: str) -> None:
    tz = ZoneInfo(tz_name)
    schedule = Schedule(cron="30 2 * * *", timezone=tz_name)
    for day in (spring, autumn):
        start = datetime.fromisoformat(day).replace(tzinfo=tz) - timedelta(days=1)
        fires = schedule.upcoming(start, 3)
        on_day = [f for f in fires if f.astimezone(tz).strftime("%Y-%m-%d") == day]
        assert len(on_day) == 1, _local(fires, tz)
        assert fires[1] - fires[0] >= timedelta(hours=22), _local(fires, tz)
    [spring_fire] = schedule.upcoming(datetime.fromisoformat(spring).replace(tzinfo=tz), 1)
    assert spring_fire.astimezone(tz).strftime("%H:%M") == "03:30"  # 02:30 does not exist that day


def test_the_repeated_hour_fires_once_at_its_first_occurrence() -> None:
    schedule = Schedule(cron="30 2 * * *", timezone="Europe/Berlin")
    [fire] = schedule.upcoming(datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN), 1)
    assert fire == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, not 02:30 CET
    [after] = schedule.upcoming(fire, 1)
    assert after.astimezone(BERLIN).date().isoformat() == "2026-10-26"


def test_an_rrule_fires_on_its_days_in_its_timezone() -> None:
    schedule = Schedule(rrule="FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=9;BYMINUTE=0;BYSECOND=0", timezone="America/New_York")
    fires = schedule.upcoming(datetime(2026, 3, 1, tzinfo=UTC), 4)
    assert _local(fires, NEW_YORK) == ["2026-03-02 09:00 EST", "2026-03-06 09:00 EST", "2026-03-09 09:00 EDT",
                                       "2026-03-13 09:00 EDT"]


def test_a_one_off_fires_once_and_then_never() -> None:
    at = datetime(2026, 12, 24, 18, 0, tzinfo=BERLIN)
    schedule = Schedule(at=at)
    assert schedule.upcoming(datetime(2026, 12, 1, tzinfo=UTC), 5) == [at.astimezone(UTC)]
    assert schedule.next_after(at) is None


@pytest.mark.parametrize(("fields", "field"), [
    ({"cron": "61 * * * *"}, "cron"), ({"cron": "* * * *"}, "cron"), ({"cron": "@sometimes"}, "cron"),
    ({"rrule": "FREQ=SOMETIMES"}, "rrule"), ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "timezone"),
    ({}, "schedule"), ({"cron": "* * * * *", "rrule": "FREQ=DAILY"}, "schedule"),
])
def test_a_bad_schedule_names_its_field(fields: dict[str, str], field: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        Schedule(**fields)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_a_fire_within_the_grace_fires_and_the_next_is_stored() -> None:
    schedule = Schedule(cron="* * * * *")
    planned = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    result = due(schedule, planned, planned + timedelta(seconds=2), grace_s=60, coalesce=False)
    assert result.fires == (planned,) and result.missed == ()
    assert result.next_fire_at == planned + timedelta(minutes=1)
    assert due(schedule, planned, planned - timedelta(seconds=1), grace_s=60, coalesce=False).fires == ()


def test_downtime_longer_than_the_grace_fires_once_when_coalescing_and_never_otherwise() -> None:
    schedule = Schedule(cron="*/5 * * * *")
    planned = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    back = planned + timedelta(hours=2, minutes=2)
    coalesced = due(schedule, planned, back, grace_s=60, coalesce=True)
    assert coalesced.fires == (datetime(2026, 12, 7, 12, 0, tzinfo=UTC),) and len(coalesced.missed) == 24
    strict = due(schedule, planned, back, grace_s=60, coalesce=False)
    assert strict.fires == () and len(strict.missed) == 25
    assert strict.next_fire_at == coalesced.next_fire_at == datetime(2026, 12, 7, 12, 5, tzinfo=UTC)


def test_without_coalescing_each_missed_fire_within_the_grace_fires() -> None:
    schedule = Schedule(cron="* * * * *")
    planned = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    result = due(schedule, planned, planned + timedelta(minutes=3, seconds=5), grace_s=150, coalesce=False)
    assert [f.minute for f in result.fires] == [1, 2, 3] and [m.minute for m in result.missed] == [0]


def test_macros_and_six_fields_with_seconds_first_read_as_the_compiler_reads_them() -> None:
    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert Schedule(cron="@hourly").upcoming(start, 2) == [start + timedelta(hours=1), start + timedelta(hours=2)]
    assert Schedule(cron="*/20 * * * * *").upcoming(start, 2) == [start + timedelta(seconds=20),
                                                                  start + timedelta(seconds=40)]


def test_the_description_reads_like_the_schedule() -> None:
    assert describe(Schedule(cron="30 2 * * *", timezone="Europe/Berlin")) == "every day at 02:30 (Europe/Berlin)"
    assert describe(Schedule(cron="* * * * *")) == "every minute (UTC)"
    assert describe(Schedule(cron="0 9 * * 1-5")) == "every weekday at 09:00 (UTC)"
    assert describe(Schedule(cron="*/15 * * * *")) == "every 15 minutes (UTC)"
