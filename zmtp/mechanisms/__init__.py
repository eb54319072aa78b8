"""Security mechanisms. NULL is here; PLAIN and CURVE plug into the same interface."""

from zmtp.mechanisms.base import Mechanism, ZapContext
from zmtp.mechanisms.null import NullMechanism

__all__ = ["Mechanism", "NullMechanism", "ZapContext"]
