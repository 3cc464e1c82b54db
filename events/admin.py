"""Organisers manage events here; capacity and attendees go through the ledger."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from events import ledger, services
from events.models import Event


class EventAdminForm(forms.ModelForm):
    capacity = forms.IntegerField(min_value=0, help_text="Seats available in total.")

    class Meta:
        model = Event
        fields = [
            "title",
            "description",
            "starts_at",
            "ends_at",
            "venue",
            "organiser",
            "attendees_public",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            seats = ledger.seats([self.instance.pk]).get(self.instance.pk)
            self.fields["capacity"].initial = seats.capacity if seats else 0

    def _post_clean(self) -> None:
        super()._post_clean()
        # The guarded write is the check: it runs last, once all else is valid,
        # so no one can take a seat between a check and the change.
        if self.instance.pk and not self.errors and "capacity" in self.changed_data:
            try:
                services.set_capacity(self.instance.pk, self.cleaned_data["capacity"])
            except services.CapacityError as exc:
                self.add_error("capacity", str(exc))


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
class EventAdmin(admin.ModelAdmin):
    form = EventAdminForm
    list_display = ["title", "starts_at", "venue", "organiser", "capacity", "seats_taken"]
    list_filter = [TimeFilter, ("organiser", admin.RelatedOnlyFieldListFilter), "attendees_public"]
    search_fields = ["title", "venue", "description", "organiser__username"]
    date_hierarchy = "starts_at"
    list_select_related = ["organiser"]
    readonly_fields = ["attendee_list"]
    fieldsets = [
        (None, {"fields": ["title", "description", "starts_at", "ends_at", "venue", "organiser"]}),
        ("Seats", {"fields": ["capacity", "attendees_public", "attendee_list"]}),
    ]

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {"organiser": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_changelist_instance(self, request: HttpRequest):
        changelist = super().get_changelist_instance(request)
        events = list(changelist.result_list)  # evaluated once, reused by the template
        seats = ledger.seats([e.pk for e in events])
        for event in events:
            event.ledger_seats = seats.get(event.pk)
        return changelist

    @admin.display(description="capacity")
    def capacity(self, event: Event) -> int | str:
        return event.ledger_seats.capacity if event.ledger_seats else "-"

    @admin.display(description="seats taken")
    def seats_taken(self, event: Event) -> int | str:
        return event.ledger_seats.taken if event.ledger_seats else "-"

    @admin.display(description="who is going")
    def attendee_list(self, event: Event) -> str:
        if not event.pk:
            return "Nobody yet."
        rows = services.attendee_rows(event.pk)
        if not rows:
            return "Nobody yet."
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    row.user.get_username() if row.user else f"deleted user #{row.user_id}",
                    row.user.email if row.user else "",
                    timezone.localtime(row.rsvp_at).strftime("%Y-%m-%d %H:%M:%S")
                    if row.rsvp_at
                    else "unknown",
                )
                for row in rows
            ),
        )
        return format_html(
            '<table class="attendees"><thead><tr><th>User</th><th>Email</th>'
            "<th>RSVP at</th></tr></thead><tbody>{}</tbody></table>"
            "<p>{} going.</p>",
            body,
            len(rows),
        )

    def save_model(self, request, obj: Event, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            services.open_ledger(obj, form.cleaned_data["capacity"])

    def delete_model(self, request, obj: Event) -> None:
        services.delete_events([obj.pk])

    def delete_queryset(self, request, queryset: QuerySet[Event]) -> None:
        services.delete_events(list(queryset.values_list("pk", flat=True)))
