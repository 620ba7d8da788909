"""Words with their boxes, and the text lines they form: what the text layer
(:mod:`.text`) and OCR (:mod:`.ocr`) both produce and the layout rules (:mod:`.rules`) read.

Coordinates are fractions (0-1) of the page's width and height from its top-left
corner, so that a rule reads a PDF's text layer (points) and an OCR'd image (pixels) alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median

from .fields import BBox

__all__ = ["TextLine", "Word", "group_lines"]


@dataclass(frozen=True)
class Word:
    """A word (text layer) or a text box (OCR, may hold several words) on page ``page`` (1-based).
    ``conf``: the OCR's score for it (1.0 for a text layer); ``size``: its height as a fraction
    of the page's (the font size, for telling a letterhead from body text)."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    page: int
    conf: float = 1.0

    @property
    def size(self) -> float:
        return self.bottom - self.top


@dataclass
class TextLine:
    """Words on one visual line, left to right. ``text`` joins them with one space;
    ``starts[i]`` is where word ``i`` begins in ``text``; ``index``: its place in the document's lines."""

    words: list[Word]
    text: str = ""
    starts: list[int] = field(default_factory=list)
    index: int = 0

    def __post_init__(self) -> None:
        parts, starts, pos = [], [], 0
        for word in self.words:
            starts.append(pos)
            parts.append(word.text)
            pos += len(word.text) + 1
        self.text = " ".join(parts)
        self.starts = starts

    @property
    def page(self) -> int:
        return self.words[0].page

    @property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def size(self) -> float:
        return median(w.size for w in self.words)

    @property
    def conf(self) -> float:
        return min(w.conf for w in self.words)

    def words_in(self, start: int, end: int) -> list[Word]:
        """The words that overlap characters ``start:end`` of :attr:`text`."""
        return [
            w for w, s in zip(self.words, self.starts, strict=True) if s < end and s + len(w.text) > start
        ] or self.words

    def bbox(self, start: int = 0, end: int | None = None) -> BBox:
        """The box around characters ``start:end`` of :attr:`text` (the whole line by default)."""
        words = self.words_in(start, len(self.text) if end is None else end)
        return (
            min(w.x0 for w in words),
            min(w.top for w in words),
            max(w.x1 for w in words),
            max(w.bottom for w in words),
        )

    def span_conf(self, start: int, end: int) -> float:
        return min(w.conf for w in self.words_in(start, end))

    def segments(self, column_gap: float = 0.06) -> list[TextLine]:
        """This line split where the gap between two words is wider than ``column_gap`` (a fraction
        of the page's width): side-by-side columns, such as a letterhead beside an address block."""
        out, current = [], [self.words[0]]
        for word in self.words[1:]:
            if word.x0 - current[-1].x1 > column_gap:
                out.append(TextLine(current, index=self.index))
                current = [word]
            else:
                current.append(word)
        out.append(TextLine(current, index=self.index))
        return out

    def after(self, x: float) -> str:
        """The text of the words starting right of ``x``."""
        return " ".join(w.text for w in self.words if w.x0 >= x - 0.002)


def group_lines(words: list[Word]) -> list[TextLine]:
    """Words grouped into visual lines, top to bottom, each left to right. Two words share a line
    when their vertical centres are within half the smaller one's height; side-by-side columns
    stay on one line (:meth:`TextLine.segments` splits them)."""
    lines: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.page, (w.top + w.bottom) / 2, w.x0)):
        centre = (word.top + word.bottom) / 2
        for line in reversed(lines[-6:]):
            ref = line[-1]
            if ref.page != word.page:
                continue
            ref_centre = (ref.top + ref.bottom) / 2
            if abs(centre - ref_centre) <= 0.5 * min(ref.size, word.size) + 1e-4:
                line.append(word)
                break
        else:
            lines.append([word])
    out = [TextLine(sorted(line, key=lambda w: w.x0)) for line in lines]
    out.sort(key=lambda ln: (ln.page, round(ln.top, 3), ln.x0))
    for i, ln in enumerate(out):
        ln.index = i
    return out
