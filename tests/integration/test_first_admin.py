"""`studio up` creates the first admin, with a random password, only when there is no
superuser and the name is free (against the database)."""

from studio.web.management.commands.up import ADMIN_USERNAME, ensure_first_admin


def test_first_admin_is_created_once(db, django_user_model):
    password = ensure_first_admin()
    assert password and len(password) >= 16
    admin = django_user_model.objects.get(username=ADMIN_USERNAME)
    assert admin.is_superuser and admin.check_password(password)
    assert ensure_first_admin() is None


def test_no_admin_when_a_superuser_exists(db, django_user_model):
    django_user_model.objects.create_superuser("root", "", "root-pass-1")
    assert ensure_first_admin() is None
    assert not django_user_model.objects.filter(username=ADMIN_USERNAME).exists()


def test_no_admin_when_the_name_is_taken(db, django_user_model):
    django_user_model.objects.create_user(ADMIN_USERNAME, "", "plain-pass-1")
    assert ensure_first_admin() is None
    assert not django_user_model.objects.get(username=ADMIN_USERNAME).is_superuser
