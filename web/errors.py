"""One error shape: `{"ok": false, "error": message, "status": code}` under /api, a friendly Chinese page elsewhere.

`SearchError`s carry their status (400 bad parameter or query, 404, 409, 503); Werkzeug's HTTP exceptions (unknown
route, wrong method) are reworded; anything else is logged and answered with a bare 500 — no input should reach it.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from search.errors import SearchError
from search.query.request import shown

TITLES = {
    400: "请求有误",
    404: "找不到页面",
    405: "不支持的请求方法",
    409: "索引正忙",
    500: "服务器出错了",
    503: "索引暂不可用",
}
HINTS = {
    400: "请检查检索式或筛选条件后重试。",
    404: "链接可能已失效，或文章已不在索引中。",
    405: "请使用浏览器直接打开此页面。",
    409: "索引正在更新，请稍后再试。",
    500: "请稍后再试；若问题持续，请联系管理员。",
    503: "检索服务尚未建立索引，或索引无法读取。",
}


def wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def query_marker(q: str, position: int | None) -> dict | None:
    """The query split around the character a query error points at ("unbalanced quote at 3"), for the page to mark:
    {"before", "at", "after"}; `at` is "" when the fault is at the end. Positions count characters of the query as
    parsed (trimmed; full-width forms count one each, as typed)."""
    if position is None:
        return None
    text = (q or "").strip()
    position = max(0, min(position, len(text)))
    return {"before": text[:position], "at": text[position : position + 1], "after": text[position + 1 :]}


def error_response(message: str, status: int, headers: dict | None = None, position: int | None = None):
    if wants_json():
        response = jsonify({"ok": False, "error": message, "status": status})
    else:
        q = request.args.get("q", "") if request.args else ""
        response = current_app.make_response(
            render_template(
                "error.html",
                status=status,
                title=TITLES.get(status, "出错了"),
                message=message,
                hint=HINTS.get(status, ""),
                q=q,
                marker=query_marker(q, position),
            )
        )
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_message(exc: HTTPException) -> str:
    if exc.code == 404:
        return f"no such page: {shown(request.path)}"
    if exc.code == 405:
        allowed = getattr(exc, "valid_methods", None) or []
        return f"method {request.method} is not allowed on {shown(request.path)}" + (
            f" (allowed: {', '.join(sorted(allowed))})" if allowed else ""
        )
    return exc.description or exc.name


def register(app: Flask) -> None:
    @app.errorhandler(SearchError)
    def search_error(exc: SearchError):
        return error_response(exc.message, exc.status, position=getattr(exc, "position", None))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        headers = {}
        allowed = getattr(exc, "valid_methods", None)  # a MethodNotAllowed's
        if exc.code == 405 and allowed:
            headers["Allow"] = ", ".join(sorted(allowed))
        return error_response(_http_message(exc), exc.code or 500, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # A bug, not an input problem: log the traceback, show no internals.
        current_app.logger.exception("unexpected error on %s %s", request.method, request.full_path)
        return error_response("internal error: the request could not be completed", 500)
