"""neurocode: neural coding rules side by side, measured."""

__version__ = "0.1.0"
