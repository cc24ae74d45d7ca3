"""Files as the local Slack keeps them: files_upload_v2's three steps (files.getUploadURLExternal,
the upload to the URL it gave, files.completeUploadExternal), refusing what Slack documents it
refuses: no filename or a zero length, a file id it never gave out, a file completed twice, a
reply in a thread shared to more than one channel, a channel the bot is not in."""

from __future__ import annotations

import itertools
import json

from aiohttp import web


class Files:
    """Mixed into LocalSlack, which holds `uploads`, `upload_lengths`, `files`, `url` and the
    membership rules."""

    uploads: dict[str, bytes]
    upload_lengths: dict[str, int]
    files: list[dict]
    url: str
    _ts: itertools.count

    def upload_url(self, params: dict) -> dict:
        """files.getUploadURLExternal: `filename` and `length` (bytes, not 0) are required."""
        try:
            length = int(params.get("length") or 0)
        except (TypeError, ValueError):
            return {"ok": False, "error": "invalid_arguments"}
        if not params.get("filename") or length <= 0:
            return {"ok": False, "error": "missing_argument"}
        file_id = f"F{next(self._ts):08d}"
        self.uploads[file_id] = b""
        self.upload_lengths[file_id] = length
        return {"ok": True, "upload_url": f"{self.url}upload/{file_id}", "file_id": file_id}

    def complete_upload(self, params: dict) -> dict:
        """files.completeUploadExternal: `files` (each with its `id`) is required, each file is
        completed once (after that its upload is gone), and a reply in a thread goes to one
        channel only."""
        files = params.get("files")
        try:
            files = json.loads(files) if isinstance(files, str) else files
        except ValueError:
            files = None
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        if not all(isinstance(file, dict) and file.get("id") for file in files):
            return {"ok": False, "error": "invalid_arguments"}
        if any(file["id"] not in self.uploads for file in files):
            return {"ok": False, "error": "file_not_found"}
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        if params.get("thread_ts") and len(channels) + bool(params.get("channel_id")) > 1:
            return {"ok": False, "error": "invalid_arguments"}
        channel = params.get("channel_id")
        refused = channel and self.refused_for_membership(str(channel), posting=False)
        if refused:
            return refused
        for file in files:
            data = self.uploads.pop(file["id"])
            self.upload_lengths.pop(file["id"], None)
            self.files.append(
                {
                    "id": file["id"],
                    "title": file.get("title", ""),
                    "channel": params.get("channel_id"),
                    "thread_ts": params.get("thread_ts"),
                    "content": data.decode("utf-8", "replace"),
                    "data": data,
                }
            )
        return {"ok": True, "files": [{"id": file["id"]} for file in files]}

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL: only for a file id files.getUploadURLExternal gave out."""
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404, text="not found")
        data = await request.read()
        self.uploads[file_id] = data
        return web.Response(text=f"OK - {len(data)}")
