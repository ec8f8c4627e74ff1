"""Every route of the patrons screens (/staff/patrons), in one list for the staff client to serve."""

from shoka.staff.patron_bulk_pages import PATRON_BULK_ROUTES
from shoka.staff.patron_card_pages import PATRON_CARD_ROUTES
from shoka.staff.patron_merge_pages import PATRON_MERGE_ROUTES
from shoka.staff.patron_pages import PATRON_PAGE_ROUTES

PATRON_ROUTES = [*PATRON_PAGE_ROUTES, *PATRON_CARD_ROUTES, *PATRON_MERGE_ROUTES, *PATRON_BULK_ROUTES]
