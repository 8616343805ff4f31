"""When a schedule fires: 5-field cron and RFC 5545 RRULE in an IANA timezone, or once.

Wall-clock schedules are computed on the local wall clock and then placed on the time
line: a local time that happens twice (the hour repeated when clocks go back) fires once,
at its first occurrence; one that does not happen (the hour skipped when clocks go
forward) fires at the same distance after the gap (02:30 becomes 03:30). So a daily 02:30
job fires exactly once on both transition days.

Pure: no clock, no database. ``now`` is always passed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter
from dateutil.rrule import DAILY, rrulestr

MAX_CATCH_UP = 10_000
"""Missed instants looked at after downtime, at most (a per-minute schedule down for a week)."""


class ScheduleError(ValueError):
    """A schedule that cannot be computed; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Schedule:
    cron: str | None = None
    rrule: str | None = None
    at: datetime | None = None
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        given = [name for name in ("cron", "rrule", "at") if getattr(self, name)]
        if len(given) != 1:
            raise ScheduleError("schedule", "give exactly one of cron, rrule or at")
        zone(self.timezone)
        if self.cron is not None and not croniter.is_valid(_croniter_form(self.cron)):
            raise ScheduleError("cron", f"{self.cron!r} is not a cron expression: five fields (minute hour "
                                        "day-of-month month day-of-week), six with seconds first, or @hourly/"
                                        "@daily/@weekly/@monthly/@yearly")
        if self.cron is not None:
            try:
                croniter(_croniter_form(self.cron), datetime(2000, 1, 1)).get_next(datetime)
            except CroniterBadDateError:
                raise ScheduleError("cron", f"{self.cron!r} never fires (no such date)") from None
        if self.rrule is not None:
            try:
                rule = _rule(self.rrule, datetime(2000, 1, 1))
            except (ValueError, TypeError) as exc:
                raise ScheduleError("rrule", f"not an RFC 5545 RRULE: {exc}") from exc
            _check_bounded(rule)
        if self.at is not None and self.at.tzinfo is None:
            object.__setattr__(self, "at", self.at.replace(tzinfo=zone(self.timezone)))

    def next_after(self, after: datetime) -> datetime | None:
        """The first fire strictly after ``after`` (aware), in UTC; None when there is none."""
        return next(self.fires_after(after), None)

    def fires_after(self, after: datetime) -> Iterator[datetime]:
        """Fires strictly after ``after``, in order, in UTC."""
        after = after.astimezone(UTC)
        if self.at is not None:
            at = self.at.astimezone(UTC)
            if at > after:
                yield at
            return
        tz = zone(self.timezone)
        # Start a little before, on the wall clock, so a fire inside a repeated hour is not skipped.
        local = after.astimezone(tz).replace(tzinfo=None) - timedelta(hours=2)
        last: datetime | None = None
        for wall in self._walls(local):
            instant = _place(wall, tz)
            if instant <= after or (last is not None and instant <= last):
                continue
            last = instant
            yield instant

    def _walls(self, start: datetime) -> Iterator[datetime]:
        if self.cron is not None:
            it = croniter(_croniter_form(self.cron), start)
            while True:
                yield it.get_next(datetime)
        else:
            rule = _rule(str(self.rrule), start)
            yield from rule.xafter(start, inc=False)  # type: ignore[attr-defined]

    def upcoming(self, after: datetime, n: int) -> list[datetime]:
        out: list[datetime] = []
        for instant in self.fires_after(after):
            out.append(instant)
            if len(out) >= n:
                break
        return out


_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def _croniter_form(expr: str) -> str:
    """CKP's six-field form puts seconds first (as the compiler reads it); croniter wants them last."""
    text = expr.strip()
    if text.lower() in _MACROS:
        return text.lower()
    parts = text.split()
    if len(parts) == 6:
        return " ".join([*parts[1:], parts[0]])
    return text if len(parts) == 5 else "invalid"


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError("timezone", f"{name!r} is not an IANA timezone (Europe/Berlin, America/New_York…)") \
            from exc


def _rule(text: str, dtstart: datetime) -> object:
    body = text.strip()
    if not body.upper().startswith(("RRULE:", "DTSTART")):
        body = "RRULE:" + body
    if "DTSTART" in body.upper():
        raise ValueError("give the rule without DTSTART (the schedule starts from its registration)")
    return rrulestr(body, dtstart=dtstart)


def _check_bounded(rule: object) -> None:
    """Refuse rules whose next occurrence dateutil would search for without end (it looks
    at every interval up to the year 9999 before giving up)."""
    if int(getattr(rule, "_interval", 1)) < 1:
        raise ScheduleError("rrule", "INTERVAL must be 1 or more")
    if getattr(rule, "_bysetpos", None) and int(getattr(rule, "_freq", DAILY)) > DAILY:
        raise ScheduleError("rrule", "BYSETPOS needs FREQ=DAILY or coarser")


def _place(wall: datetime, tz: ZoneInfo) -> datetime:
    """A local wall-clock time on the time line. ``fold=0`` takes the offset in force before
    a transition: the first of a repeated time, and for a time in a gap the instant the gap
    pushes it to (02:30 on the spring-forward day is 03:30 summer time)."""
    return wall.replace(tzinfo=tz, fold=0).astimezone(UTC)


@dataclass(frozen=True)
class Due:
    fires: tuple[datetime, ...]
    """Scheduled instants to fire now (each becomes a run, unless the overlap policy says no)."""
    missed: tuple[datetime, ...]
    """Instants skipped: later than the misfire grace, or folded into a coalesced fire."""
    next_fire_at: datetime | None


def due(schedule: Schedule, next_fire_at: datetime | None, now: datetime, *, grace_s: float,
        coalesce: bool) -> Due:
    """What to fire at ``now`` for a schedule whose stored next fire is ``next_fire_at``.

    Every instant from ``next_fire_at`` up to ``now`` is due. With ``coalesce`` they fire
    once, for the latest of them (however long the server was down); without, each one
    within ``grace_s`` of ``now`` fires and older ones are skipped as misfires.
    """
    now = now.astimezone(UTC)
    if next_fire_at is None or next_fire_at > now:
        return Due((), (), next_fire_at)
    pending = [next_fire_at]
    following: datetime | None = None
    for instant in schedule.fires_after(next_fire_at):
        if instant > now:
            following = instant
            break
        pending.append(instant)
        if len(pending) >= MAX_CATCH_UP:
            following = schedule.next_after(now)
            break
    if coalesce:
        return Due((pending[-1],), tuple(pending[:-1]), following)
    horizon = now - timedelta(seconds=grace_s)
    fires = tuple(i for i in pending if i >= horizon)
    return Due(fires, tuple(i for i in pending if i < horizon), following)


def describe(schedule: Schedule) -> str:
    """A sentence a person can check the schedule against."""
    where = f" ({schedule.timezone})"
    if schedule.at is not None:
        return f"once, at {schedule.at.isoformat()}"
    if schedule.rrule is not None:
        return f"by the rule {schedule.rrule}{where}"
    parts = str(schedule.cron).split()
    if len(parts) != 5:
        return f"cron '{schedule.cron}'{where}"
    minute, hour, dom, month, dow = parts
    return _cron_words(minute, hour, dom, month, dow) + where


_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _cron_words(minute: str, hour: str, dom: str, month: str, dow: str) -> str:
    if (minute, hour, dom, month, dow) == ("*", "*", "*", "*", "*"):
        return "every minute"
    if minute.startswith("*/") and (hour, dom, month, dow) == ("*", "*", "*", "*"):
        return f"every {minute[2:]} minutes"
    if minute.isdigit() and hour == "*" and (dom, month, dow) == ("*", "*", "*"):
        return f"every hour at minute {int(minute)}"
    if minute.isdigit() and hour.isdigit():
        at = f"at {int(hour):02d}:{int(minute):02d}"
        if (dom, month, dow) == ("*", "*", "*"):
            return f"every day {at}"
        if dom == "*" and month == "*" and dow.isdigit():
            return f"every {_DAYS[int(dow)]} {at}"
        if dom == "*" and month == "*" and dow in ("1-5", "MON-FRI", "mon-fri"):
            return f"every weekday {at}"
        if dom.isdigit() and month == "*" and dow == "*":
            return f"on day {int(dom)} of every month {at}"
    return f"cron '{minute} {hour} {dom} {month} {dow}'"
