"""Delivery: baked badge images, the badge picture, exported files."""
