"""Behaviour: wire the views to gaitanon_core through background workers."""
