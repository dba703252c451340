"""The one date format and the one date-and-time format of Spanish pages (FORMAT_MODULE_PATH).

The short date (with abbreviated month) is for the back office's lists, which must fit 1280 px."""

DATE_FORMAT = r"j \d\e F \d\e Y"
DATETIME_FORMAT = r"j \d\e F \d\e Y, H:i T"
SHORT_DATE_FORMAT = "j b Y"
SHORT_DATETIME_FORMAT = "j b Y, H:i T"
TIME_FORMAT = "H:i T"
