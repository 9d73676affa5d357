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


class ShardingError(BadRequest):
    """A sharded index asked for in a way its layout cannot follow (HTTP 400 / CLI exit 1)."""


class Unavailable(SearchError):
    """The service cannot answer now; the request itself was fine (HTTP 503)."""

    status = 503


class IndexUnavailable(Unavailable):
    """No index at the configured place, or one this version cannot read."""


class SearchTimeout(Unavailable):
    """A search that ran past its time budget: stopped, so it cannot hold a server worker."""


class ClusterUnavailable(Unavailable):
    """Ray is missing, the cluster cannot be reached or cannot place the shards, or no shard answered at all."""


class ShardUnavailable(Unavailable):
    """A shard none of whose replicas answered (indexing cannot go on without it); `down` says which and why."""

    def __init__(self, down):
        super().__init__(f"shard {down.shard} is unavailable ({down.reason})")
        self.down = down


class StaleSnapshot(Unavailable):
    """A fetch for a snapshot (or a query's matches) a shard no longer keeps: the coordinator asks again."""
