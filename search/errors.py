"""Errors users can see. Each carries the HTTP status it maps to; the web layer turns any of them into
`{"ok": false, "error": message, "status": status}` and the CLI into a message and a non-zero exit."""


class SearchError(Exception):
    status = 400

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequest(SearchError):
    """A parameter that cannot be used as given."""


class QueryError(BadRequest):
    """A query string the parser cannot read; `position` is the 0-based character offset of the fault."""

    def __init__(self, message: str, position: int | None = None):
        if position is not None:
            message = f"{message} at {position}"
        super().__init__(message)
        self.position = position


class NotFound(SearchError):
    status = 404


class IndexLocked(SearchError):
    status = 409


class IndexUnavailable(SearchError):
    """No index at the configured place, or one this version cannot read."""

    status = 503
