"""The list routes' filters (`GET /v2/live`, `/v2/pre-recorded`, `/v2/transcription`), read both ways the sources
disagree on: `status` repeated (OpenAPI) or `status[]` (the SDKs); `custom_metadata[key]=value` (both SDKs) or
`custom_metadata=<JSON>` (the docs page); `date` (a day), `after_date`, `before_date` (ISO date-times)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any


def _moment(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def wanted_metadata(query: Any) -> dict[str, str]:
    found = {
        key[len("custom_metadata[") : -1]: value for key, value in query.items() if key.startswith("custom_metadata[")
    }
    raw = query.get("custom_metadata")
    if raw:
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if isinstance(data, dict):
            found.update({str(k): str(v) for k, v in data.items()})
    return found


def filter_listed(jobs: list[dict[str, Any]], query: Any) -> list[dict[str, Any]]:
    statuses = set(query.getall("status", [])) | set(query.getall("status[]", []))
    if statuses:
        jobs = [j for j in jobs if j.get("status") in statuses]
    day = query.get("date")
    if day:
        jobs = [j for j in jobs if str(j.get("created_at", "")).startswith(day)]
    after, before = _moment(query.get("after_date", "") or ""), _moment(query.get("before_date", "") or "")
    if after or before:

        def inside(job: Mapping[str, Any]) -> bool:
            created = _moment(str(job.get("created_at", "")))
            return created is not None and (after is None or created >= after) and (before is None or created < before)

        jobs = [j for j in jobs if inside(j)]
    metadata = wanted_metadata(query)
    if metadata:
        jobs = [
            j
            for j in jobs
            if isinstance(j.get("custom_metadata"), dict)
            and all(str(j["custom_metadata"].get(k)) == v for k, v in metadata.items())
        ]
    return jobs
