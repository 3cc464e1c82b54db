"""Check-in at the door: idempotent taps, personal codes, two phones at once, the emails, a phone.

Each tap posts the state it wants (``checked_in`` 1 or 0), so the same tap
twice, or from two phones, leaves one row; only someone going can be let in.
"""

from __future__ import annotations

import asyncio
import re
from email import message_from_bytes, policy

import icalendar
import pytest
import requests
from django.core import mail
from django.urls import reverse
from playwright.async_api import expect

from events import services
from events.models import CheckIn
from events.services import check_ins
from tests.browser import SCREENSHOTS, chromium, new_context
from tests.helpers import (
    csrf_token,
    fire_together,
    logged_in,
    make_event,
    make_organiser,
    make_users,
    session_cookie,
)
from tests.pages.test_csp import assert_obeys_policy

JSON = {"HTTP_ACCEPT": "application/json"}


def door_url(event) -> str:
    return reverse("admin:events_event_check_in", args=[event.pk])


def rows_of(event) -> list[int]:
    return sorted(CheckIn.objects.filter(event=event).values_list("user_id", flat=True))


@pytest.fixture
def door():
    """Alice's event with two people going and one who is not."""
    alice = make_organiser("door-alice")
    event = make_event(alice, 5, title="Doors open")
    going_1, going_2, outsider = make_users(3, prefix="door")
    for user in (going_1, going_2):
        services.rsvp(event_id=event.pk, user_id=user.pk)
    return alice, event, going_1, going_2, outsider


@pytest.mark.django_db
def test_checking_in_twice_makes_one_row_undo_none_and_outsiders_are_refused(door):
    alice, event, going_1, _, outsider = door
    phone = logged_in(alice)
    tap = {"user_id": going_1.pk, "checked_in": "1"}

    first = phone.post(door_url(event), tap)
    second = phone.post(door_url(event), tap, **JSON)

    assert first.status_code == 302 and first.url == door_url(event)
    assert second.status_code == 200
    counts = {"checked_in": 1, "going": 2, "seats_checked_in": 1, "seats": 2}
    assert second.json()["counts"] == counts
    assert rows_of(event) == [going_1.pk]
    page = phone.get(door_url(event))
    assert_obeys_policy(page)  # its <style> carries the nonce; the script is a static file
    assert re.search(r'id="checked-count">1<.*id="going-count">2<', page.text, re.S)
    for _ in range(2):  # undo, twice: still nobody, no error
        assert phone.post(door_url(event), {**tap, "checked_in": "0"}).status_code == 302
    assert rows_of(event) == []

    refused = phone.post(door_url(event), {"user_id": outsider.pk, "checked_in": "1"}, follow=True)
    as_json = phone.post(door_url(event), {"user_id": outsider.pk, "checked_in": "1"}, **JSON)

    assert refused.status_code == 200
    # The admin's messages start with a capital: "Door2 is not going ..."
    assert f"{outsider.username} is not going to this event" in refused.text.lower()
    assert as_json.status_code == 422 and as_json.json()["ok"] is False
    assert phone.post(door_url(event), {"user_id": "x", "checked_in": "1"}).status_code == 302
    assert rows_of(event) == []


@pytest.mark.django_db
def test_another_organisers_event_is_not_found(door):
    _, event, going_1, _, _ = door
    bob = logged_in(make_organiser("door-bob"))

    assert bob.get(door_url(event)).status_code == 404
    assert bob.post(door_url(event), {"user_id": going_1.pk, "checked_in": "1"}).status_code == 404
    assert rows_of(event) == []


@pytest.mark.django_db
def test_a_typed_code_checks_in_its_owner_and_forged_codes_are_refused(door):
    alice, event, going_1, going_2, _ = door
    phone = logged_in(alice)
    code = check_ins.code_for(event.pk, going_1.pk)
    user_id, tail = code.split("-")
    typed = f"  {user_id} - {tail[:4].lower()} {tail[4:].lower()} "
    wrong = "".join("A" if c != "A" else "B" for c in tail)  # every character differs
    other_event = make_event(alice, 5, title="Elsewhere")

    answer = phone.post(door_url(event), {"code": typed}, **JSON)
    forged = phone.post(door_url(event), {"code": f"{going_2.pk}-{wrong}"}, **JSON)
    elsewhere = check_ins.code_for(other_event.pk, going_2.pk)  # genuine, for another event
    misplaced = phone.post(door_url(event), {"code": elsewhere}, follow=True)

    assert re.fullmatch(r"\d+-[A-Z2-7]{8}", code)
    assert answer.status_code == 200 and answer.json()["user_id"] == going_1.pk
    assert forged.status_code == 422
    assert forged.json()["message"] == "That code is not valid for this event."
    assert "That code is not valid for this event." in misplaced.text
    assert rows_of(event) == [going_1.pk]


def _parts(message) -> dict[str, list]:
    parsed = message_from_bytes(message.message().as_bytes(), policy=policy.default)
    found: dict[str, list] = {}
    for part in parsed.walk():
        found.setdefault(part.get_content_type(), []).append(part)
    return found


@pytest.mark.django_db
def test_the_confirmation_carries_the_code_in_text_ics_and_an_inline_qr_image(door):
    _, event, _, _, outsider = door
    mail.outbox.clear()

    services.rsvp(event_id=event.pk, user_id=outsider.pk)

    (sent,) = [m for m in mail.outbox if m.to == [outsider.email]]
    code = check_ins.code_for(event.pk, outsider.pk)
    parts = _parts(sent)
    assert f"Your check-in code: {code}" in parts["text/plain"][0].get_content()
    ics = icalendar.Calendar.from_ical(parts["text/calendar"][0].get_content())
    (vevent,) = ics.walk("VEVENT")
    assert f"Check-in code: {code}" in str(vevent["DESCRIPTION"])
    (image,) = parts["image/png"]
    assert image.get_content().startswith(b"\x89PNG")
    assert image.get_content_disposition() == "inline"
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in parts["text/html"][0].get_content()
    (related,) = parts["multipart/related"]  # the image beside the HTML that shows it
    assert {p.get_content_type() for p in related.iter_parts()} == {"text/html", "image/png"}


@pytest.mark.django_db
def test_the_qr_image_is_built_once_per_person_and_event(door):
    """A second seat email to the same person for the same event reuses the image."""
    _, event, going, _, outsider = door
    check_ins.qr_png.cache_clear()
    mail.outbox.clear()

    services.rsvp(event_id=event.pk, user_id=outsider.pk)
    services.cancel_rsvp(event_id=event.pk, user_id=outsider.pk)
    services.rsvp(event_id=event.pk, user_id=outsider.pk)  # going again: a new confirmation
    services.cancel_rsvp(event_id=event.pk, user_id=going.pk)
    services.rsvp(event_id=event.pk, user_id=going.pk)  # another person: an image of their own

    confirmations = [m for m in mail.outbox if m.subject.startswith("[Eventsite] You're going")]
    images = [_parts(m)["image/png"][0].get_content() for m in confirmations]
    assert [m.to for m in confirmations] == [[outsider.email]] * 2 + [[going.email]]
    assert images[0] == images[1] != images[2]
    built = check_ins.qr_png.cache_info()
    assert (built.misses, built.hits) == (2, 1), "built once for each of the two people"


@pytest.mark.django_db
def test_my_rsvps_shows_the_code_and_its_qr(door):
    _, event, going_1, _, _ = door

    page = logged_in(going_1).get(reverse("events:my_rsvps"))

    code = check_ins.code_for(event.pk, going_1.pk)
    assert page.status_code == 200
    assert_obeys_policy(page)  # segno's SVG has no style attribute
    assert re.search(rf'<details class="check-in">.*{code}.*<svg[^>]*class="qr"', page.text, re.S)


# --- Over HTTP, against the live site -------------------------------------------------


class Phone:
    """An organiser's phone with the check-in page open: its session, cookies and CSRF token."""

    def __init__(self, site_url: str, event_id: int, cookies: dict[str, str]) -> None:
        self.url = f"{site_url}{reverse('admin:events_event_check_in', args=[event_id])}"
        with requests.Session() as http:
            http.cookies.update(cookies)
            page = http.get(self.url, timeout=30)
            page.raise_for_status()
            self.cookies = http.cookies.get_dict()
        self.token = csrf_token(page.text)

    def tap(self, user_id: int, *, json: bool):
        """A call ready to fire: check ``user_id`` in, on a connection of its own."""
        headers = {"Accept": "application/json"} if json else {}
        data = {"csrfmiddlewaretoken": self.token, "user_id": user_id, "checked_in": "1"}

        def call() -> int:
            with requests.Session() as http:
                http.cookies.update(self.cookies)
                answer = http.post(
                    self.url, data=data, headers=headers, allow_redirects=False, timeout=60
                )
                return answer.status_code

        return call


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_two_phones_checking_in_the_same_people_at_once_make_one_row_each(live_site):
    alice = make_organiser("door-race")
    event = make_event(alice, 30, title="Rush at the door")
    people = make_users(26, prefix="door-race")
    for user in people:
        services.rsvp(event_id=event.pk, user_id=user.pk)
    (outsider,) = make_users(1, prefix="door-race-out")
    hot = people[0]  # at the front of the queue, tapped again and again on both phones
    first = Phone(live_site.url, event.pk, session_cookie(alice))
    second = Phone(live_site.url, event.pk, session_cookie(alice))
    # 20 taps a phone: the hot person 5 times each, people 6 to 15 on both,
    # the rest on one; the first phone asks for JSON, the second posts the form.
    calls = [first.tap(u.pk, json=True) for u in [hot] * 5 + people[1:16]]
    calls += [second.tap(u.pk, json=False) for u in [hot] * 5 + people[6:20]]
    calls += [second.tap(outsider.pk, json=False)]

    statuses = fire_together(calls)

    assert statuses == [200] * 20 + [302] * 20  # a refusal is a message, not an error
    assert rows_of(event) == sorted(u.pk for u in people[:20])
    assert check_ins.counts(event.pk) == check_ins.Counts(20, 26, seats_checked_in=20, seats=26)


async def tap_on_a_phone(site_url: str, url: str, session: dict[str, str]) -> None:
    async with chromium() as browser:
        context = await new_context(
            browser,
            site_url,
            session,
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
        )
        page = await context.new_page()
        await page.goto(site_url + url)
        counts = page.locator(".door-counts")
        await expect(counts).to_have_text("0 checked in / 3 going")
        await page.locator("#q").fill("zed")
        people = page.locator("li.door-person")
        await expect(people.locator("visible=true")).to_have_count(1)
        await page.evaluate("window.notReloaded = true")
        await people.locator("visible=true").get_by_role("button").tap()
        await expect(counts).to_have_text("1 checked in / 3 going")
        await expect(page.locator("li.door-person.is-in")).to_contain_text("Zed")
        assert await page.evaluate("window.notReloaded"), "the tap must update, not reload"
        await page.locator("#q").fill("")  # the whole list again, for the screenshot
        await expect(people.locator("visible=true")).to_have_count(3)
        overflow = await page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, "nothing scrolls sideways on a phone"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / "check-in-phone.png", full_page=True)


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_phone_searches_taps_and_sees_the_count_change(live_site):
    alice = make_organiser("door-phone")
    event = make_event(alice, 5, title="Phone door")
    people = make_users(3, prefix="door-phone")
    for user, first_name in zip(people, ["Ann", "Bea", "Zed"], strict=True):
        user.first_name, user.last_name = first_name, "Visitor"
        user.save(update_fields=["first_name", "last_name"])
        services.rsvp(event_id=event.pk, user_id=user.pk)

    asyncio.run(tap_on_a_phone(live_site.url, door_url(event), session_cookie(alice)))

    assert rows_of(event) == [people[2].pk]
