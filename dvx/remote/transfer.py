"""Former home of push/fetch/cloud_status; they live in ``dvx.remote.{push,fetch,status}`` now.

Kept only while ``dvx.gate`` imports ``fetch`` from here (the gate lane moves
that import; the lead deletes this module at merge).
"""

from dvx.remote.common import TransferResult
from dvx.remote.fetch import fetch
from dvx.remote.push import push
from dvx.remote.status import cloud_status

__all__ = ["TransferResult", "cloud_status", "fetch", "push"]
