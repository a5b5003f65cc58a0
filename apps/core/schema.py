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


# Error statuses every operation may answer, in the shape of ``apps.core.exceptions``.
ERROR_STATUSES = {
    "400": "Invalid input (field messages under extra.fields, or a JSON parse error).",
    "401": "No API key, or an invalid, revoked or expired one.",
    "403": "The API key (or the signed-in user) lacks the scope this operation needs.",
    "404": "Not found.",
    "405": "Method not allowed.",
    "406": "The Accept header asks for a format the API cannot answer.",
    "413": "Request body over API_MAX_BODY_BYTES.",
    "415": "Unsupported Content-Type.",
    "409": "Conflicts with the current state (an existing object, a finished job, a concurrent change).",
    "429": "Too many requests; retry after extra.retry_after seconds (also the Retry-After header).",
    "503": "A dependency is unavailable (no model in production, the broker down); retry later.",
}
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error: a message, and details in extra.",
    "properties": {
        "message": {"type": "string"},
        "extra": {"type": "object", "additionalProperties": True},
    },
    "required": ["message", "extra"],
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: document the API's error answers on every operation.

    Statuses an operation already documents keep their description and gain the error body
    when they had none.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                response = responses.setdefault(status, {"description": description})
                response.setdefault("content", {"application/json": {"schema": ERROR_REF}})
            for status, response in responses.items():
                if status.startswith(("4", "5")) and not response.get("content"):
                    response["content"] = {"application/json": {"schema": ERROR_REF}}
    return result
