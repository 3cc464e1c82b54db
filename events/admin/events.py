"""Organisers manage events here; seats, the waiting list and removals go through services.

A superuser sees and edits every event. Anyone else (staff in the Organisers
group) sees and acts on only the events they organise: every admin view,
action and lookup starts from ``get_queryset`` and the object permissions.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from events import exports, selectors, services, times
from events.admin.checkin import CheckInAdmin
from events.admin.copies import CopyAdmin
from events.admin.mailings import MailingAdmin
from events.admin.rush import RushAdmin
from events.forms import EventTimesForm
from events.ledger import Outcome
from events.models import Event

NO_LEDGER_NOTICE = (
    "This event has no ledger document, so nobody can RSVP to it. Enter a capacity and "
    "save to open an empty one."
)
DAMAGED_HELP = (
    "This event's ledger document is damaged, so its seats cannot be changed here: "
    "run manage.py check_ledger."
)


def _limit(enabled: bool, limit: int | None) -> int | None:
    """The ledger's one number for the form's two fields: 0 off, None no cap."""
    return limit if enabled else 0


class EventAdminForm(EventTimesForm):
    capacity = forms.IntegerField(min_value=0, help_text="Seats available in total.")
    waitlist = forms.BooleanField(
        label="waiting list",
        required=False,
        initial=True,
        help_text="When the event is full, people can join a waiting list; a freed seat "
        "goes to the first in line at once, and they are emailed.",
    )
    waitlist_limit = forms.IntegerField(
        label="waiting list limit",
        min_value=1,
        required=False,
        help_text="At most this many people waiting; empty for no limit.",
    )

    class Meta:
        model = Event
        fields = [
            "title",
            "description",
            "time_zone",
            "starts_at",
            "ends_at",
            "rsvp_deadline",
            "venue",
            "online_url",
            "organiser",
            "attendees_public",
        ]
        help_texts = {
            "starts_at": "In the event's time zone.",
            "ends_at": "Optional, in the event's time zone.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ledger_missing = False
        if self.instance.pk:
            seats = selectors.seats_of([self.instance.pk]).get(self.instance.pk)
            if seats is None:
                self._without_seats()
            seats = seats or selectors.NO_LEDGER
            self.fields["capacity"].initial = None if self.ledger_missing else seats.capacity
            self.fields["waitlist"].initial = seats.waitlist_limit != 0
            self.fields["waitlist_limit"].initial = seats.waitlist_limit or None
        organiser = self.fields.get("organiser")
        if organiser is not None and self.instance.organiser_id:
            # The present organiser stays a valid choice even if they have left
            # the group since: saving the event must not fail on them.
            organiser.queryset = selectors.organisers(also=self.instance.organiser_id)

    def _without_seats(self) -> None:
        """No readable ledger: missing (a saved capacity reopens it) or damaged (hands off)."""
        if selectors.has_ledger(self.instance.pk):
            for name in ("capacity", "waitlist", "waitlist_limit"):
                self.fields[name].disabled = True
            self.fields["capacity"].help_text = DAMAGED_HELP
        else:
            self.ledger_missing = True
            self.fields["capacity"].help_text = NO_LEDGER_NOTICE

    @property
    def ledger_waitlist_limit(self) -> int | None:
        return _limit(self.cleaned_data["waitlist"], self.cleaned_data.get("waitlist_limit"))

    def _post_clean(self) -> None:
        super()._post_clean()
        # The guarded write is the check: it runs last, once all else is valid,
        # so no one can take a seat between a check and the change.
        if not self.instance.pk or self.errors:
            return
        if self.ledger_missing:
            self._reopen()
            return
        if "capacity" in self.changed_data:
            try:
                services.set_capacity(
                    event_id=self.instance.pk, capacity=self.cleaned_data["capacity"]
                )
            except services.CapacityError as exc:
                self.add_error("capacity", str(exc))
                return
        if {"waitlist", "waitlist_limit"} & set(self.changed_data):
            services.set_waitlist_limit(event_id=self.instance.pk, limit=self.ledger_waitlist_limit)

    def _reopen(self) -> None:
        # Insert-only: if a ledger appeared since the page was opened, it keeps its seats.
        if not services.reopen_ledger(
            event_id=self.instance.pk,
            capacity=self.cleaned_data["capacity"],
            waitlist_limit=self.ledger_waitlist_limit,
        ):
            self.add_error("capacity", "This event has a ledger by now: reload the page.")


class TimeFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [("upcoming", "Upcoming"), ("past", "Past")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gte=now)
        if self.value() == "past":
            return queryset.filter(starts_at__lt=now)
        return queryset


def _username(row: selectors.AttendeeRow) -> str:
    return row.user.get_username() if row.user else f"deleted user #{row.user_id}"


@admin.register(Event)
class EventAdmin(CheckInAdmin, MailingAdmin, CopyAdmin, RushAdmin, admin.ModelAdmin):
    form = EventAdminForm
    list_display = [
        "title",
        "starts",
        "venue",
        "organiser",
        "capacity",
        "seats_taken",
        "waiting",
    ]
    list_filter = [TimeFilter, ("organiser", admin.RelatedOnlyFieldListFilter), "attendees_public"]
    search_fields = ["title", "venue", "description", "organiser__username"]
    date_hierarchy = "starts_at"
    list_select_related = ["organiser"]
    readonly_fields = ["attendee_list", "waitlist_list", "rush_chart", "mailing_log"]
    actions = ["export_attendees"]
    fieldsets = [
        (None, {"fields": ["title", "description", "venue", "online_url", "organiser"]}),
        ("When", {"fields": ["time_zone", "starts_at", "ends_at", "rsvp_deadline"]}),
        ("Seats", {"fields": ["capacity", "attendees_public", "attendee_list"]}),
        ("Waiting list", {"fields": ["waitlist", "waitlist_limit", "waitlist_list"]}),
        ("The rush", {"fields": ["rush_chart"]}),
        ("Messages", {"fields": ["mailing_log"]}),
    ]

    def get_urls(self):
        remove = self.admin_site.admin_view(self.remove_attendee_view)
        export = self.admin_site.admin_view(self.export_view)
        return [
            path("<int:event_id>/export/", export, name="events_event_export"),
            path(
                "<int:event_id>/attendees/<int:user_id>/remove/",
                remove,
                name="events_event_remove_attendee",
            ),
            *super().get_urls(),
        ]

    # --- Organisers kept apart ---------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        """The changelist, change and delete pages, actions and lookups all start here."""
        events = super().get_queryset(request)
        return events if request.user.is_superuser else events.filter(organiser=request.user)

    def _may_touch(self, request: HttpRequest, obj: Event | None) -> bool:
        # Checked again per object, so a view that fetched the event itself
        # (or a future one) cannot act on someone else's.
        return obj is None or request.user.is_superuser or obj.organiser_id == request.user.pk

    def has_view_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return super().has_view_permission(request, obj) and self._may_touch(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_touch(request, obj)

    def get_list_filter(self, request: HttpRequest):
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        return [f for f in filters if not (isinstance(f, tuple) and f[0] == "organiser")]

    def get_fieldsets(self, request: HttpRequest, obj: Event | None = None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None or request.user.is_superuser:
            return fieldsets
        # A new event is its creator's (save_model): there is nothing to choose.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "organiser"]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Event | None = None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Only a superuser hands an event to someone else; a readonly field is
        # left out of the form, so a posted organiser is ignored.
        return readonly if request.user.is_superuser else [*readonly, "organiser"]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "organiser":
            kwargs["queryset"] = selectors.organisers()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {"organiser": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        events = list(changelist.result_list)  # evaluated once, reused by the template
        seats = selectors.seats_of([e.pk for e in events])
        for event in events:
            event.ledger_seats = seats.get(event.pk)
        return changelist

    @admin.display(description="starts", ordering="starts_at")
    def starts(self, event: Event) -> str:
        return times.moment(event.starts_at, event.zone)

    @admin.display(description="capacity")
    def capacity(self, event: Event) -> int | str:
        return event.ledger_seats.capacity if event.ledger_seats else "-"

    @admin.display(description="seats taken")
    def seats_taken(self, event: Event) -> int | str:
        return event.ledger_seats.taken if event.ledger_seats else "-"

    @admin.display(description="waiting")
    def waiting(self, event: Event) -> int | str:
        return event.ledger_seats.waiting if event.ledger_seats else "-"

    @admin.display(description="who is going")
    def attendee_list(self, event: Event) -> str:
        rows = selectors.attendee_rows(event.pk) if event.pk else []
        if not rows:
            return "Nobody yet."
        body = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td>{}</td><td><a href="{}">Remove…</a></td></tr>',
            (
                (
                    _username(row),
                    row.user.email if row.user else "",
                    timezone.localtime(row.rsvp_at).strftime("%Y-%m-%d %H:%M:%S")
                    if row.rsvp_at
                    else "unknown",
                    reverse("admin:events_event_remove_attendee", args=[event.pk, row.user_id]),
                )
                for row in rows
            ),
        )
        return format_html(
            '<table class="attendees"><thead><tr><th>User</th><th>Email</th>'
            "<th>Seat since</th><th></th></tr></thead><tbody>{}</tbody></table>"
            '<p>{} going. <a href="{}">Export who is going and waiting (CSV)</a></p>',
            body,
            len(rows),
            reverse("admin:events_event_export", args=[event.pk]),
        )

    @admin.display(description="who is waiting")
    def waitlist_list(self, event: Event) -> str:
        rows = selectors.waitlist_rows(event.pk) if event.pk else []
        if not rows:
            return "Nobody is waiting."
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (position, _username(row), row.user.email if row.user else "")
                for position, row in enumerate(rows, start=1)
            ),
        )
        return format_html(
            '<table class="waitlist"><thead><tr><th>#</th><th>User</th><th>Email</th>'
            "</tr></thead><tbody>{}</tbody></table><p>{} waiting, first in line first.</p>",
            body,
            len(rows),
        )

    def remove_attendee_view(self, request: HttpRequest, event_id: int, user_id: int):
        """Confirm, then take the seat away; the first in line gets it in the same write."""
        event = self.get_object(request, event_id)  # someone else's event: 404, as Django does
        if event is None:
            raise Http404("No such event.")
        if not self.has_change_permission(request, event):
            raise PermissionDenied
        row = next((r for r in selectors.attendee_rows(event_id) if r.user_id == user_id), None)
        change_url = reverse("admin:events_event_change", args=[event_id])
        if request.method == "POST":
            result = services.remove_attendee(event_id=event_id, user_id=user_id)
            if result.outcome is Outcome.CANCELLED:
                promoted = " The first person waiting got the seat." if result.promoted else ""
                self.message_user(request, f"Removed from {event}.{promoted}", messages.SUCCESS)
            else:
                self.message_user(request, "That person was not going.", messages.WARNING)
            return HttpResponseRedirect(change_url)
        if row is None:
            raise Http404("That person is not going to this event.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "event": event,
            "row": row,
            "username": _username(row),
            "change_url": change_url,
            "title": "Remove an attendee",
        }
        return TemplateResponse(request, "admin/events/event/remove_attendee.html", context)

    def render_change_form(self, request, context, *args, **kwargs):
        if getattr(context["adminform"].form, "ledger_missing", False):
            self.message_user(request, NO_LEDGER_NOTICE, messages.WARNING)
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request, obj: Event, form, change: bool) -> None:
        if not change and not request.user.is_superuser:
            obj.organiser = request.user
        if not change:
            services.save_new_event(
                event=obj,
                capacity=form.cleaned_data["capacity"],
                waitlist_limit=form.ledger_waitlist_limit,
            )
            return
        super().save_model(request, obj, form, change)
        if form.ledger_missing:  # reopened by the form's clean (_reopen)
            capacity = form.cleaned_data["capacity"]
            self.message_user(request, f"Ledger reopened: capacity {capacity}, nobody going yet.")

    @admin.action(description="Export attendees and waiting lists (CSV)")
    def export_attendees(self, request, queryset: QuerySet[Event]):
        # The queryset went through get_queryset: an organiser's own events only.
        return exports.csv_response("attendees.csv", queryset.order_by("starts_at", "pk"))

    def export_view(self, request: HttpRequest, event_id: int):
        event = self.get_object(request, event_id)  # someone else's event: 404
        if event is None or not self.has_view_permission(request, event):
            raise Http404("No such event.")
        return exports.csv_response(f"event-{event.pk}-attendees.csv", [event])

    def delete_model(self, request, obj: Event) -> None:
        services.delete_events(event_ids=[obj.pk])

    def delete_queryset(self, request, queryset: QuerySet[Event]) -> None:
        services.delete_events(event_ids=list(queryset.values_list("pk", flat=True)))
