"""Files users gave a modal (Block Kit file_input): files.info, then the file's private
download URL with the bot token (scope files:read). Slack takes files of up to 10 MB in
a file_input; anything larger is refused here before it is read whole."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from commands.types import Upload

log = logging.getLogger(__name__)
MAX_BYTES = 10 * 1024 * 1024  # Slack's file_input limit
READ_TIMEOUT = 30  # seconds


class Unreadable(Exception):
    """The file could not be read from Slack: `key` names the message that says why."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def read_file(client: WebClient, file_id: str) -> Upload:
    try:
        info = client.files_info(file=file_id).get("file") or {}
    except SlackApiError as err:
        error = err.response.get("error")
        log.warning("files.info %s failed: %s", file_id, error)
        key = "import.form.no_scope" if error == "missing_scope" else "import.form.unreadable"
        raise Unreadable(key) from err
    except (SlackClientError, OSError) as err:
        log.warning("files.info %s failed: %s", file_id, type(err).__name__)
        raise Unreadable("import.form.unreadable") from err
    if int(info.get("size") or 0) > MAX_BYTES:
        raise Unreadable("import.form.too_big")
    url = info.get("url_private_download") or info.get("url_private")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise Unreadable("import.form.unreadable")
    name = str(info.get("name") or file_id)
    return Upload(ref=file_id, name=name, content=_download(client, url))


def _download(client: WebClient, url: str) -> bytes:
    # The URL comes from Slack's own answer (files.info), so the token goes only to Slack.
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})
    try:
        with urllib.request.urlopen(request, timeout=READ_TIMEOUT) as resp:
            kind = resp.headers.get("Content-Type", "")
            data: bytes = resp.read(MAX_BYTES + 1)
    except (urllib.error.URLError, OSError) as err:
        log.warning("file download failed: %s", type(err).__name__)
        raise Unreadable("import.form.unreadable") from err
    if kind.startswith("text/html"):  # Slack's sign-in page: the token may not read it
        raise Unreadable("import.form.no_scope")
    if len(data) > MAX_BYTES:
        raise Unreadable("import.form.too_big")
    return data
