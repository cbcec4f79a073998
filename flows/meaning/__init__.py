"""Matching by meaning, the side-effect half: the sentence encoder, the example files, the banks.

The decisions themselves are pure and live in analyzers/intents.py.
"""
