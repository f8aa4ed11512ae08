"""The ``uri`` module: one module, two transports (urllib on the controller, curl on a host)."""

from titan_ops.modules.uri.module import Uri

__all__ = ["Uri"]
