"""The trigger's schedule in the compiler: cron, RRULE or a one-off time, exactly one, each
checked with a diagnostic at its own path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ckp.builders import TERMINATE, compile_doc, doc, seq


def _diagnostics(trigger: dict[str, Any]) -> list[tuple[str, str]]:
    result = compile_doc(doc({"greet": seq(), "end": TERMINATE}, trigger=trigger))
    return [(d.code, d.path) for d in result.diagnostics if d.severity == "error"]


@pytest.mark.parametrize("trigger", [
    {"type": "scheduled", "schedule": "0 9 * * 1-5"},
    {"type": "scheduled", "rrule": "FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=9;BYMINUTE=0"},
    {"type": "scheduled", "rrule": "RRULE:FREQ=SECONDLY;INTERVAL=2"},
    {"type": "scheduled", "at": "2026-12-24T18:00:00+01:00", "timezone": "Europe/Berlin"},
])
def test_each_schedule_form_compiles(trigger: dict[str, Any]) -> None:
    assert _diagnostics(trigger) == []


@pytest.mark.parametrize(("trigger", "found"), [
    ({"type": "scheduled"}, ("CKP105", "/trigger/schedule")),
    ({"type": "scheduled", "rrule": "FREQ=SOMETIMES"}, ("CKP303", "/trigger/rrule")),
    ({"type": "scheduled", "rrule": "DTSTART=20260101;FREQ=DAILY"}, ("CKP303", "/trigger/rrule")),
    ({"type": "scheduled", "at": "next tuesday"}, ("CKP303", "/trigger/at")),
    ({"type": "scheduled", "schedule": "* * * * *", "rrule": "FREQ=DAILY"}, ("CKP303", "/trigger/rrule")),
])
def test_a_bad_schedule_is_an_error_at_its_path(trigger: dict[str, Any], found: tuple[str, str]) -> None:
    assert found in _diagnostics(trigger)
