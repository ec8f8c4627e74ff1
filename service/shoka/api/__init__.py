"""The JSON API under /api/v1 (CONTRACT.md, "HTTP"). Shapes are msgspec structs validated at the edge."""
