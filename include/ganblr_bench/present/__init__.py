"""Rendering answers for people: pages, tables, plots, output formats."""
