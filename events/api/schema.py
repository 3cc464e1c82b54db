"""OpenAPI description of the API's Bearer tokens.

drf-spectacular would describe allauth's class as DRF's ``Token`` scheme (it
subclasses TokenAuthentication); the header really carries ``Bearer <JWT>``.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerJWTScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTAuthentication"
    name = "bearerAuth"
    priority = 1

    def get_security_definition(self, auto_schema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "An access token from `POST /_allauth/app/v1/auth/login` "
                "(`meta.access_token`) or `python manage.py make_loadtest_fixture`."
            ),
        }
