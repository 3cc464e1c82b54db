"""``{{ user|person }}`` names someone as people see them; ``{% avatar user %}`` pictures them."""

from __future__ import annotations

from django import template

from accounts import people

register = template.Library()


@register.filter
def person(user) -> str:
    return people.display_name(user)


@register.inclusion_tag("accounts/_avatar.html")
def avatar(user, size: str = "m") -> dict:
    """An initials avatar, coloured by the account; ``size`` is s, m or l (site.css)."""
    return {
        "initials": people.initials(user),
        "colour": people.avatar_colour(user),
        "size": size,
        "name": people.display_name(user),
    }
