"""What a space serves never runs with Studio's origin: every response but JupyterLab's own
page is sandboxed, whatever the server sent."""

import pytest

from studio.web.proxy.headers import FRAME_ANCESTORS, SANDBOX, confine

PREFIX = "/jupyter/d-abc/alice/"
SANDBOXED = FRAME_ANCESTORS + b"; " + SANDBOX


def policy(path: str) -> list[bytes]:
    return [v for n, v in confine(path.encode(), PREFIX) if n == b"content-security-policy"]


@pytest.mark.parametrize(
    "page",
    ["lab", "doc", "lab/tree/notebooks/a.ipynb", "lab/workspaces/auto-x", "doc/tree/evil.html"],
)
def test_jupyterlabs_application_page_is_not_sandboxed(page):
    assert policy(PREFIX + page) == []


@pytest.mark.parametrize(
    "path",
    [
        "files/evil.html",
        "files/drawing.svg",
        "view/evil.html",
        "nbconvert/html/evil.ipynb",
        "kernelspecs/python3/logo.html",
        "lab/extensions/evil/static/x.html",
        "lab/api/settings",
        "api/contents/evil.html",
        "lab/",
        "lab/tree%0aevil",
        "edit/evil.html",
        "tree/evil.html",
        "",
    ],
)
def test_everything_else_a_space_serves_is_sandboxed(path):
    assert policy(PREFIX + path) == [SANDBOXED]


def test_a_path_outside_the_prefix_as_sent_is_sandboxed():
    """The prefix is compared as the browser sent it: an encoded variant is not the page."""
    assert policy("/jupyter/d-abc/%61lice/lab") == [SANDBOXED]


def test_no_response_is_sniffed():
    assert (b"x-content-type-options", b"nosniff") in confine(b"/jupyter/d-abc/alice/lab", PREFIX)
    assert (b"x-content-type-options", b"nosniff") in confine(b"/jupyter/d-abc/alice/x", PREFIX)
