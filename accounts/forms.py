"""allauth's login and sign-up forms, in the site's words and with every error at once."""

from __future__ import annotations

from allauth.account import app_settings
from allauth.account import forms as allauth_forms

PASSWORDS_DIFFER = "You must type the same password each time."


class LoginForm(allauth_forms.LoginForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = "Username or email"
        # The label says it; a placeholder repeating it only hides what was typed.
        login.widget.attrs.pop("placeholder", None)
        login.widget.attrs["autocomplete"] = "username"
        self.fields["password"].widget.attrs.pop("placeholder", None)


class SignupForm(allauth_forms.SignupForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "password2" in self.fields:
            self.fields["password2"].label = "Password again"
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)
        # allauth's honeypot (ACCOUNT_SIGNUP_FORM_HONEYPOT_FIELD; filled in, allauth
        # answers as if signed up and makes no account) hides itself with a style
        # attribute, which the site's Content-Security-Policy ignores: the field's
        # wrapper is hidden by site.css instead (templates/allauth/elements/_form_field.html).
        self.honeypot_name = app_settings.SIGNUP_FORM_HONEYPOT_FIELD
        if honeypot := self.fields.get(self.honeypot_name or ""):
            honeypot.label = "Leave this empty"
            honeypot.widget.attrs = {"tabindex": "-1", "autocomplete": "off"}

    def clean(self) -> dict:
        cleaned = super().clean()
        # allauth compares the two passwords only when the first also passed the
        # password validators, so "too short" and "different" took two tries to
        # learn. Compare what was typed, whatever else is wrong with it.
        typed = [self.data.get(self.add_prefix(name)) for name in ("password1", "password2")]
        differ = "password2" in self.fields and all(typed) and typed[0] != typed[1]
        if differ and PASSWORDS_DIFFER not in self.errors.get("password2", []):
            self.add_error("password2", PASSWORDS_DIFFER)
        return cleaned
