"""Server-rendered pages: templates, language choice and the shared layout (OPAC and staff)."""
