"""The proxy's refusals as Studio pages, for a browser that navigates to them.

JupyterLab's own requests (fetch/XHR, which ask for JSON or anything) and API clients keep the
short plain-text answer; a request whose Accept names text/html is a person at a browser, who
gets a page saying what happened and a way back to Studio. Pages are rendered only here, on
the error path: the proxied happy path never touches a template.

On a space's host the page is a standalone document: the host serves nothing but its space,
so the stylesheet and the links point at Studio's own origin.
"""

from collections.abc import Iterable
from urllib.parse import urljoin

from django.template.loader import render_to_string
from django.templatetags.static import static

from studio.web.proxy.http import Scope, Send, send_body, send_plain

TEMPLATE = "errors/space_host.html"


def wants_html(scope: Scope) -> bool:
    """Whether the client asked for an HTML document (a browser navigation)."""
    accept = b",".join(v for n, v in scope["headers"] if n.lower() == b"accept")
    return b"text/html" in accept.lower()


# (title, what happened, what to do) for each refusal a browser may navigate to. On a space's
# host a 403 is a refused handoff ticket: the one refusal of a GET there.
PAGES = {
    403: (
        "This link to the space cannot be used",
        "The link that opened the space has expired or was already used.",
        "Go back to Studio and open the space again from Spaces.",
    ),
    404: (
        "No running space here",
        "There is no running space at this address that you can open: it may have been "
        "stopped or deleted, or it belongs to someone else.",
        "Open Spaces in Studio, start the space you need, and open it from there.",
    ),
    502: (
        "The space is not answering",
        "Its notebook server may be starting or stopping.",
        "Reload this page in a moment. If it keeps failing, restart the space from Spaces in "
        "Studio.",
    ),
}


def render_page(status: int, studio_origin: str) -> bytes:
    title, explanation, advice = PAGES[status]
    return render_to_string(
        TEMPLATE,
        {
            "status": status,
            "title": title,
            "explanation": explanation,
            "advice": advice,
            "studio_url": studio_origin + "/",
            "spaces_url": studio_origin + "/spaces/",
            "stylesheet": urljoin(studio_origin + "/", static("studio/studio.css")),
            "logo": urljoin(studio_origin + "/", static("studio/logo.svg")),
        },
    ).encode()


async def send_error(
    scope: Scope,
    send: Send,
    status: int,
    text: str,
    studio_origin: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Answer `status` with `text`: as a Studio page (linking to `studio_origin`) for a browser
    navigation, as plain text to anything else."""
    if scope["method"] != "GET" or status not in PAGES or not wants_html(scope):
        await send_plain(send, status, text, headers)
        return
    body = render_page(status, studio_origin)
    await send_body(send, status, body, b"text/html; charset=utf-8", headers)
