"""Helpers every layer may use: argument validation and progress reporting.

Nothing here imports from the rest of tsbptt.
"""
