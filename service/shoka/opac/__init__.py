"""The public catalogue (OPAC): pages anonymous users see, served through the public database role."""
