"""The PDF worker: a separate process (`python -I pdf_worker.py`) that runs pypdf on one file at a time.

Why a process: pypdf has no overall time or memory limit, so a hostile file could stall or bloat the bot.
Here the process caps its own address space (RLIMIT_AS) at start and its CPU time (RLIMIT_CPU) before
each job; the parent adds a wall-clock timeout and kills and replaces a worker that overruns.
It imports only the standard library and pypdf, so it starts fast and never touches bot state.

Protocol on stdin/stdout: frames of a 4-byte big-endian length then the payload. The parent sends a
JSON options frame then the file bytes; the worker answers one JSON frame. JSON, never pickle: the
parent must not trust what comes back from a process that has read hostile input.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import struct
import sys
from typing import Any, BinaryIO

# Limits well below pypdf's defaults: a CITI report is a few pages of text and a logo.
PYPDF_LIMITS: dict[str, int] = {
    "maximum_declared_stream_length": 20_000_000,
    "array_based_stream_maximum_output_length": 20_000_000,
    "jbig2_maximum_output_length": 20_000_000,
    "lzw_maximum_output_length": 20_000_000,
    "run_length_maximum_output_length": 20_000_000,
    "zlib_maximum_output_length": 20_000_000,
    "zlib_maximum_recovery_input_length": 2_000_000,
    "brotli_maximum_output_length": 20_000_000,
    "image_maximum_buffer_size": 20_000_000,
    "array_maximum_element_count": 50_000,
    "dictionary_maximum_element_count": 20_000,
    "stream_decoding_work_maximum_length": 60_000_000,
    "stream_parsing_work_maximum_count": 1_000_000,
    "xmp_maximum_input_length": 1_000_000,
    "outline_maximum_entries": 10_000,
    "outline_maximum_depth": 50,
    "page_tree_maximum_entries": 20_000,
    "page_tree_maximum_depth": 50,
    "page_tree_maximum_page_entries": 200_000,
    "form_fields_maximum_entries": 10_000,
    "named_destinations_maximum_entries": 10_000,
    "xform_maximum_invocations_per_extraction": 500,
}
MAX_URIS = 50
# Decoded page content read in one job, all pages together: pypdf extracts text at about 2 s per MB.
# A CITI report page holds some 10-100 KB (browser re-prints are the wordiest).
MAX_CONTENT_BYTES = 1_500_000


def _read_exact(stream: BinaryIO, n: int) -> bytes | None:
    chunks = []
    while n > 0:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_frame(stream: BinaryIO) -> bytes | None:
    head = _read_exact(stream, 4)
    if head is None:
        return None
    return _read_exact(stream, struct.unpack(">I", head)[0])


def _write_frame(stream: BinaryIO, payload: bytes) -> None:
    stream.write(struct.pack(">I", len(payload)) + payload)
    stream.flush()


def _configure_pypdf() -> None:
    import pypdf

    known = set(pypdf.Configuration.__dataclass_fields__)
    limits: dict[str, Any] = {k: v for k, v in PYPDF_LIMITS.items() if k in known}
    pypdf.overwrite_configuration(None, disable_legacy_handling=True, **limits)


def _cap_cpu(seconds: int) -> None:
    """Let this job use `seconds` more CPU seconds; the kernel kills the process beyond that."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + max(1, seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _uris(page: Any) -> list[str]:
    from pypdf.generic import DictionaryObject

    out: list[str] = []
    annots = page.get("/Annots")
    annots = annots.get_object() if annots is not None else None
    if not isinstance(annots, list):
        return out
    for ref in annots[:200]:
        annot = ref.get_object()
        if not isinstance(annot, DictionaryObject) or annot.get("/Subtype") != "/Link":
            continue
        action = annot.get("/A")
        action = action.get_object() if action is not None else None
        if isinstance(action, DictionaryObject) and action.get("/S") == "/URI":
            uri = action.get("/URI")
            if uri is not None:
                value = uri.get_object()
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                out.append(text[:500])
    return out


def extract(
    data: bytes, max_pages: int, max_chars: int, max_content: int = MAX_CONTENT_BYTES
) -> dict[str, Any]:
    """Text and link URIs of the first `max_pages` pages, or {"error": code}."""
    from pypdf import PdfReader
    from pypdf.errors import (
        EmptyFileError,
        FileNotDecryptedError,
        LimitReachedError,
        PdfReadError,
    )

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):  # an owner password alone still opens the file
                    return {"error": "encrypted"}
            except Exception:
                return {"error": "encrypted"}
        page_count = len(reader.pages)
        texts: list[str] = []
        uris: list[str] = []
        total = 0
        content_bytes = 0
        for index in range(min(page_count, max_pages)):
            page = reader.pages[index]
            contents = page.get_contents()
            # Text extraction time grows with the content stream; pages may share one huge stream.
            content_bytes += len(contents.get_data()) if contents is not None else 0
            if content_bytes > max_content:
                return {"error": "too_complex"}
            text = page.extract_text() or ""
            total += len(text)
            if total > max_chars:
                return {"error": "too_complex"}
            texts.append(text)
            # A broken annotation loses the link, not the document.
            with contextlib.suppress(
                PdfReadError, LimitReachedError, KeyError, ValueError, TypeError, AttributeError
            ):
                uris.extend(_uris(page))
        producer = ""
        try:
            meta = reader.metadata
            producer = str(meta.producer or "")[:200] if meta is not None else ""
        except Exception:
            producer = ""
        return {"pages": page_count, "text": "\n".join(texts), "uris": uris[:MAX_URIS], "producer": producer}
    except FileNotDecryptedError:
        return {"error": "encrypted"}
    except EmptyFileError:
        return {"error": "empty_file"}
    except (LimitReachedError, RecursionError):
        return {"error": "too_complex"}
    except MemoryError:
        return {"error": "too_complex", "recycle": True}
    except PdfReadError:
        return {"error": "unreadable"}
    except Exception:
        return {"error": "unreadable"}


def main() -> int:
    memory_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Keep the protocol on a private copy of stdout; anything printed by a library goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    stdin = sys.stdin.buffer
    _configure_pypdf()
    _write_frame(out, json.dumps({"ready": True, "pid": os.getpid()}).encode())
    while True:
        options_raw = _read_frame(stdin)
        if options_raw is None:
            return 0
        data = _read_frame(stdin)
        if data is None:
            return 0
        options = json.loads(options_raw)
        _cap_cpu(int(options.get("cpu_s", 5)))
        result = extract(data, int(options.get("max_pages", 8)), int(options.get("max_chars", 2_000_000)))
        _write_frame(out, json.dumps(result).encode())
        if result.get("recycle"):
            return 0


if __name__ == "__main__":
    sys.exit(main())
