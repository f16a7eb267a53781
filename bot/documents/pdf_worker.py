"""The PDF worker: a separate process (`python -I pdf_worker.py`) that runs pypdf on one file at a time.

Why a process: pypdf has no overall time or memory limit, so a hostile file could stall or bloat the bot.
Here the process caps its own address space (RLIMIT_AS) at start and its CPU time (RLIMIT_CPU) before
each job; the parent adds a wall-clock timeout and kills and replaces a worker that overruns.
It imports only the standard library, pypdf, Pillow (for images) and two pure-text modules of this
package loaded by file path (citi.py, textlayout.py), so it starts fast and never touches bot state.
Everything that reads untrusted content runs here: PDF parsing, both text readings, the CITI parser,
the active-content scan and image decoding.

Protocol on stdin/stdout: frames of a 4-byte big-endian length then the payload. The parent sends a
JSON options frame then the file bytes; the worker answers one JSON frame. JSON, never pickle: the
parent must not trust what comes back from a process that has read hostile input.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import resource
import signal
import struct
import sys
from pathlib import Path
from types import ModuleType
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
MAX_SCANNED_PAGES = 5_000
MAX_IMAGE_PIXELS = 40_000_000
_RISKY_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/SubmitForm",
    "/ImportData",
    "/GoToE",
    "/GoToR",
    "/Rendition",
    "/RichMediaExecute",
    "/Movie",
    "/Sound",
}
_RISKY_ANNOTS = {
    "/RichMedia": "rich_media",
    "/Screen": "rich_media",
    "/Movie": "rich_media",
    "/Sound": "rich_media",
    "/3D": "rich_media",
    "/FileAttachment": "embedded_files",
}
# Names of active content anywhere in the raw bytes (uncompressed objects); delimiter-terminated.
_RAW_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|XFA|RichMedia)(?=[\s/<>\[\]()%]|$)")
_RAW_NAMES = {
    b"JavaScript": "javascript",
    b"JS": "javascript",
    b"Launch": "launch",
    b"EmbeddedFile": "embedded_files",
    b"EmbeddedFiles": "embedded_files",
    b"XFA": "xfa",
    b"RichMedia": "rich_media",
}


def _load(name: str) -> ModuleType:
    """A pure module of this package by file path (the worker runs isolated, without the package)."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_accessbot_worker_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


_citi: ModuleType | None = None
_layout: ModuleType | None = None


def _modules() -> tuple[ModuleType, ModuleType]:
    global _citi, _layout
    if _citi is None or _layout is None:
        _layout = _load("textlayout")
        _citi = _load("citi")
    return _citi, _layout


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


def _action_is_risky(action: Any, depth: int = 0) -> bool:
    from pypdf.generic import ArrayObject, DictionaryObject

    action = action.get_object() if action is not None else None
    if isinstance(action, ArrayObject):  # a destination, or a chain of actions
        return depth < 5 and any(_action_is_risky(a, depth + 1) for a in list(action)[:20])
    if not isinstance(action, DictionaryObject):
        return False
    if action.get("/S") in _RISKY_ACTIONS or "/JS" in action:
        return True
    return depth < 5 and "/Next" in action and _action_is_risky(action.get("/Next"), depth + 1)


def _aa_is_risky(aa: Any) -> bool:
    from pypdf.generic import DictionaryObject

    aa = aa.get_object() if aa is not None else None
    return isinstance(aa, DictionaryObject) and any(_action_is_risky(aa[k]) for k in list(aa.keys())[:30])


def active_content(reader: Any, data: bytes) -> list[str]:
    """What a reviewer's PDF viewer could run or open: JavaScript, actions that launch or submit,
    XFA forms, embedded files, rich media. A bare /OpenAction that only opens a page is fine."""
    from pypdf.generic import DictionaryObject

    found: set[str] = set()
    for match in _RAW_ACTIVE.finditer(data[:20_000_000]):
        found.add(_RAW_NAMES[match.group(1)])
        if len(found) > 6:
            break
    try:
        root = reader.trailer["/Root"].get_object()
        if isinstance(root, DictionaryObject):
            names = root.get("/Names")
            names = names.get_object() if names is not None else None
            if isinstance(names, DictionaryObject):
                if "/JavaScript" in names:
                    found.add("javascript")
                if "/EmbeddedFiles" in names:
                    found.add("embedded_files")
            if _action_is_risky(root.get("/OpenAction")):
                found.add("open_action")
            if _aa_is_risky(root.get("/AA")):
                found.add("javascript")
            form = root.get("/AcroForm")
            form = form.get_object() if form is not None else None
            if isinstance(form, DictionaryObject) and "/XFA" in form:
                found.add("xfa")
        for index in range(min(len(reader.pages), MAX_SCANNED_PAGES)):
            page = reader.pages[index]
            if _aa_is_risky(page.get("/AA")):
                found.add("javascript")
            annots = page.get("/Annots")
            annots = annots.get_object() if annots is not None else None
            if not isinstance(annots, list):
                continue
            for ref in annots[:200]:
                annot = ref.get_object()
                if not isinstance(annot, DictionaryObject):
                    continue
                kind = _RISKY_ANNOTS.get(str(annot.get("/Subtype")))
                if kind:
                    found.add(kind)
                if _action_is_risky(annot.get("/A")) or _aa_is_risky(annot.get("/AA")):
                    found.add("javascript" if "/JS" in str(annot.get("/A")) else "launch")
    except RecursionError:
        found.add("too_complex")
    except Exception:  # a broken structure is for the extraction to report
        return sorted(found)
    return sorted(found)


def _read_page(page: Any, index_base: int) -> tuple[str, list[Any]]:
    """One pass of pypdf over the page: the plain text and the positioned runs for the layout reading."""
    _, layout = _modules()
    runs: list[Any] = []
    counter = [index_base]

    def visit(text: str, cm: Any, tm: Any, font_dict: Any, font_size: Any) -> None:
        if not text or len(runs) >= layout.MAX_FRAGMENTS:
            return
        if not text.strip():
            counter[0] += 2 if "\n" in text else 0
            return
        counter[0] += 1
        with contextlib.suppress(TypeError, ValueError, IndexError):
            runs.append(layout.fragment(counter[0], text, list(cm), list(tm), float(font_size or 1.0)))

    text = page.extract_text(visitor_text=visit) or ""
    return text, runs


def extract(
    data: bytes,
    max_pages: int,
    max_chars: int,
    max_content: int = MAX_CONTENT_BYTES,
    reader_name: str = "text",
) -> dict[str, Any]:
    """Both readings and link URIs of the first `max_pages` pages (parsed as CITI when `reader_name` is
    "citi"), the active content found, or {"error": code}."""
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
        plain: list[str] = []
        layout_lines: list[str] = []
        uris: list[str] = []
        total = 0
        content_bytes = 0
        _, layout = _modules()
        for index in range(min(page_count, max_pages)):
            page = reader.pages[index]
            contents = page.get_contents()
            # Text extraction time grows with the content stream; pages may share one huge stream.
            content_bytes += len(contents.get_data()) if contents is not None else 0
            if content_bytes > max_content:
                return {"error": "too_complex"}
            text, runs = _read_page(page, index * 1_000_000)
            total += len(text)
            if total > max_chars:
                return {"error": "too_complex"}
            plain.append(text)
            layout_lines.extend(layout.page_lines(runs))
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
        active = active_content(reader, data)
        plain_text = "\n".join(plain)
        layout_text = "\n".join(layout_lines)
        answer: dict[str, Any] = {
            "pages": page_count,
            "uris": uris[:MAX_URIS],
            "producer": producer,
            "active": active,
            "text_chars": len(plain_text.strip()) + len(layout_text.strip()),
        }
        if reader_name == "citi":
            citi, _ = _modules()
            doc = citi.parse_best([("layout", layout_text), ("plain", plain_text)], uris[:MAX_URIS])
            answer["document"] = doc.to_json()
        else:
            answer["text"] = plain_text
            answer["layout_text"] = layout_text
        return answer
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


def image(data: bytes, claimed: str) -> tuple[dict[str, Any], bytes]:
    """Decode an image fully as the type its bytes claim and re-encode it without metadata (EXIF, GPS,
    text chunks, trailing data): ({"image": {...}}, new bytes) or ({"error": "bad_image"}, b"")."""
    import warnings

    try:
        from PIL import Image, ImageOps
    except ImportError:
        return {"error": "image_unsupported"}, b""
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    wanted = {"png": "PNG", "jpeg": "JPEG"}.get(claimed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[wanted] if wanted else None) as img:
                if img.format != wanted:
                    return {"error": "bad_image"}, b""
                img.load()
                width, height = img.size
                upright = ImageOps.exif_transpose(img)
                if upright.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
                    upright = upright.convert("RGBA" if "A" in upright.mode else "RGB")
                out = io.BytesIO()
                if wanted == "JPEG":
                    if upright.mode not in ("RGB", "L"):
                        upright = upright.convert("RGB")
                    upright.save(out, format="JPEG", quality=92)
                else:
                    upright.save(out, format="PNG")
    except MemoryError:
        return {"error": "too_complex", "recycle": True}, b""
    except Exception:  # truncated, not that format, a decompression bomb, HTML behind a PNG header
        return {"error": "bad_image"}, b""
    return {"image": {"format": wanted, "width": width, "height": height}}, out.getvalue()


# A job that has used this much CPU is a slow (perhaps hostile) file: the worker lowers its own priority,
# so that other users' files on the other workers get the processor first, and is replaced afterwards
# (an unprivileged process cannot raise its priority again).
SLOW_JOB_CPU_S = 0.3
_slowed = [False]


def _on_slow_job(signum: int, frame: Any) -> None:
    if not _slowed[0]:
        _slowed[0] = True
        with contextlib.suppress(OSError):
            os.nice(15)


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
    _modules()
    signal.signal(signal.SIGPROF, _on_slow_job)
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
        signal.setitimer(signal.ITIMER_PROF, SLOW_JOB_CPU_S)
        payload = b""
        if options.get("job") == "image":
            result, payload = image(data, str(options.get("type", "")))
        else:
            result = extract(
                data,
                int(options.get("max_pages", 8)),
                int(options.get("max_chars", 2_000_000)),
                reader_name=str(options.get("reader", "text")),
            )
        signal.setitimer(signal.ITIMER_PROF, 0)
        if _slowed[0]:
            result["recycle"] = True
        result["data_len"] = len(payload)
        _write_frame(out, json.dumps(result).encode())
        if payload:
            _write_frame(out, payload)
        if result.get("recycle"):
            return 0


if __name__ == "__main__":
    sys.exit(main())
