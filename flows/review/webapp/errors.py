"""The errors a user can cause, each answered with a status and one sentence:
400 bad input, 403 wrong role (401 without a session), 404 not found or not yours, 409 conflict."""


class NotFound(LookupError):
    pass


class Forbidden(PermissionError):
    pass


class Conflict(RuntimeError):
    pass


class BadInput(ValueError):
    pass
