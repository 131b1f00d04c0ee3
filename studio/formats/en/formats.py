"""Django's formats for English, as the dashboard prints moments (studio/web/templatetags/
when.py): "28 Nov 2026, 14:05". The admin console, and anything else Django localizes, prints
them so too, instead of Django's "Nov. 28, 2026, 2:05 p.m."."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
