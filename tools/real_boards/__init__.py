"""Builds a generated microforge project through the real PlatformIO platform builders, offline.

See check.py (the driver), checkout.py (working trees from local git mirrors) and recipes/ (what
each PlatformIO platform needs). Nothing fetched by these tools belongs in the repository.
"""
