"""Widgets and their layout only; behaviour lives in app.controllers."""
