"""Data capture (DataCaptureConfig): sampled invocations written as SageMaker's capture JSONL,
off the request path.

The router only puts what it captured on a bounded queue (a full queue drops the capture and
counts it: jobs.hosting.counters.captures_dropped); a writer thread takes what accumulated
over about a second and stores one object per endpoint, variant and hour through the artifact
store, at SageMaker's key layout
`<DestinationS3Uri>/<endpoint>/<variant>/yyyy/mm/dd/hh/<mm>-<ss>-<ms>-<uuid>.jsonl`.
A slow store slows only the writer.
"""

import base64
import io
import json
import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from jobs.hosting.counters import tally
from jobs.hosting.routing import Capture
from studio.core.storage import artifact_store, check_access, join

log = logging.getLogger(__name__)

BATCH_S = 1.0
FIELD = "DataCaptureConfig.DestinationS3Uri"


@dataclass(frozen=True)
class Captured:
    config: Capture
    domain_id: str
    endpoint: str
    variant: str
    at: float  # time.time() of the answer
    event_id: str
    inference_id: str | None
    input_type: str
    input_data: bytes
    output_type: str
    output_data: bytes


class CaptureWriter:
    def __init__(self, maxsize: int):
        self.queue: queue.Queue[Captured] = queue.Queue(maxsize)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def offer(self, endpoint_pk: int, item: Captured) -> None:
        """Queue `item` for writing, or drop and count it when the queue is full."""
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            tally.drop_capture(endpoint_pk)
            return
        if self._thread is None:
            self._start()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="data-capture", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self.queue.get()]
            deadline = time.monotonic() + BATCH_S
            # A batch holds no more than the queue: captures held here are bounded too.
            while len(batch) < self.queue.maxsize and (left := deadline - time.monotonic()) > 0:
                try:
                    batch.append(self.queue.get(timeout=left))
                except queue.Empty:
                    break
            try:
                write(batch)
            except Exception:
                log.exception("could not write %d captured invocations", len(batch))


def write(batch: list[Captured]) -> list[str]:
    """Store `batch` as JSONL objects, one per destination, endpoint, variant and hour;
    return their URIs."""
    files: dict[tuple[str, str, str, str, str], list[Captured]] = {}
    for item in batch:
        hour = datetime.fromtimestamp(item.at, UTC).strftime("%Y/%m/%d/%H")
        key = (item.config.destination, item.domain_id, item.endpoint, item.variant, hour)
        files.setdefault(key, []).append(item)
    written = []
    store = artifact_store()
    for (destination, domain_id, endpoint, variant, hour), items in files.items():
        # Checked again here: the store is written as the platform, for the endpoint's domain.
        check_access(destination, domain_id, FIELD)
        first = datetime.fromtimestamp(items[0].at, UTC)
        name = f"{first:%M-%S}-{first.microsecond // 1000:03d}-{uuid.uuid4()}.jsonl"
        uri = join(destination, endpoint, variant, *hour.split("/"), name, field=FIELD)
        data = "".join(json.dumps(record(item)) + "\n" for item in items).encode()
        written.append(store.put(uri, io.BytesIO(data), FIELD))
    return written


def record(item: Captured) -> dict:
    """One line of SageMaker's capture format."""
    data: dict = {}
    if item.config.inputs:
        data["endpointInput"] = _side(item.config, item.input_type, item.input_data, "INPUT")
    if item.config.outputs:
        data["endpointOutput"] = _side(item.config, item.output_type, item.output_data, "OUTPUT")
    metadata = {
        "eventId": item.event_id,
        "inferenceTime": datetime.fromtimestamp(item.at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if item.inference_id:
        metadata["inferenceId"] = item.inference_id
    return {"captureData": data, "eventMetadata": metadata, "eventVersion": "0"}


def _side(config: Capture, content_type: str, body: bytes, mode: str) -> dict:
    """Text for the content types the config names CSV or JSON; base64 for the rest, as
    SageMaker (and for bytes that are not UTF-8 text)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    encoding = "CSV" if kind in config.csv_types else "JSON" if kind in config.json_types else ""
    if encoding:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            encoding = ""
    if not encoding:
        encoding, text = "BASE64", base64.b64encode(body).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


writer = CaptureWriter(settings.STUDIO_CAPTURE_QUEUE)
