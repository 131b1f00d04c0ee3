"""The change-password form says what is wrong at the field it is about: the input marked
invalid and described by the error, and the password unchanged."""

import pytest
from django.urls import reverse

from tests.integration.job_pages import inside

PASSWORD_PAGE = reverse("password_change")


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (
            {
                "old_password": "wrong",
                "new_password1": "n3w-and-long",
                "new_password2": "n3w-and-long",
            },
            "old_password",
            "Your old password was entered incorrectly",
        ),
        (
            {"old_password": "alice-pass-1", "new_password1": "sh0rt", "new_password2": "sh0rt"},
            "new_password2",
            "This password is too short",
        ),
        (
            {
                "old_password": "alice-pass-1",
                "new_password1": "n3w-and-long",
                "new_password2": "other-one",
            },
            "new_password2",
            "The two password fields didn",
        ),
    ],
    ids=["wrong-old", "too-short", "not-matching"],
)
def test_a_refused_password_change_is_said_at_the_field(client, alice, data, field, words):
    client.force_login(alice)
    response = client.post(PASSWORD_PAGE, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert words in inside(html, f"{field}-error")
    assert f'aria-invalid="true" aria-describedby="{field}-error"' in html or (
        f'aria-describedby="password-rules {field}-error"' in html
    )
    alice.refresh_from_db()
    assert alice.check_password("alice-pass-1")
