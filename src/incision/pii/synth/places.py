"""Real place names (tables/places.json), so addresses read as real ones; postal codes and lot numbers are
random. Each function names its table's columns."""

from __future__ import annotations

from .tables import rows, strings


def us_cities() -> tuple[tuple[str, ...], ...]:
    """(city, state)"""
    return rows("places", "us_cities", width=2)


def ca_cities() -> tuple[tuple[str, ...], ...]:
    """(city, province, first letter of its postal codes)"""
    return rows("places", "ca_cities", width=3)


def uk_cities() -> tuple[str, ...]:
    return strings("places", "uk_cities")


def uk_areas() -> tuple[str, ...]:
    """Postcode areas (the first half of a UK postcode)."""
    return strings("places", "uk_areas")


def jp_places() -> tuple[tuple[str, ...], ...]:
    """(prefecture, its romaji, city or ward, its romaji)"""
    return rows("places", "jp_places", width=4)


def jp_towns() -> tuple[tuple[str, ...], ...]:
    """(town, romaji): town names found in many cities, so any pairing with a place reads as real."""
    return rows("places", "jp_towns", width=2)


def jp_buildings() -> tuple[tuple[str, ...], ...]:
    """(first word of a building's name, romaji)"""
    return rows("places", "jp_buildings", width=2)


def jp_building_kinds() -> tuple[tuple[str, ...], ...]:
    """(last word of a building's name: ハイツ, コーポ..., romaji)"""
    return rows("places", "jp_building_kinds", width=2)
