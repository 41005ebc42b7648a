"""Discogs REST API: an httpx client paced by a shared rate limiter, with tolerant models."""
