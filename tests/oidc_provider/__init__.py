"""A real OpenID Connect provider for the sign-in tests: a small Django project on
django-oauth-toolkit, run in a process of its own with its own SQLite database, as a
third-party identity provider would be (`process.IdentityProvider` starts and drives it)."""
