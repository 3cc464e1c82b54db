"""Who is who: passwords, accounts (django-allauth) and the API's Bearer tokens."""

import os

from eventsite.env import VAR_DIR, env_bool, env_int, env_str, trusted_proxy_count

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# Accounts (django-allauth): log in with email or username and a password.
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# One account per email address, and sign-up never tells whether an address
# has one: signing up with a taken address answers exactly as with a new one
# ("we sent you a link"), and the mail to that address says it has an account
# (pages and the headless API alike). allauth can only do that when every new
# address is verified before its account is used (with optional verification
# it must refuse the taken address on the spot), so a password login waits
# for a confirmed address too: accounts made otherwise (createsuperuser) get
# the link mailed at their first login.
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
# Following the link in the browser that signed up logs the newcomer in.
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_GET = False
# The site's labels ("Username or email") and every sign-up error on the first try.
ACCOUNT_FORMS = {"login": "accounts.forms.LoginForm", "signup": "accounts.forms.SignupForm"}
# allauth's throttles: logins 30/m per client address, failed ones 10/m per
# address and 5 per 5 minutes per account, sign-ups 20/m per address, resets...
# A load test logs many users in from one address, so the stack ``make
# loadtest`` starts raises the first. The admin's login is allauth's too
# (eventsite/urls.py). An address over a limit gets templates/429.html.
ACCOUNT_RATE_LIMITS = {
    "login": env_str("LOGIN_RATE_LIMIT", "30/m/ip"),
    "signup": env_str("SIGNUP_RATE_LIMIT", "20/m/ip"),
}
# A field people never see (static/css/site.css hides it) and bots fill in:
# a sign-up with it filled is answered "we sent you a link", as any other,
# and no account is made (accounts/forms.py).
ACCOUNT_SIGNUP_FORM_HONEYPOT_FIELD = "website"
# The counts live in Django's default cache (settings/databases.py): Redis
# when CACHE_URL is set, so every worker and host counts together; otherwise
# each process counts alone, and N workers allow N times the limits.
# A client is known by its address: behind a load balancer that is the entry
# of X-Forwarded-For the balancer wrote, or every client would share the
# balancer's address and one could lock everyone out (eventsite/env.py).
ALLAUTH_TRUSTED_PROXY_COUNT = trusted_proxy_count()
# A request that went around a proxy (too few X-Forwarded-For entries) is a 400.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "events:list"
ACCOUNT_LOGOUT_REDIRECT_URL = "events:list"


def _jwt_private_key() -> str:
    """Use HEADLESS_JWT_PRIVATE_KEY (PEM), else an RSA key generated once into var/.

    Every worker and every manage.py command must sign and check tokens with
    the same key, so a generated key is published with a hard link: a second
    first start finds the finished file, never a half-written one. Production
    always sets the variable (settings/production.py): hosts share no var/.
    """
    if key := env_str("HEADLESS_JWT_PRIVATE_KEY"):
        return key.replace("\\n", "\n")  # PEMs often arrive on one line
    key_file = VAR_DIR / "jwt_private_key.pem"
    if not key_file.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = key_file.with_name(f"{key_file.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return key_file.read_text()


# API tokens: django-allauth's headless mode with the JWT strategy, so logins,
# refreshes and token checks are allauth's code. It adds allauth's JSON
# endpoints under /_allauth/app/v1/ (login, token refresh, logout, ...); the
# account pages keep working. Only the "app" client: browsers use the site's
# own pages and their session cookie.
HEADLESS_ONLY = False
HEADLESS_CLIENTS = ("app",)
# allauth's JWT strategy, refusing tokens without an expiry and ending a
# chain whose spent refresh token comes back (accounts/token_strategy.py).
HEADLESS_TOKEN_STRATEGY = "accounts.token_strategy.SiteJWTTokenStrategy"
HEADLESS_JWT_ALGORITHM = "RS256"
HEADLESS_JWT_PRIVATE_KEY = _jwt_private_key()
# At least an hour by default, so a load test's tokens outlive the test.
HEADLESS_JWT_ACCESS_TOKEN_EXPIRES_IN = env_int("API_ACCESS_TOKEN_SECONDS", 3600)
HEADLESS_JWT_REFRESH_TOKEN_EXPIRES_IN = env_int("API_REFRESH_TOKEN_SECONDS", 86400)
# Access tokens are checked by signature and expiry alone (allauth's default):
# no session lookup per API call. Logging out revokes the refresh token, and an
# access token then lives out its lifetime.
HEADLESS_JWT_STATEFUL_VALIDATION_ENABLED = env_bool("API_STATEFUL_TOKENS")
