"""What went wrong talking to a remote, in one line: filesystem, s3fs and botocore errors -> ``RemoteError``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from dvx.errors import RemoteError

if TYPE_CHECKING:
    from dvx.remote.session import Remote

__all__ = ["describe_error", "translate_errors"]


def _client_code(e: BaseException) -> str | None:
    resp = getattr(e, "response", None)
    if isinstance(resp, dict):
        code = resp.get("Error", {}).get("Code")
        return code if isinstance(code, str) else None
    return None


def describe_error(remote: Remote, e: BaseException) -> RemoteError:
    """A one-line RemoteError for a filesystem/botocore exception raised while talking to ``remote``."""
    where = f"remote {remote.label}"
    endpoint = remote.options.get("endpoint_url")
    at = f" at {endpoint}" if endpoint else ""
    chain = [e]
    c = e.__cause__ or e.__context__
    while c is not None and len(chain) < 6:
        chain.append(c)
        c = c.__cause__ or c.__context__
    names = {type(x).__name__ for x in chain}
    codes = {_client_code(x) for x in chain} - {None}
    text = " ".join(str(x) for x in chain)
    if names & {"EndpointConnectionError", "ConnectTimeoutError", "ConnectionRefusedError",
                "ClientConnectorError", "ServerDisconnectedError", "ReadTimeoutError", "ConnectionClosedError"} \
            or "Could not connect" in text or "Connection refused" in text:
        return RemoteError(f"{where}: cannot connect to the endpoint{at}",
                           "check that the server is running and the endpoint_url is right, then retry")
    if names & {"NoCredentialsError", "PartialCredentialsError"} or "Unable to locate credentials" in text:
        return RemoteError(f"{where}: no credentials found",
                           "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or "
                           f"`dvx remote modify --local {remote.name} access_key_id ...`")
    if isinstance(e, PermissionError) and not remote.is_s3 and not codes:
        return RemoteError(f"{where}: permission denied: {e}", "check the folder's permissions")
    if codes & {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                "AccessDenied", "AllAccessDisabled", "InvalidSecurity"} or isinstance(e, PermissionError):
        return RemoteError(f"{where}: access denied (wrong or missing credentials){at}: {str(e)[:200]}",
                           "check the access key, secret and profile of this remote")
    if "NoSuchBucket" in codes or "bucket does not exist" in text.lower() or "NoSuchBucket" in text:
        return RemoteError(f"{where}: the bucket does not exist{at}",
                           "create it first or fix the remote URL (`dvx remote modify NAME url ...`)")
    if isinstance(e, FileNotFoundError):
        return RemoteError(f"{where}: not found: {e}", "check the remote URL")
    msg = str(e).splitlines()[0][:300] if str(e) else type(e).__name__
    return RemoteError(f"{where}: {type(e).__name__}: {msg}", "check the remote settings and retry")


@contextlib.contextmanager
def translate_errors(remote: Remote) -> Iterator[None]:
    """Turn filesystem, s3fs and botocore exceptions into one-line RemoteErrors."""
    from dvx.errors import DvxError

    try:
        yield
    except DvxError:
        raise
    except (OSError, RuntimeError, ValueError, TimeoutError) as e:
        raise describe_error(remote, e) from e
    except Exception as e:
        mod = type(e).__module__
        if mod.startswith(("botocore", "aiobotocore", "aiohttp", "s3fs", "fsspec", "urllib3")):
            raise describe_error(remote, e) from e
        raise
