"""An attendee's check-in code and its QR code on pages: ``{% load check_in %}``."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from events.models import Event
from events.services import check_ins

register = template.Library()


@register.simple_tag
def check_in_code(event: Event, user) -> str:
    """The code to type at the door, e.g. "42-AB3CD7EF"."""
    return check_ins.code_for(event.pk, user.pk)


@register.simple_tag
def check_in_qr(event: Event, user) -> SafeString:
    """The code as an inline SVG QR code (segno's markup, made from digits and letters only)."""
    return mark_safe(check_ins.qr_svg(check_ins.code_for(event.pk, user.pk)))
