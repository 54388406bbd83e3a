"""Encoders: text, image and audio backbones behind one protocol and registry."""

from .base import Encoder, Provenance, available, get, register

__all__ = ["Encoder", "Provenance", "available", "get", "register"]
