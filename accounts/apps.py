from importlib import import_module

from django.apps import AppConfig

# What django-allauth's JWT code reaches through its lazy-import proxies.
_ALLAUTH_CRYPTO_MODULES = (
    "cryptography.hazmat.backends",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.primitives.ciphers.algorithms",
    "cryptography.hazmat.primitives.ciphers.modes",
    "cryptography.hazmat.primitives.serialization",
    "cryptography.x509",
    "jwt.algorithms",
    "jwt.exceptions",
)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # django-allauth 65.21.1 reaches cryptography through a lazy proxy that
        # only stays lazy while none of cryptography.hazmat is loaded: once one
        # submodule is (loading the JWT key loads one), a lookup of another
        # ("...primitives.ciphers") hits the real package and fails, and no API
        # token can be issued. Loading them all up front makes every lookup work.
        for name in _ALLAUTH_CRYPTO_MODULES:
            import_module(name)
