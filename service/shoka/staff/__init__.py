"""The staff web client (/staff): the counter, patrons, cataloguing, printing, staff accounts and the
operation log. Pages are server-rendered; the counter screen adds a little JavaScript so that a scanner can
work without page loads. Every route is guarded by a staff session (shoka.staff.access)."""

from shoka.staff.administration import ADMINISTRATION_ROUTES
from shoka.staff.catalogue_pages import CATALOGUE_ROUTES
from shoka.staff.counter import COUNTER_ROUTES
from shoka.staff.home import HOME_ROUTES
from shoka.staff.patron_routes import PATRON_ROUTES
from shoka.staff.printing import PRINTING_ROUTES

# Every staff page handler; app.py serves this list.
STAFF_ROUTES = [
    *HOME_ROUTES,
    *CATALOGUE_ROUTES,
    *PATRON_ROUTES,
    *ADMINISTRATION_ROUTES,
    *PRINTING_ROUTES,
    *COUNTER_ROUTES,
]
