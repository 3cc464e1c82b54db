"""Organisers manage events here; seats, the waiting list and removals go through services.

A superuser sees and edits every event. Anyone else (staff in the Organisers
group) sees and acts on only the events they organise: every admin view,
action and lookup starts from ``get_queryset`` and the object permissions.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import path
from django.utils import timezone

from events import exports, selectors, services, times
from events.admin.attendees import AttendeeAdmin
from events.admin.check_in import CheckInAdmin
from events.admin.copies import CopyAdmin
from events.admin.forms import NO_LEDGER_NOTICE, TIMED_FIELDS, EventAdminForm
from events.admin.mailings import MailingAdmin
from events.admin.requests import RequestAdmin
from events.admin.rush import RushAdmin
from events.models import Event


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


@admin.register(Event)
class EventAdmin(
    AttendeeAdmin, CheckInAdmin, MailingAdmin, CopyAdmin, RushAdmin, RequestAdmin, admin.ModelAdmin
):
    form = EventAdminForm
    list_display = [
        "title",
        "status",
        "starts",
        "venue",
        "organiser",
        "capacity",
        "seats_taken",
        "waiting",
        "requests",
    ]
    list_filter = [
        TimeFilter,
        "status",
        ("organiser", admin.RelatedOnlyFieldListFilter),
        "attendees_public",
    ]
    search_fields = ["title", "venue", "description", "organiser__username"]
    date_hierarchy = "starts_at"
    list_select_related = ["organiser"]
    readonly_fields = [
        "attendee_list",
        "waitlist_list",
        "reconfirmation",
        "rush_chart",
        "mailing_log",
        "request_summary",
        "draw_summary",
    ]
    actions = ["publish", "export_attendees"]
    fieldsets = [
        (None, {"fields": ["title", "status", "description", "venue", "online_url", "organiser"]}),
        ("When", {"fields": ["time_zone", "starts_at", "ends_at", "rsvp_deadline"]}),
        ("Seats", {"fields": ["capacity", "guests_allowed", "attendees_public", "attendee_list"]}),
        ("Waiting list", {"fields": ["waitlist", "waitlist_limit", "waitlist_list"]}),
        ("Approval", {"fields": ["requires_approval", "request_summary"]}),
        ("Draw for the rush", {"fields": ["draw_at", "draw_losers", "draw_summary"]}),
        (
            "Reminders and reconfirmation",
            {"fields": [*TIMED_FIELDS, "reconfirmation"]},
        ),
        ("The rush", {"fields": ["rush_chart"]}),
        ("Messages", {"fields": ["mailing_log"]}),
    ]

    def get_urls(self):
        export = self.admin_site.admin_view(self.export_view)
        return [
            path("<int:event_id>/export/", export, name="events_event_export"),
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
        if obj is None:  # nothing has happened to a new event yet
            fieldsets = [f for f in fieldsets if f[0] not in ("The rush", "Messages")]
        if obj is not None or request.user.is_superuser:
            return fieldsets
        # A new event is its creator's (save_model): there is nothing to choose.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "organiser"]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Event | None = None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None and not obj.is_draft:  # published stays so; cancelling is a page
            readonly.append("status")
        # Only a superuser hands an event to someone else; a readonly field is
        # left out of the form, so a posted organiser is ignored.
        return readonly if request.user.is_superuser else [*readonly, "organiser"]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "organiser":
            kwargs["queryset"] = selectors.organisers()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        initial = {"organiser": request.user.pk, "status": Event.Status.DRAFT}
        return {**initial, **super().get_changeform_initial_data(request)}

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
        rows = selectors.attendee_rows(event.pk, names=True) if event.pk else []
        context = {"event": event, "rows": rows, "seats_taken": sum(row.party for row in rows)}
        return render_to_string("admin/events/event/_attendee_list.html", context)

    @admin.display(description="reconfirmations")
    def reconfirmation(self, event: Event) -> str:
        return selectors.reconfirmation_summary(event) if event.pk else "-"

    @admin.display(description="the draw")
    def draw_summary(self, event: Event) -> str:
        """Entries before the draw; after it, its seed, which lets anyone redo it (the event
        page shows it too)."""
        if event.drawn_at is not None:
            drawn = times.moment(event.drawn_at, event.zone)
            return f"Drawn {drawn}. Seed (shown on the event page): {event.draw_seed}"
        seats = selectors.seats_of([event.pk]).get(event.pk) if event.pk and event.draw_at else None
        if seats is None:
            return "-"
        return f"{seats.entered} entered for {seats.capacity} seats so far."

    @admin.display(description="who is waiting")
    def waitlist_list(self, event: Event) -> str:
        rows = selectors.waitlist_rows(event.pk, names=True) if event.pk else []
        return render_to_string("admin/events/event/_waitlist.html", {"rows": rows})

    def render_change_form(self, request, context, *args, **kwargs):
        if getattr(context["adminform"].form, "ledger_missing", False):
            self.message_user(request, NO_LEDGER_NOTICE, messages.WARNING)
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request, obj: Event, form: EventAdminForm, change: bool) -> None:
        """Through the services: the row and its ledger write succeed or fail together."""
        if not change:
            if not request.user.is_superuser:
                obj.organiser = request.user
            capacity, limit = form.cleaned_data["capacity"], form.ledger_waitlist_limit
            services.save_new_event(event=obj, capacity=capacity, waitlist_limit=limit)
        elif form.ledger_missing:
            services.update_event(event=obj)
            self._reopen_ledger(request, obj, form)
        else:
            # A capacity the ledger refuses raises CapacityError: see changeform_view.
            services.update_event(event=obj, **form.seat_changes())

    def _reopen_ledger(self, request: HttpRequest, obj: Event, form: EventAdminForm) -> None:
        capacity = form.cleaned_data["capacity"]
        # Insert-only: if a ledger appeared since the page was opened, it keeps its seats.
        if services.reopen_ledger(
            event_id=obj.pk, capacity=capacity, waitlist_limit=form.ledger_waitlist_limit
        ):
            self.message_user(request, f"Ledger reopened: capacity {capacity}, nobody going yet.")
        else:
            self.message_user(request, "This event has a ledger by now.", messages.WARNING)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.CapacityError as exc:
            # Raised by save_model inside the admin's transaction, which rolled
            # back as the error left it: no row, no log entry, no ledger change.
            self.message_user(request, f"Nothing was saved: {exc}", messages.ERROR)
            return HttpResponseRedirect(request.path)

    @admin.action(description="Publish selected drafts")
    def publish(self, request, queryset: QuerySet[Event]) -> None:
        published = services.publish_events(event_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{published} published.")

    @admin.action(description="Export attendees and waiting lists (CSV)")
    def export_attendees(self, request, queryset: QuerySet[Event]):
        # The queryset went through get_queryset: an organiser's own events only.
        return exports.csv_response("attendees.csv", queryset.order_by("starts_at", "pk"))

    def export_view(self, request: HttpRequest, event_id: int):
        event = self.tool_event(request, event_id, change=False)  # someone else's event: 404
        return exports.csv_response(f"event-{event.pk}-attendees.csv", [event])

    def delete_model(self, request, obj: Event) -> None:
        services.delete_events(event_ids=[obj.pk], deleted_by=request.user)

    def delete_queryset(self, request, queryset: QuerySet[Event]) -> None:
        event_ids = list(queryset.values_list("pk", flat=True))
        services.delete_events(event_ids=event_ids, deleted_by=request.user)
