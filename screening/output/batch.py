"""A batch of summaries as one PDF: the cover, then each client's own PDF, joined with pypdf.

Each summary is a finished PDF (stored, or rendered in a pool), so joining costs no layout:
its pages and outline are copied, and page labels name the part ("Cover 1", "3-2" is the
third client's second page) so a viewer's page box says whose page it is.
"""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter


def join(cover: bytes, summaries: list[bytes]) -> bytes:
    """The cover then the summaries, in order, with each part's outline (the client's name
    and its sections) and page labels."""
    writer = PdfWriter()
    start = 0
    for number, data in enumerate([cover, *summaries]):
        reader = PdfReader(io.BytesIO(data))
        writer.append(reader, import_outline=True)
        end = len(writer.pages) - 1
        if number == 0:
            writer.set_page_label(start, end, style="/D", prefix="Cover ")
        else:
            writer.set_page_label(start, end, style="/D", prefix=f"{number}-")
        start = end + 1
    metadata = PdfReader(io.BytesIO(cover)).metadata or {}
    writer.add_metadata({k: v for k, v in metadata.items() if k in ("/Title", "/Author")})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
