"""Encoders: text, image and audio backbones behind one protocol and one registry.

``pairspace.encoders.get(name, **options)`` builds a registered encoder; ``available()`` lists them
(what ``pairspace encoders`` prints). The registry is :data:`ENCODERS`, a
:class:`pairspace._registry.Registry`; the built-in encoders register themselves when their module
is first needed, so importing this package imports no model library.
"""

from .base import ENCODERS, Encoder, EncodeReport, Provenance, available, get, modality_of, register

__all__ = ["ENCODERS", "EncodeReport", "Encoder", "Provenance", "available", "get", "modality_of",
           "register"]
