"""/api/triggers over SQLite and PostgreSQL: registrations made, read, changed and removed;
pause and resume; fire now (outcomes as data); the next fire times across a DST change;
fire history; webhook secrets shown once; roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.api.conftest import assert_error, create_procedure
from tests.api.run_support import doc, end
from tests.auth_support import bearer

pytestmark = pytest.mark.asyncio


def orders_doc(procedure_id: str = "orders", **root: Any) -> dict[str, Any]:
    return doc(procedure_id, {
        "take": {"type": "sequence", "next_node": "done",
                 "steps": [{"step_id": "note", "action": "log", "value": "order {{order_id}}"}]},
        "done": end(),
    }, variables={"order_id": {"type": "string", "required": True}}, **root)


async def make(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"procedure_id": "orders", "trigger_type": "scheduled", "cron": "*/5 * * * *", **fields}
    response = await client.post("/api/triggers", json=body)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


@pytest_asyncio.fixture
async def orders(client: httpx.AsyncClient) -> None:
    await create_procedure(client, orders_doc())


async def test_a_registration_is_created_read_listed_changed_and_deleted(client: httpx.AsyncClient,
                                                                         orders: None) -> None:
    made = await make(client, name="nightly", cron="30 2 * * *", timezone="Europe/Berlin")
    assert made["source"] == "api" and made["created_by"] == "tester" and made["enabled"] is True
    assert made["schedule_description"] == "every day at 02:30 (Europe/Berlin)"
    assert made["secret"] is None and made["webhook_url"] is None
    assert made["next_fire_at"] is not None
    assert (await client.get(f"/api/triggers/{made['id']}")).json()["name"] == "nightly"
    await make(client, trigger_type="webhook", cron=None)

    listed = await client.get("/api/triggers", params={"procedure_id": "orders", "trigger_type": "scheduled"})
    assert [t["id"] for t in listed.json()] == [made["id"]] and listed.headers["X-Total-Count"] == "1"
    assert (await client.get("/api/triggers", params={"limit": 1})).headers["X-Total-Count"] == "2"

    changed = await client.put(f"/api/triggers/{made['id']}", json={"name": "night run", "overlap": "skip",
                                                                    "max_concurrent": 2})
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert (after["name"], after["overlap"], after["max_concurrent"]) == ("night run", "skip", 2)
    assert after["cron"] == "30 2 * * *" and after["timezone"] == "Europe/Berlin"  # not sent: unchanged

    switched = (await client.put(f"/api/triggers/{made['id']}", json={"cron": None,
                                                                      "rrule": "FREQ=WEEKLY;BYDAY=MO"})).json()
    assert switched["cron"] is None and switched["schedule_description"].startswith("by the rule FREQ=WEEKLY")

    assert (await client.delete(f"/api/triggers/{made['id']}")).status_code == 204
    assert_error(await client.get(f"/api/triggers/{made['id']}"), 404, "not_found")
    assert (await client.get("/api/triggers")).headers["X-Total-Count"] == "1"


@pytest.mark.parametrize(("fields", "field"), [
    ({"cron": "61 * * * *"}, "cron"),
    ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "timezone"),
    ({"cron": None, "rrule": "FREQ=SOMETIMES"}, "rrule"),
    ({"cron": "0 0 31 2 *"}, "cron"),  # never fires
    ({"cron": None, "rrule": "FREQ=DAILY;INTERVAL=0"}, "rrule"),  # dateutil would search forever
    ({"cron": None, "rrule": "FREQ=HOURLY;BYSETPOS=2"}, "rrule"),
    ({"cron": "0 9 * * *", "rrule": "FREQ=DAILY"}, "schedule"),
    ({"procedure_id": "nope"}, "procedure_id"),
    ({"trigger_type": "webhook", "cron": None,
      "config": {"webhook_config": {"allowed_sources": ["10.0.0.0/8", "partner.example"]}}},
     "config.webhook_config.allowed_sources"),
    ({"trigger_type": "webhook", "cron": None, "config": {"webhook_config": ["x"]}}, "config.webhook_config"),
])
async def test_a_registration_that_does_not_check_out_is_422_naming_the_field(
        client: httpx.AsyncClient, orders: None, fields: dict[str, Any], field: str) -> None:
    body = {"procedure_id": "orders", "trigger_type": "scheduled", "cron": "*/5 * * * *", **fields}
    error = assert_error(await client.post("/api/triggers", json=body), 422)
    assert [d["field"] for d in error["details"]] == [field]
    assert (await client.get("/api/triggers")).json() == []


async def test_unknown_types_and_fields_are_refused(client: httpx.AsyncClient, orders: None) -> None:
    assert_error(await client.post("/api/triggers", json={"procedure_id": "orders", "trigger_type": "sms"}), 422)
    made = await make(client)
    assert_error(await client.put(f"/api/triggers/{made['id']}", json={"secret": "x"}), 422)
    assert_error(await client.put(f"/api/triggers/{made['id']}", json={"enabled": None}), 422)


async def test_a_webhook_secret_is_shown_once_and_never_read_back(client: httpx.AsyncClient, orders: None) -> None:
    made = await make(client, trigger_type="webhook", cron=None)
    secret = made["secret"]
    assert secret and secret.startswith("whsec_")
    assert made["webhook_url"] == "/api/triggers/webhook/orders" and made["has_secret"] is True
    for response in (await client.get(f"/api/triggers/{made['id']}"), await client.get("/api/triggers")):
        assert secret not in response.text and "whsec_" not in response.text

    rotated = await client.post(f"/api/triggers/{made['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    assert new["secret"] != secret and new["secret"].startswith("whsec_")
    until = datetime.fromisoformat(new["previous_valid_until"])
    assert timedelta(hours=23) < until - datetime.now(UTC) <= timedelta(hours=24)
    read = (await client.get(f"/api/triggers/{made['id']}")).text
    assert new["secret"] not in read and secret not in read and new["previous_valid_until"][:16] in read

    schedule = await make(client)
    error = assert_error(await client.post(f"/api/triggers/{schedule['id']}/rotate-secret"), 422)
    assert error["details"][0]["field"] == "trigger_type"


async def test_pause_stops_the_schedule_and_resume_continues_from_now(client: httpx.AsyncClient,
                                                                     orders: None) -> None:
    made = await make(client, cron="0 * * * *")
    paused = (await client.post(f"/api/triggers/{made['id']}/disable")).json()
    assert paused["enabled"] is False and paused["next_fire_at"] is None
    assert [t["id"] for t in (await client.get("/api/triggers", params={"enabled": False})).json()] == [made["id"]]
    assert (await client.get("/api/triggers", params={"enabled": True})).json() == []

    resumed = (await client.post(f"/api/triggers/{made['id']}/enable")).json()
    nxt = datetime.fromisoformat(resumed["next_fire_at"])
    assert resumed["enabled"] is True
    assert datetime.now(UTC) < nxt <= datetime.now(UTC) + timedelta(hours=1) and nxt.minute == 0


async def test_fire_now_starts_a_run_each_time_unless_an_idempotency_key_repeats(client: httpx.AsyncClient,
                                                                                orders: None) -> None:
    made = await make(client, trigger_type="webhook", cron=None)
    first = await client.post(f"/api/triggers/{made['id']}/fire", json={"order_id": "A-1"})
    assert first.status_code == 200, first.text
    fired = first.json()
    assert fired["outcome"] == "queued" and fired["created"] is True and fired["run_id"]
    run = (await client.get(f"/api/runs/{fired['run_id']}")).json()
    assert (run["trigger_type"], run["triggered_by"], run["input_vars"]) == ("webhook", "tester", {"order_id": "A-1"})
    events = (await client.get(f"/api/runs/{fired['run_id']}/events")).json()
    assert events[0]["event_type"] == "trigger_fired" and events[0]["payload"]["trigger_id"] == made["id"]

    again = (await client.post(f"/api/triggers/{made['id']}/fire", json={"order_id": "A-1"})).json()
    assert again["outcome"] == "queued" and again["run_id"] != fired["run_id"]  # a person pressing twice means it

    keyed = [(await client.post(f"/api/triggers/{made['id']}/fire", json={"order_id": "B"},
                                headers={"Idempotency-Key": "press-1"})).json() for _ in range(2)]
    assert [k["outcome"] for k in keyed] == ["queued", "deduplicated"] and keyed[0]["run_id"] == keyed[1]["run_id"]
    assert (await client.get("/api/runs", params={"procedure_id": "orders"})).headers["X-Total-Count"] == "3"


async def test_fire_now_answers_a_refusal_as_data_and_bad_inputs_as_422(client: httpx.AsyncClient,
                                                                        orders: None) -> None:
    made = await make(client, overlap="skip")
    assert (await client.post(f"/api/triggers/{made['id']}/fire", json={"order_id": "1"})).json()["outcome"] \
        == "queued"
    skipped = await client.post(f"/api/triggers/{made['id']}/fire", json={"order_id": "2"})
    assert skipped.status_code == 200
    assert skipped.json()["outcome"] == "skipped_overlap" and skipped.json()["run_id"] is None

    other = await make(client, max_concurrent=1)
    await client.post(f"/api/triggers/{other['id']}/fire", json={"order_id": "1"})
    refused = (await client.post(f"/api/triggers/{other['id']}/fire", json={"order_id": "2"})).json()
    assert refused["outcome"] == "refused_concurrency" and refused["created"] is False

    fresh = await make(client)
    error = assert_error(await client.post(f"/api/triggers/{fresh['id']}/fire", json={}), 422, "invalid_input")
    assert [d["field"] for d in error["details"]] == ["order_id"]
    failed = (await client.get(f"/api/triggers/{fresh['id']}/history")).json()
    assert [f["outcome"] for f in failed] == ["failed"]
    assert_error(await client.post("/api/triggers/nope/fire", json={}), 404)


async def test_next_fires_cross_the_dst_changes_once_each_in_utc_and_local_time(client: httpx.AsyncClient,
                                                                                orders: None) -> None:
    made = await make(client, cron="30 2 * * *", timezone="Europe/Berlin")
    spring = (await client.get(f"/api/triggers/{made['id']}/next-fires",
                               params={"n": 3, "after": "2026-03-28T12:00:00Z"})).json()
    assert spring["description"] == "every day at 02:30 (Europe/Berlin)" and spring["timezone"] == "Europe/Berlin"
    assert [f["utc"] for f in spring["fires"]] == ["2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z",
                                                   "2026-03-31T00:30:00Z"]
    assert [f["local"] for f in spring["fires"]] == ["2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00",
                                                     "2026-03-31T02:30:00+02:00"]
    autumn = (await client.get(f"/api/triggers/{made['id']}/next-fires",
                               params={"n": 2, "after": "2026-10-24T12:00:00Z"})).json()
    assert [f["local"] for f in autumn["fires"]] == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]

    default = (await client.get(f"/api/triggers/{made['id']}/next-fires")).json()
    assert len(default["fires"]) == 10
    assert datetime.fromisoformat(default["fires"][0]["utc"]) > datetime.now(UTC)

    hook = await make(client, trigger_type="webhook", cron=None)
    none = (await client.get(f"/api/triggers/{hook['id']}/next-fires")).json()
    assert none["fires"] == [] and none["description"] is None
    assert_error(await client.get(f"/api/triggers/{made['id']}/next-fires", params={"n": 0}), 422)
    assert_error(await client.get(f"/api/triggers/{made['id']}/next-fires",
                                  params={"after": "0001-01-01T00:00:00Z"}), 422)


async def test_history_lists_fires_newest_first_and_pages(client: httpx.AsyncClient, orders: None) -> None:
    made = await make(client, overlap="skip")
    outcomes = [(await client.post(f"/api/triggers/{made['id']}/fire", json={"order_id": str(i)})).json()["outcome"]
                for i in range(3)]
    assert outcomes == ["queued", "skipped_overlap", "skipped_overlap"]
    page = await client.get(f"/api/triggers/{made['id']}/history", params={"limit": 2})
    assert page.headers["X-Total-Count"] == "3"
    rows = page.json()
    assert [r["outcome"] for r in rows] == ["skipped_overlap", "skipped_overlap"] and rows[0]["id"] > rows[1]["id"]
    last = (await client.get(f"/api/triggers/{made['id']}/history", params={"limit": 2, "offset": 2})).json()
    assert [r["outcome"] for r in last] == ["queued"] and last[0]["run_id"]
    assert set(last[0]) == {"id", "trigger_id", "fired_at", "scheduled_for", "outcome", "run_id", "payload_hash",
                            "detail"}
    assert_error(await client.get("/api/triggers/nope/history"), 404)


async def test_a_viewer_reads_triggers_but_changes_nothing(client: httpx.AsyncClient, orders: None) -> None:
    made = await make(client)
    viewer = bearer("viewer", "vic")
    assert (await client.get("/api/triggers", headers=viewer)).status_code == 200
    assert (await client.get(f"/api/triggers/{made['id']}/next-fires", headers=viewer)).status_code == 200
    assert (await client.get(f"/api/triggers/{made['id']}/history", headers=viewer)).status_code == 200
    writes = [("POST", "/api/triggers", {"procedure_id": "orders", "trigger_type": "scheduled", "cron": "* * * * *"}),
              ("PUT", f"/api/triggers/{made['id']}", {"name": "x"}),
              ("DELETE", f"/api/triggers/{made['id']}", None),
              ("POST", f"/api/triggers/{made['id']}/enable", None),
              ("POST", f"/api/triggers/{made['id']}/disable", None),
              ("POST", f"/api/triggers/{made['id']}/fire", {}),
              ("POST", f"/api/triggers/{made['id']}/rotate-secret", None)]
    for method, path, body in writes:
        assert_error(await client.request(method, path, json=body, headers=viewer), 403)
    operator = bearer("operator", "opal")
    fired = await client.post(f"/api/triggers/{made['id']}/fire", json={"order_id": "9"}, headers=operator)
    assert fired.json()["outcome"] == "queued"
    assert (await client.get(f"/api/runs/{fired.json()['run_id']}")).json()["triggered_by"] == "opal"
    assert len((await client.get("/api/triggers")).json()) == 1


async def test_a_trigger_from_the_ckp_keeps_what_the_ckp_says(client: httpx.AsyncClient) -> None:
    await create_procedure(client, orders_doc("nightly", trigger={"type": "scheduled", "schedule": "0 3 * * *",
                                                                   "timezone": "Europe/Paris"}))
    [reg] = (await client.get("/api/triggers", params={"procedure_id": "nightly"})).json()
    assert reg["source"] == "ckp" and reg["cron"] == "0 3 * * *" and reg["created_by"] == "procedure"

    error = assert_error(await client.put(f"/api/triggers/{reg['id']}", json={"cron": "0 4 * * *"}), 409)
    assert error["details"]["fields"] == ["cron"]
    assert_error(await client.delete(f"/api/triggers/{reg['id']}"), 409)
    same = await client.put(f"/api/triggers/{reg['id']}", json={"cron": "0 3 * * *", "max_concurrent": 1,
                                                                "overlap": "skip"})
    assert same.status_code == 200 and same.json()["max_concurrent"] == 1
    assert (await client.post(f"/api/triggers/{reg['id']}/disable")).json()["enabled"] is False


async def test_an_unsaved_schedule_is_previewed_with_its_description_and_fire_times(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/triggers/preview", json={"cron": "30 2 * * *", "timezone": "Europe/Berlin",
                                                              "n": 3})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["description"] == "every day at 02:30 (Europe/Berlin)" and len(body["fires"]) == 3
    assert all(f["local"][11:16] in ("02:30", "03:30") for f in body["fires"])
    error = assert_error(await client.post("/api/triggers/preview", json={"cron": "61 * * * *"}), 422)
    assert error["details"][0]["field"] == "cron"
    assert_error(await client.post("/api/triggers/preview", json={"timezone": "Mars/Olympus", "cron": "* * * * *"}),
                 422)
    assert (await client.get("/api/audit", params={"action": "trigger.preview"})).json() == []
