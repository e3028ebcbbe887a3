"""Article pages in the shapes where main-content extraction lost text, written here.

Each shape is an article (blocks of paragraphs) in a site's page: navigation, a
sidebar and a footer around it. `render(shape, wrap=80)` hard-wraps the source lines
of every paragraph at 80 columns, inside <p>, <li>, <td> and <blockquote> alike:
the page a reader sees is the same. `truth(shape)` is the article's text, one
paragraph a line, as a corpus's `truth.txt` holds it.
"""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, replace

# A block: (kind, texts). Kinds: p, ol, ul, links (a list whose items are links),
# table (rows of cells joined by " | "), quote, contact (a closing block classed as
# the article's footer), h2.
Block = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Shape:
    name: str
    title: str
    blocks: tuple[Block, ...]
    layout: str = "wordpress"  # or "shop", "portal", "news", "story", "news-single"
    lead: str = ""  # a standfirst between the title and the body (news, story, news-single)

    def edited(self, block: int, item: int, old: str, new: str) -> Shape:
        """The same article with `old` replaced by `new` in one paragraph."""
        kind, texts = self.blocks[block]
        assert old in texts[item], (old, texts[item])
        changed = (*texts[:item], texts[item].replace(old, new, 1), *texts[item + 1:])
        blocks = (*self.blocks[:block], (kind, changed), *self.blocks[block + 1:])
        return replace(self, blocks=blocks)


_STEPS = tuple(
    f"Step {i}: the applicant brings form {i} to the {office} office, which checks the "
    f"documents within {days} working days and records its decision in the register."
    for i, (office, days) in enumerate(
        zip(["district", "regional", "tax", "land", "statistics", "customs", "labour",
             "health", "fire safety", "architecture", "ecology", "energy", "water",
             "transport", "city"], [5, 3, 7, 10, 2, 4, 6, 8, 9, 5, 3, 7, 2, 4, 6],
            strict=True), start=1))

LONG_LIST = Shape(
    "long-list", "Fifteen steps to register a small business",
    (("p", ("Registering a small business in the city takes fifteen steps, each of them "
            "handled by a different office of the local administration.",
            "The list below follows the order in which the offices expect the documents "
            "to arrive; skipping a step sends the application back to the start.")),
     ("ol", _STEPS),
     ("p", ("Questions about the procedure are answered at the public service centre.",))))

PRODUCTS = Shape(
    "product-list", "Prices of household appliances in March",
    (("p", ("The consumer protection agency compared the prices of household appliances "
            "in the five largest shops of the capital during March.",)),
     ("links", ("Electric kettle Vitek VT-7009, 1.7 l: 12 490 tenge",
                "Toaster Scarlett SC-TM11013, two slots: 18 900 tenge",
                "Blender Philips HR2600, 500 W: 24 300 tenge",
                "Hand mixer Bosch MFQ2210D: 31 000 tenge",
                "Microwave oven Samsung ME88SUG, 23 l: 52 990 tenge")),
     ("table", ("Shop | Average basket", "Technodom | 139 680 tenge",
                "Sulpak | 141 200 tenge", "Mechta | 137 950 tenge")),
     ("p", ("The agency will publish the April comparison in the first week of May.",))),
    layout="shop")

CONTACT = Shape(
    "contact", "Reception of citizens on Saturday",
    (("p", ("The akimat of the Yesil district holds a reception of citizens on Saturday, "
            "from ten in the morning until two in the afternoon.",
            "Questions about housing, utilities and social payments will be answered by "
            "the heads of the departments in person; no appointment is needed.")),
     ("quote", ("We want every resident to be heard without queues or paperwork, said "
                "the akim of the district when he announced the new format.",)),
     ("contact", ("Address: 12 Abay Avenue, office 305, Astana.",
                  "Phone: +7 7172 55 12 34, e-mail: reception@yesil.example.kz"))),
    layout="portal")

WRAPPED = Shape(
    "hard-wrapped", "Results of the public procurement review",
    (("p", ("The committee on public procurement has reviewed the complaints received "
            "during the third quarter and found that most of them concerned delays in "
            "payment by the regional offices.",
            "In forty-two cases the suppliers were paid after the deadline set in the "
            "contract, and in seven cases the payment was made only after a court order.")),
     ("ul", ("Regional offices must report every payment made later than ten working days "
             "after the acceptance of the goods to the committee within a week.",
             "Suppliers may file a complaint through the e-government portal, which sends "
             "it to the committee and to the office concerned at the same time.")),
     ("table", ("Region | Complaints received during the quarter, of which upheld by the "
                "committee after review: 12 of 31",
                "Akmola | Complaints about late payment for construction works and school "
                "meals, upheld after review: 4 of 9")),
     ("quote", ("Late payment is the most common reason small suppliers leave public "
                "procurement, and it is the easiest one to remove, the chairman said.",))))

_BUDGET = (("p", ("The budget commission met on Monday to review the draft of the city's "
                   "budget for the next three years, line by line.",
                   "Most of the new spending goes to the repair of schools and clinics; the "
                   "transport department's share falls for the second year running.",
                   "The draft goes to the city council in April, where the deputies can "
                   "still move money between the departments.")),
           ("p", ("Residents may send their proposals to the commission until 20 March.",)))
LEAD = Shape(
    "lead", "City budget for the next three years goes to the council",
    _BUDGET, layout="news",
    lead=("The commission approved the draft with two changes: more money for school "
          "repairs and less for new roads."))
LEAD_BESIDE = Shape(
    "lead-beside", "Draft city budget reviewed by the commission", _BUDGET, layout="story",
    lead=("Schools and clinics get most of the new money in the draft budget, which the "
          "commission sent to the council on Monday."))

LEAD_UNDER_H3 = Shape(
    "lead-under-h3", "Budget commission finishes its review", _BUDGET, layout="news-single",
    lead=("After three weeks of hearings the commission sent the draft budget to the "
          "council with two changes, both of them about schools."))

SHAPES = (LONG_LIST, PRODUCTS, CONTACT, WRAPPED, LEAD, LEAD_BESIDE, LEAD_UNDER_H3)


def truth(shape: Shape) -> list[str]:
    """The article's paragraphs as a reader reads them (a table row: its cells)."""
    lines = [shape.title, *([shape.lead] if shape.lead else [])]
    for kind, texts in shape.blocks:
        lines += [" ".join(t.split(" | ")) if kind == "table" else t for t in texts]
    return lines


def render(shape: Shape, *, wrap: int | None = None) -> str:
    body = "\n".join(_block(kind, texts, wrap) for kind, texts in shape.blocks)
    article = f'<h1 class="entry-title">{_text(shape.title, None)}</h1>\n{body}'
    title = f"<h1>{_text(shape.title, None)}</h1>"
    lead = f"<p>{_text(shape.lead, wrap)}</p>"
    if shape.layout == "news":  # the lead in the article's header, a byline above it
        main = (f'<main id="content"><article class="news-article"><header class="news-header">'
                f'{title}<p class="byline">By Aigerim Sadykova, 4 March 2025, 3 min read</p>'
                f'<div class="news-lead">{lead}</div>'
                '<p class="photo-credit">Photo by the press service of the city akimat, taken '
                'at the meeting of the commission</p></header>'
                f'<div class="news-body">{body}</div>'
                '<div class="share-buttons">Share: <a href="/s/fb">Facebook</a> '
                '<a href="/s/tg">Telegram</a></div></article></main>')
    elif shape.layout == "story":  # no <article>: the lead is a block beside the body, in a
        # wrapper named for the post's category, as blogs name them
        main = (f'<div class="story-wrapper">{title}<p class="story-meta">Published 4 March '
                f'2025, 10:15</p><section class="story category-city-news">'
                f'<div class="story-lead">{lead}</div>'
                f'<div class="story-content">{body}</div></section></div>')
    elif shape.layout == "news-single":  # no <h1>: the title is an <h3> above the lead
        main = (f'<div class="news news-single"><div class="article"><div class="header">'
                f'<h3>{_text(shape.title, None)}</h3></div><div class="news-info">04.03.2025 '
                'Social affairs Home</div><div class="row"><div class="col-sm-12">'
                f'<div class="teaser-text">{lead}</div></div></div>'
                f'<div class="news-text-wrap">{body}</div></div></div>')
    elif shape.layout == "shop":
        main = (f'<main class="catalog"><article class="news-item">{article}</article>'
                '<div class="recommended"><h3>You may also like</h3><ul>'
                '<li><a href="/p/1">Iron Tefal FV1711</a></li>'
                '<li><a href="/p/2">Vacuum cleaner LG VK76A02NTL</a></li></ul></div></main>')
    elif shape.layout == "portal":
        main = (f'<div class="container"><div class="content-block"><article>{article}'
                '</article></div><div class="right-col"><h3>Announcements</h3>'
                '<p><a href="/a/1">Water supply works on Kenesary street</a></p></div></div>')
    else:
        main = (f'<div id="primary"><main id="main"><article class="post type-post">'
                f'<header class="entry-header"><p class="posted-on">Posted on '
                f'<time datetime="2025-03-04">4 March 2025</time></p></header>'
                f'<div class="entry-content">{article}</div>'
                '<footer class="entry-footer">Categories: <a href="/c/news">News</a></footer>'
                '</article></main></div>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(shape.title)} | City news</title>"
        '<meta property="article:published_time" content="2025-03-04"></head>\n<body>'
        '<header class="site-header"><a class="logo" href="/">City news</a><nav><ul>'
        '<li><a href="/news">News</a></li><li><a href="/services">Services</a></li>'
        '<li><a href="/contacts">Contacts</a></li></ul></nav></header>\n'
        f"{main}\n"
        '<aside class="sidebar"><h3>Archive</h3><ul><li><a href="/2025/02">February 2025'
        '</a></li><li><a href="/2025/01">January 2025</a></li></ul></aside>\n'
        '<footer class="site-footer"><p>© 2025 City news. All rights reserved.</p>'
        '<p><a href="/privacy">Privacy policy</a></p></footer>\n</body></html>\n')


def _block(kind: str, texts: tuple[str, ...], wrap: int | None) -> str:
    if kind == "p":
        return "\n".join(f"<p>{_text(t, wrap)}</p>" for t in texts)
    if kind == "h2":
        return "\n".join(f"<h2>{_text(t, wrap)}</h2>" for t in texts)
    if kind in ("ol", "ul"):
        items = "\n".join(f"<li>{_text(t, wrap)}</li>" for t in texts)
        return f"<{kind}>\n{items}\n</{kind}>"
    if kind == "links":
        items = "\n".join(f'<li class="product"><a href="/product/{i}">{_text(t, wrap)}</a></li>'
                          for i, t in enumerate(texts))
        return f'<ul class="products">\n{items}\n</ul>'
    if kind == "table":
        rows = "\n".join("<tr>" + "".join(f"<td>{_text(c, wrap)}</td>" for c in t.split(" | "))
                         + "</tr>" for t in texts)
        return f"<table>\n{rows}\n</table>"
    if kind == "quote":
        return "\n".join(f"<blockquote>{_text(t, wrap)}</blockquote>" for t in texts)
    if kind == "contact":
        inner = "\n".join(f"<p>{_text(t, wrap)}</p>" for t in texts)
        return f'<div class="article-footer contacts-bottom">\n{inner}\n</div>'
    raise ValueError(kind)


def _text(text: str, wrap: int | None) -> str:
    escaped = html.escape(text, quote=False)
    return "\n".join(textwrap.wrap(escaped, wrap)) if wrap else escaped
