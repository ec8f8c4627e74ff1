"""`python -m shoka.sip2`: the SIP2 server on its own (SHOKA_SIP2, SHOKA_DATABASE_URL, SHOKA_HOME)."""

from shoka.sip2.server import main

main()
