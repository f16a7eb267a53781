"""A corpus of bad uploads: not-PDFs, broken PDFs and resource bombs, each with the code it must get.

Built by hand (raw PDF objects) where fpdf2 would refuse to write something so wrong. `CORPUS` maps a
name to (builder, expected codes); tests and benchmarks/bench_documents.py share it.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Sequence

from pypdf import PdfReader, PdfWriter

from tests.citi_pdfs import make_image_only_pdf, make_png, make_report

_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def raw_pdf(objects: Sequence[bytes], *, root: int = 1) -> bytes:
    """A PDF from object bodies (object i+1 = objects[i]) with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, xref)
    )
    return out.getvalue()


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def empty() -> bytes:
    return b""


def png_renamed() -> bytes:
    return make_png()


def zip_renamed() -> bytes:
    return b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20 + b"completion_report.pdf" + b"\x00" * 200


def html_renamed() -> bytes:
    return (
        b"<!DOCTYPE html><html><head><title>CITI Program</title></head><body>"
        b"<h1>COMPLETION REPORT - PART 1 OF 2</h1>"
        + b" " * 2000
        + b"<p>%PDF-1.4 appears only after the first 1024 bytes</p></body></html>"
    )


def truncated() -> bytes:
    data = make_report()
    return data[: len(data) // 3]


def encrypted() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_report())))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_only() -> bytes:
    return make_image_only_pdf()


def _zero_bomb_stream(gigabytes: int = 2) -> bytes:
    """A valid zlib stream inflating to `gigabytes` GiB of zeros, made in milliseconds: after a full
    flush, deflate output for identical 1 MiB blocks repeats, so one block is copied."""
    block = b"\0" * (1 << 20)
    c = zlib.compressobj(9)
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    repeat = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush(zlib.Z_FINISH)
    total = gigabytes << 30
    adler = ((total % 65521) << 16) | 1  # adler32 of `total` zero bytes
    return first + repeat * ((total >> 20) - 1) + end[:-4] + struct.pack(">I", adler)


def compression_bomb() -> bytes:
    """A 2 MB file whose one page content stream inflates to 2 GiB."""
    content = _stream(_zero_bomb_stream(2), b"/Filter /FlateDecode")
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            content,
            _FONT,
        ]
    )


def shared_huge_stream(pages: int = 400) -> bytes:
    """Many pages sharing one content stream that inflates to 800 KB of text operators: one page alone is
    within every limit, but reading it again for each page multiplies the work."""
    ops = b"BT /F1 1 Tf 0 0 Td (CITI Program) Tj ET\n" * 20_000
    return _pages_sharing(_stream(zlib.compress(ops, 9), b"/Filter /FlateDecode"), pages)


def _pages_sharing(content: bytes, pages: int) -> bytes:
    """`pages` pages that all draw the same content stream (object 3) in font F1 (object 4)."""
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        content,
        _FONT,
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R"
        b" /Resources << /Font << /F1 4 0 R >> >> >>"
    ] * pages
    return raw_pdf(objects)


def nested_arrays(depth: int = 100_000) -> bytes:
    """A page whose /Annots is an array nested 100,000 deep (recursion in naive parsers)."""
    nested = b"[" * depth + b"]" * depth
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots " + nested + b" >>",
        ]
    )


def page_tree_loop() -> bytes:
    """A /Pages node that lists itself (and its parent) as kids: an endless page tree."""
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 2 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [3 0 R 2 0 R] /Count 2 >>",
        ]
    )


def many_pages(pages: int = 5000) -> bytes:
    """5,000 small pages of text, none of it CITI: only the first few may be read."""
    return _pages_sharing(_stream(b"BT /F1 12 Tf 72 720 Td (Lorem ipsum dolor sit amet) Tj ET"), pages)


def regex_bomb(run: int = 1200) -> bytes:
    r"""A 0.7 KB report fragment whose labels are followed by long runs of U+001C (a character regular
    expressions count as whitespace): before issue 11 the parser's `\s*\**\s*:?\s*` label patterns
    took minutes on it, in the bot process. Each parse must stay linear."""
    filler = b"\x1c" * run
    ops = (
        b"BT /F1 9 Tf 72 720 Td (CITI Program COMPLETION REPORT - PART 1 OF 2) Tj"
        b" 0 -12 Td (Completion Date" + filler + b"x) Tj 0 -12 Td (Expiration Date" + filler + b"x) Tj ET"
    )
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            _stream(zlib.compress(ops, 9), b"/Filter /FlateDecode"),
            _FONT,
        ]
    )


def xform_storm(ops: int = 3000, calls: int = 500) -> bytes:
    """A 4 KB page that draws one small form XObject 500 times, each holding 3,000 text operators:
    within every size limit, yet some 25 s of pypdf text extraction. Only the worker's timeout stops it."""
    form_ops = zlib.compress(b"BT /F1 1 Tf " + b"(CITI Program x) Tj " * ops + b"ET", 9)
    form = (
        b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >>"
        b" /Filter /FlateDecode /Length %d >>\nstream\n" % len(form_ops) + form_ops + b"\nendstream"
    )
    return raw_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> /XObject << /X1 6 0 R >> >> >>",
            _stream(b"/X1 Do " * calls),
            _FONT,
            form,
        ]
    )


# name -> (builder, the codes it may get). One code each where pypdf's behaviour is settled.
CORPUS: dict[str, tuple[Callable[[], bytes], frozenset[str]]] = {
    "empty": (empty, frozenset({"empty_file"})),
    "png_renamed": (png_renamed, frozenset({"not_pdf"})),
    "zip_renamed": (zip_renamed, frozenset({"not_pdf"})),
    "html_renamed": (html_renamed, frozenset({"not_pdf"})),
    "truncated": (truncated, frozenset({"unreadable", "no_text", "missing_fields", "not_citi"})),
    "encrypted": (encrypted, frozenset({"encrypted"})),
    "image_only": (image_only, frozenset({"no_text"})),
    "compression_bomb": (compression_bomb, frozenset({"too_complex"})),
    "shared_huge_stream": (shared_huge_stream, frozenset({"too_complex"})),
    "nested_arrays": (nested_arrays, frozenset({"too_complex", "unreadable", "no_text"})),
    "page_tree_loop": (page_tree_loop, frozenset({"too_complex", "unreadable", "no_text"})),
    "many_pages": (many_pages, frozenset({"not_citi"})),
    "regex_bomb": (regex_bomb, frozenset({"missing_fields"})),
}
# Files that run until the worker's timeout: kept out of CORPUS so the test suite stays fast (tests
# use a short timeout; benchmarks/bench_documents.py runs them with the default one).
SLOW: dict[str, tuple[Callable[[], bytes], frozenset[str]]] = {
    "xform_storm": (xform_storm, frozenset({"too_complex"})),
}
