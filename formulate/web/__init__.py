"""The web door: a FastAPI app (JSON API, server-sent progress, one page) over formulate.service."""
