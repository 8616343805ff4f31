"""Cron expression syntax check (five fields, or six with seconds, or an @macro).

Pure and small on purpose: the compiler may not import croniter; the scheduler
(which does) computes the fire times.
"""

from __future__ import annotations

_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_MONTHS = {m: i + 1 for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                           "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_Field = tuple[str, int, int, dict[str, int]]
_NO_NAMES: dict[str, int] = {}
_FIELDS: tuple[_Field, ...] = (("minute", 0, 59, _NO_NAMES), ("hour", 0, 23, _NO_NAMES),
                               ("day of month", 1, 31, _NO_NAMES), ("month", 1, 12, _MONTHS),
                               ("day of week", 0, 7, _DAYS))
_SECONDS: _Field = ("second", 0, 59, _NO_NAMES)


_RRULE_KEYS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY", "BYMONTHDAY",
               "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST"}
_FREQS = {"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"}


def rrule_problem(rule: str) -> str | None:
    """None when ``rule`` looks like an RFC 5545 RRULE (the scheduler checks the rest)."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts = dict(item.partition("=")[::2] for item in text.split(";") if item)
    unknown = sorted(k for k in parts if k.upper() not in _RRULE_KEYS)
    if unknown:
        return f"unknown part {unknown[0]!r} (DTSTART is not allowed: a schedule starts when it is registered)"
    freq = next((v for k, v in parts.items() if k.upper() == "FREQ"), None)
    if freq is None or freq.upper() not in _FREQS:
        return "FREQ must be one of " + ", ".join(sorted(_FREQS))
    return None


def cron_problem(expr: str) -> str | None:
    """None when ``expr`` is a valid cron expression, else what is wrong with it."""
    text = expr.strip()
    if text.lower() in _MACROS:
        return None
    parts = text.split()
    if len(parts) == 6:
        specs = (_SECONDS, *_FIELDS)
    elif len(parts) == 5:
        specs = _FIELDS
    else:
        return f"expected 5 fields (minute hour day month weekday), got {len(parts)}"
    for part, (name, low, high, names) in zip(parts, specs, strict=True):
        problem = _field_problem(part, low, high, names)
        if problem:
            return f"{name} field {part!r}: {problem}"
    return None


def _value(token: str, low: int, high: int, names: dict[str, int]) -> int | str:
    upper = token.upper()
    if upper in names:
        return names[upper]
    if not token.isdigit():
        return f"{token!r} is not a number"
    value = int(token)
    if not low <= value <= high:
        return f"{value} is outside {low}-{high}"
    return value


def _field_problem(field: str, low: int, high: int, names: dict[str, int]) -> str | None:
    for item in field.split(","):
        if not item:
            return "empty list item"
        base, _, step = item.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            return f"step {step!r} must be a positive number"
        if base in ("*", "?"):
            continue
        start, dash, end = base.partition("-")
        first = _value(start, low, high, names)
        if isinstance(first, str):
            return first
        if dash:
            last = _value(end, low, high, names)
            if isinstance(last, str):
                return last
            if last < first:
                return f"range {base!r} runs backwards"
    return None
