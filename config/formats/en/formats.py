"""The one date format and the one date-and-time format of English pages (FORMAT_MODULE_PATH).

Templates write `|date` for a date and `|date:"DATETIME_FORMAT"` for a moment; the time is in
the person's time zone (apps.core.time_zones), whose abbreviation ends it."""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
TIME_FORMAT = "H:i T"
