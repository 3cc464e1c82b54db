"""How a person is named and pictured: their name, else their username; stable initials."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from accounts import people
from tests.helpers import make_users

pytestmark = pytest.mark.django_db


def test_a_name_given_wins_over_the_username():
    alice, bob = make_users(2, prefix="qa_")
    alice.first_name, alice.last_name = "Alice", "Baker"
    assert (people.display_name(alice), people.initials(alice)) == ("Alice Baker", "AB")
    assert people.display_name(bob) == bob.username and people.initials(bob) == "Q1"
    assert people.display_name(None) == people.FORMER_MEMBER


def test_the_avatar_is_the_initials_in_a_colour_fixed_by_the_account():
    (alice,) = make_users(1, prefix="av")
    alice.first_name = "alice"
    html = Template("{% load people %}{{ u|person }} {% avatar u 's' %}").render(
        Context({"u": alice})
    )
    colour = people.avatar_colour(alice)
    assert f'class="avatar avatar-s avatar-{colour}" aria-hidden="true">A</span>' in html
    assert html.startswith("alice ")
    alice.first_name = "Someone Else"
    assert people.avatar_colour(alice) == colour, "a rename keeps the colour"
