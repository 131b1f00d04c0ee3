"""Studio's own pages for HTTP errors (400, 403, 404, 500, and a refused CSRF token).

A signed-in user sees the error inside the dashboard's shell, with the navigation, so that the
way on is one click away; anyone else sees the sign-in card's frame. Each page says what
happened and what to do about it. The 500 page must render when the rest of Studio cannot (the
database may be why the request failed), so it falls back to the card without any request
context, and last to a fixed document.
"""

import logging
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse

log = logging.getLogger(__name__)

SHELL = "dashboard/shell.html"
CARD = "registration/auth_card.html"
TEMPLATE = "errors/error.html"
# What a visitor reads when even the card cannot be rendered (no template, no settings).
LAST_RESORT = (
    "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
    "<title>Something went wrong · Studio</title></head><body>"
    "<h1>Something went wrong</h1><p>Studio failed to answer this request. Try again in a "
    "moment; if it keeps failing, tell your Studio administrator.</p>"
    "<p><a href='/'>Go to Home</a></p></body></html>"
)


@dataclass(frozen=True)
class ErrorPage:
    status: int
    title: str
    explanation: str
    advice: str
    # The page's main way on, besides Home: (label, URL name).
    action: tuple[str, str] | None = None


BAD_REQUEST = ErrorPage(
    400,
    "Studio could not read this request",
    "The request was malformed or incomplete, so Studio did not act on it.",
    "Go back, reload the page and try again.",
)
FORBIDDEN = ErrorPage(
    403,
    "You do not have access to this page",
    "Your account is not allowed to open this page or to do what it asked.",
    "If you need it for your work, ask your Studio administrator for access.",
)
CSRF_FAILED = ErrorPage(
    403,
    "This form has expired",
    "The form was sent without a valid security token: the page was open for a long time, "
    "you signed in or out in another tab, or the browser blocks Studio's cookies.",
    "Reload the page and send the form again. Nothing was changed.",
)
NOT_FOUND = ErrorPage(
    404,
    "Page not found",
    "There is no page at this address, or it is not yours to see.",
    "Check the address, or start again from Home.",
)
SPACE_NOT_FOUND = ErrorPage(
    404,
    "No running space here",
    "There is no running space at this address that you can open: it may have been stopped "
    "or deleted, or it belongs to someone else.",
    "Open Spaces, start the space you need, and open it from there.",
    action=("Open Spaces", "dashboard:spaces"),
)
SERVER_ERROR = ErrorPage(
    500,
    "Something went wrong",
    "Studio failed to answer this request. This is an error in Studio, not in what you did, "
    "and it has been logged.",
    "Try again in a moment. If it keeps failing, tell your Studio administrator what you "
    "were doing.",
)


def _signed_in(request: HttpRequest) -> bool:
    # No `user` when the request failed before the authentication middleware (a bad Host).
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _context(error: ErrorPage, frame: str) -> dict:
    context = {"error": error, "frame": frame, "home_url": reverse("dashboard:home")}
    if error.action is not None:
        label, url_name = error.action
        context |= {"action_label": label, "action_url": reverse(url_name)}
    return context


def error_response(request: HttpRequest, error: ErrorPage) -> HttpResponse:
    """`error` as a Studio page: in the shell for a signed-in user, in the card otherwise."""
    frame = SHELL if _signed_in(request) else CARD
    body = render_to_string(TEMPLATE, _context(error, frame), request=request)
    return HttpResponse(body, status=error.status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, FORBIDDEN)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The notebook proxy sends a browser's refused /jupyter/ navigation here (studio/web/proxy).
    space = request.path.startswith("/jupyter/")
    return error_response(request, SPACE_NOT_FOUND if space else NOT_FOUND)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(request, CSRF_FAILED)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page. Django calls it with no template context, after an exception that may
    have come from the database, the session or a template: each step down needs less."""
    try:
        return error_response(request, SERVER_ERROR)
    except Exception:
        log.exception("the 500 page could not be rendered with the request; using the card")
    try:
        body = render_to_string(TEMPLATE, _context(SERVER_ERROR, CARD))
    except Exception:
        log.exception("the 500 page could not be rendered at all; using the fixed page")
        body = LAST_RESORT
    return HttpResponse(body, status=500)
