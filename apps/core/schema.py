"""OpenAPI description of our authentication (drf-spectacular extension; imported in CoreConfig.ready)."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "apps.core.auth.APIKeyAuthentication"
    name = "ApiKeyAuth"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Authorization: Api-Key <key>` (or the `X-Api-Key: <key>` header).",
        }
