"""A document's timeline as SVG, drawn on the server: its versions as dots coloured by
the significance of the change that made each, above them the stretches it was
failing, gone, paused or not checked, and a time axis in the reader's timezone.

Pure: data in, markup out. Every piece of text is escaped by `Markup.format` (a
version's title is page text). Colours are presentation attributes, never `style=`:
the app's Content-Security-Policy allows no inline style. Call it while a page is
rendered (`render`), so that its words are in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from babel.dates import format_skeleton
from babel.numbers import format_decimal
from markupsafe import Markup

from monitor.i18n import Reader
from monitor.untrusted import one_line
from monitor.web.labels import significances
from monitor.web.spans import FAILURE, GAP, KINDS, PAUSED, REMOVAL, Span
from monitor.web.speech import gettext, ngettext

WIDTH, HEIGHT = 1000, 124
LEFT, RIGHT = 10, 10  # room for a dot's radius at either end
LANE_TOP, LANE_HEIGHT, LANE_STEP = 6, 9, 12  # one lane per kind of span (spans.KINDS)
TRACK_Y, DOT_R = 68, 6
AXIS_Y = 90
MIN_SPAN_PX = 2.0  # a stretch of a minute on a year's axis must still show
MAX_TICKS = 8

FILLS = {"high": "#c62828", "medium": "#e69500", "low": "#5f8f8f", "none": "#9e9e9e",
         "first": "#0b5394"}
SPAN_FILLS = {GAP: "#9e9e9e", PAUSED: "#7a9bb8", FAILURE: "#c62828", REMOVAL: "#1a1a1a"}

# (unit, how many): the axis takes the finest step that needs at most MAX_TICKS ticks.
_STEPS = (("hour", 1), ("hour", 2), ("hour", 3), ("hour", 6), ("hour", 12), ("day", 1),
          ("day", 2), ("day", 7), ("day", 14), ("month", 1), ("month", 2), ("month", 3),
          ("month", 6), ("year", 1), ("year", 2), ("year", 5), ("year", 10), ("year", 50))
_APPROX = {"hour": 3600, "day": 86400, "month": 30 * 86400, "year": 365 * 86400}


@dataclass(frozen=True)
class Dot:
    number: int  # the version
    at: datetime  # captured, naive UTC
    significance: str  # of the change that made it: high | medium | low | none | first
    summary: str = ""  # that change's summary, for the tooltip


@dataclass(frozen=True)
class Timeline:
    name: str  # the document, for the label people with screen readers hear
    start: datetime  # naive UTC
    end: datetime
    dots: tuple[Dot, ...]
    spans: tuple[Span, ...]

    def x(self, moment: datetime) -> float:
        total = (self.end - self.start).total_seconds()
        share = (moment - self.start).total_seconds() / total if total > 0 else 0.5
        return LEFT + min(1.0, max(0.0, share)) * (WIDTH - LEFT - RIGHT)


def draw(timeline: Timeline, reader: Reader) -> Markup:
    """The whole <svg id="timeline">."""
    parts = [_lane(timeline, span, reader) for span in timeline.spans]
    parts.append(Markup('<line class="track" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#bbb" '
                        'stroke-width="2"/>').format(LEFT, TRACK_Y, WIDTH - RIGHT, TRACK_Y))
    parts.extend(_axis(timeline, reader))
    parts.extend(_dot(timeline, dot, reader) for dot in timeline.dots)
    return Markup('<svg id="timeline" class="timeline" xmlns="http://www.w3.org/2000/svg" '
                  'viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
                  'aria-label="{label}" font-family="system-ui, sans-serif">'
                  '{body}</svg>').format(w=WIDTH, h=HEIGHT, label=_label(timeline, reader),
                                         body=Markup("").join(parts))


def _label(timeline: Timeline, reader: Reader) -> str:
    count = {kind: sum(1 for s in timeline.spans if s.kind == kind) for kind in KINDS}
    return gettext(
        "Timeline of %(name)s from %(start)s to %(end)s: %(versions)s versions, "
        "%(failures)s failing stretches, %(removals)s removals, %(gaps)s gaps in checking",
        name=one_line(timeline.name, 200), start=reader.day(timeline.start),
        end=reader.day(timeline.end), versions=len(timeline.dots), failures=count[FAILURE],
        removals=count[REMOVAL], gaps=count[GAP])


def _dot(timeline: Timeline, dot: Dot, reader: Reader) -> Markup:
    level = dot.significance if dot.significance in FILLS else "none"
    tip = gettext("Version %(number)s, %(moment)s", number=dot.number,
                  moment=short_moment(dot.at, reader)) + " · " + _levels()[level]
    if dot.summary and reader.language == "en":  # recorded in English; the table translates
        tip += f": {one_line(dot.summary, 300)}"
    return Markup('<a href="#version-{n}"><circle class="dot sig-{level}" cx="{x:.1f}" cy="{y}" '
                  'r="{r}" fill="{fill}" stroke="#fff" stroke-width="1.5">'
                  '<title>{tip}</title></circle></a>').format(
        n=dot.number, level=level, x=timeline.x(dot.at), y=TRACK_Y, r=DOT_R,
        fill=FILLS[level], tip=tip)


def short_moment(moment: datetime, reader: Reader) -> str:
    """'2025-12-11 14:30 +05:00' in the reader's timezone (the one human form)."""
    return reader.moment(moment)


def _levels() -> dict[str, str]:
    return {**significances(), "none": gettext("no change recorded")}


def _lane(timeline: Timeline, span: Span, reader: Reader) -> Markup:
    x1, x2 = timeline.x(span.start), timeline.x(span.end)
    width = max(MIN_SPAN_PX, x2 - x1)
    y = LANE_TOP + KINDS.index(span.kind) * LANE_STEP
    return Markup('<rect class="span span-{kind}" x="{x:.1f}" y="{y}" width="{w:.1f}" '
                  'height="{h}" fill="{fill}" fill-opacity="{opacity}"><title>{tip}</title>'
                  '</rect>').format(kind=span.kind, x=min(x1, WIDTH - RIGHT - width), y=y,
                                    w=width, h=LANE_HEIGHT, fill=SPAN_FILLS[span.kind],
                                    opacity="0.35" if span.kind == GAP else "0.7",
                                    tip=span_words(span, reader))


def span_words(span: Span, reader: Reader) -> str:
    """What a span says, for its tooltip and the list under the timeline."""
    start, end = reader.moment(span.start), reader.moment(span.end)
    if span.kind == FAILURE:
        words = (gettext("Failing since %(start)s", start=start) if span.open
                 else gettext("Failing from %(start)s to %(end)s", start=start, end=end))
        return words + " · " + ngettext("%(num)d failure recorded, the first: %(kind)s",
                                        "%(num)d failures recorded, the first: %(kind)s",
                                        span.count, kind=one_line(span.detail, 80))
    if span.kind == REMOVAL and span.detail == "stopped":
        return (gettext("Not watched since %(start)s (removed from the sources)", start=start)
                if span.open else gettext("Not watched from %(start)s to %(end)s",
                                          start=start, end=end))
    if span.kind == REMOVAL:
        return (gettext("Gone since %(start)s", start=start) if span.open
                else gettext("Gone from %(start)s to %(end)s", start=start, end=end))
    if span.kind == PAUSED:
        return (gettext("Paused since %(start)s", start=start) if span.open
                else gettext("Paused from %(start)s to %(end)s", start=start, end=end))
    hours = span.seconds / 3600
    shown = format_decimal(round(hours, 1) if hours < 10 else round(hours), "0.#",
                           locale=reader.language)  # '3.5' in English, '3,5' in Russian
    return gettext("No check from %(start)s to %(end)s (%(hours)s hours)", start=start,
                   end=end, hours=shown)


def _axis(timeline: Timeline, reader: Reader) -> Iterator[Markup]:
    yield Markup('<line class="axis" x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="#999" '
                 'stroke-width="1"/>').format(LEFT, WIDTH - RIGHT, y=AXIS_Y)
    unit, step = _step((timeline.end - timeline.start).total_seconds())
    years = reader.local(timeline.start).year != reader.local(timeline.end).year
    for tick in _ticks(timeline.start, timeline.end, unit, step, reader):
        x = timeline.x(tick.astimezone(UTC).replace(tzinfo=None))
        anchor = "start" if x < LEFT + 30 else "end" if x > WIDTH - RIGHT - 30 else "middle"
        yield Markup('<line class="tick" x1="{x:.1f}" y1="{y1}" x2="{x:.1f}" y2="{y2}" '
                     'stroke="#999" stroke-width="1"/><text class="tick-label" x="{x:.1f}" '
                     'y="{ty}" font-size="12" fill="#555" text-anchor="{anchor}">{label}</text>'
                     ).format(x=x, y1=AXIS_Y, y2=AXIS_Y + 5, ty=AXIS_Y + 20, anchor=anchor,
                              label=_tick_label(tick, unit, years, reader))


def _step(seconds: float) -> tuple[str, int]:
    for unit, count in _STEPS:
        if seconds / (_APPROX[unit] * count) <= MAX_TICKS:
            return unit, count
    return _STEPS[-1]


def _ticks(start: datetime, end: datetime, unit: str, step: int,
           reader: Reader) -> Iterator[datetime]:
    """Moments on round local times (the hour, midnight, the 1st, 1 January) in range."""
    first, last = reader.local(start), reader.local(end)
    if unit == "hour":
        tick = first.replace(minute=0, second=0, microsecond=0)
        tick = tick.replace(hour=tick.hour - tick.hour % step)
    elif unit == "day":
        tick = first.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "month":
        tick = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        tick = tick.replace(month=tick.month - (tick.month - 1) % step)
    else:
        tick = first.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
        tick = tick.replace(year=tick.year - tick.year % step)
    while tick <= last:
        if tick >= first:
            yield tick
        tick = _next(tick, unit, step)


def _next(tick: datetime, unit: str, step: int) -> datetime:
    if unit == "hour":  # in UTC, so a clock change neither repeats nor skips a tick
        return (tick.astimezone(UTC) + timedelta(hours=step)).astimezone(tick.tzinfo)
    if unit == "day":
        return tick + timedelta(days=step)
    if unit == "month":
        months = tick.month - 1 + step
        return tick.replace(year=tick.year + months // 12, month=months % 12 + 1)
    return tick.replace(year=tick.year + step)


def _tick_label(tick: datetime, unit: str, years: bool, reader: Reader) -> str:
    """'09:00' (a day's midnight: 'Dec 11'), 'Dec 11' ('Dec 11, 2025' when the axis
    spans two years), 'Dec 2025', '2025'."""
    day = "yMMMd" if years else "MMMd"
    if unit == "hour":
        skeleton = day if tick.hour == 0 else "Hm"
    else:
        skeleton = {"day": day, "month": "yMMM", "year": "y"}[unit]
    return str(format_skeleton(skeleton, tick, locale=reader.language))
