"""The public catalogue (OPAC): pages anonymous users see, served through the public database role."""

from shoka.opac.home import opac_home

# Every OPAC page handler; app.py serves this list.
OPAC_ROUTES = [opac_home]
