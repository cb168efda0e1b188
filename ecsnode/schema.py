"""The task request body's JSON Schema (docs/ecs-api.md, draft-04) and one validator built once.

Building a jsonschema validator is far slower than using one, so the node builds it at import
and every POST /tasks reuses it.
"""

from __future__ import annotations

import jsonschema

_NON_EMPTY = {"type": "string", "minLength": 1}

TASK_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "properties": {
        "docker_image": {"type": "string", "pattern": "^(.+/)?.+:.+$"},
        "cmd": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        "creds": {
            "type": "object",
            "properties": {"email": _NON_EMPTY, "username": _NON_EMPTY, "password": _NON_EMPTY},
            "required": ["email", "username", "password"],
            "additionalProperties": False,
        },
    },
    "required": ["docker_image", "cmd"],
    "additionalProperties": False,
}

jsonschema.Draft4Validator.check_schema(TASK_SCHEMA)
_VALIDATOR = jsonschema.Draft4Validator(TASK_SCHEMA)


MESSAGE_CAP = 200
"""Characters of a problem's message kept: jsonschema quotes the bad value, which can be the
whole body (5 KiB) or a structure nested hundreds deep."""


def task_body_problem(body: object) -> str | None:
    """None when `body` is a valid task request, else one line saying what is wrong with it."""
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(body))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    if list(error.absolute_path) == ["docker_image"] and error.validator == "pattern":
        message = f"IMAGE_NAME_IS_INVALID: docker_image {error.instance!r} needs a tag (NAME:TAG)"
    else:
        message = f"{where}: {error.message}" if where else error.message
    return message if len(message) <= MESSAGE_CAP else message[: MESSAGE_CAP - 1] + "…"
