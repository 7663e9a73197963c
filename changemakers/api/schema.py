"""The OpenAPI 3 schema drf-spectacular writes, with what every operation may answer besides
its success: the problem details of its errors (and a 304 for a GET sent If-None-Match), so a
client, and the schema checks in CI, know every answer's shape."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

PROBLEM = "application/problem+json"


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem detail."""

    type = serializers.CharField(help_text="A URI naming the kind of problem.")
    title = serializers.CharField(help_text="The kind of problem, in words.")
    status = serializers.IntegerField(help_text="The HTTP status.")
    detail = serializers.CharField(help_text="What went wrong with this request.")
    instance = serializers.CharField(help_text="The path that was asked.")
    code = serializers.CharField(
        required=False, help_text="The program's reasons for a 409, comma-separated."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For a 400: the messages by field (`non_field_errors`: the whole request).",
    )

    class Meta:
        ref_name = "Problem"


ERRORS = {
    "400": "The request's parameters or body are not valid (see `errors`).",
    "401": "No token, or one that is unknown or revoked.",
    "403": "The token's scope or its integration's roles do not allow this.",
    "404": "Nothing here with this identifier (or not for this token).",
    "406": "The API answers JSON only.",
    "409": "The program's rules refuse the change now (the separation of duties, a budget, a "
    "state).",
    "415": "Send JSON (`Content-Type: application/json`).",
    "429": "Too many requests with this token: wait `Retry-After` seconds.",
}


class ApiSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400", "401", "403", "406", "429"]
        if "{" in self.path:
            codes.append("404")
        if self.method not in ("GET", "HEAD"):
            codes += ["404", "409", "415"]
        return sorted(set(codes))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        problem = self.resolve_serializer(ProblemSerializer, direction).ref
        for code in self._error_codes():
            responses.setdefault(
                code,
                {"content": {PROBLEM: {"schema": problem}}, "description": ERRORS[code]},
            )
        if self.method == "GET":
            responses.setdefault(
                "304",
                {"description": "Not modified: the ETag sent in If-None-Match still holds."},
            )
        return responses
