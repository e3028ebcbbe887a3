"""HTML that the gov.kz replica serves: the JavaScript shell, a pre-rendered article,
the block (CAPTCHA) page. Every page carries per-load noise."""

from __future__ import annotations

import html
from datetime import datetime

from monitor.replica.articles import Article
from monitor.replica.noise import Noise

_MONTHS = {
    "ru": (
        "января", "февраля", "марта", "апреля", "мая", "июня",
        "июля", "августа", "сентября", "октября", "ноября", "декабря",
    ),
    "kk": (
        "қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым",
        "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip

_WORDS = {
    "ru": {"views": "Просмотры", "related": "Другие новости", "home": "Главная",
           "news": "Новости", "now": "Сейчас",
           "tags": ("Пресс-служба", "Новости", "События", "Права человека", "Дипломатия")},
    "kk": {"views": "Қаралым", "related": "Басқа жаңалықтар", "home": "Басты бет",
           "news": "Жаңалықтар", "now": "Қазір",
           "tags": ("Баспасөз қызметі", "Жаңалықтар", "Оқиғалар", "Адам құқықтары", "Дипломатия")},
    "en": {"views": "Views", "related": "Other news", "home": "Home",
           "news": "News", "now": "Now",
           "tags": ("Press service", "News", "Events", "Human rights", "Diplomacy")},
}  # fmt: skip

_FILLER_HEADLINES = (
    "Briefing of the official representative",
    "Meeting with the delegation",
    "Results of the working visit",
    "Consultations held in Astana",
    "Statement on the anniversary",
    "Online reception of citizens",
)

SHELL_TITLE = "Unified platform of internet resources of government agencies"


def date_line(created: datetime, lang: str) -> str:
    """«14 июля 2026 11:58», in the page's language."""
    month = _MONTHS.get(lang, _MONTHS["en"])[created.month - 1]
    return f"{created.day} {month} {created.year} {created:%H:%M}"


def _head(title: str, noise: Noise, lang: str, extra: str = "") -> str:
    token = noise.token()
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        f'<meta name="csrf-token" content="{token}">{extra}'
        f'<link rel="stylesheet" href="/static/css/main.css?v={noise.asset_version()}">'
        f'<script>window.__CSRF_TOKEN__ = "{token}"; window.__RENDERED_AT__ = '
        f'"{noise.timestamp()}";</script></head>'
    )


def _tail(noise: Noise) -> str:
    return f'<script src="/static/js/app.js?v={noise.asset_version()}"></script></body></html>'


def shell_page(lang: str, noise: Noise) -> str:
    """What gov.kz really serves for an article URL: no article text at all."""
    return (
        _head(SHELL_TITLE, noise, lang)
        + "<body><noscript>You need to enable JavaScript to run this app.</noscript>"
        + '<div id="root"></div>'
        + _tail(noise)
    )


def article_page(article: Article, noise: Noise, related: list[str]) -> str:
    """A pre-rendered article: title, date line, body, and noise around and inside it."""
    words = _WORDS.get(article.lang, _WORDS["en"])
    title = html.escape(article.title)
    og = f'<meta property="og:title" content="{title}">'
    headlines = noise.sample(list(related) + list(_FILLER_HEADLINES), 4)
    related_items = "".join(
        f'<li><a href="/news/{i}">{html.escape(h)}</a></li>' for i, h in enumerate(headlines)
    )
    chips = "".join(
        f'<a class="tag-chip" href="/tags/{i}">{html.escape(t)}</a>'
        for i, t in enumerate(noise.shuffled(words["tags"]))
    )
    views = noise.views(f"{article.article_id}/{article.lang}")
    return (
        _head(f"{article.title} | gov.kz", noise, article.lang, og)
        + '<body><header class="site-header"><nav>'
        + f'<a href="/">{words["home"]}</a> <a href="/news">{words["news"]}</a></nav>'
        + f'<span class="server-time">{words["now"]}: {noise.clock()}</span></header>'
        + '<main><article class="news-article">'
        + f'<h1 class="news-title">{title}</h1>'
        + '<div class="news-meta">'
        + f'<span class="news-date">{date_line(article.created, article.lang)}</span> '
        + f'<span class="news-views">{words["views"]}: {views}</span></div>'
        + f'<div class="news-body">{article.body_html}</div>'
        + f'<div class="news-tags">{chips}</div></article>'
        + f'<aside class="related-news"><h2>{words["related"]}</h2><ul>{related_items}</ul>'
        + "</aside></main>"
        + f'<footer class="site-footer">© gov.kz <span class="render-id">{noise.token()}</span>'
        + "</footer>"
        + _tail(noise)
    )


# What the portal shows for an address it has no page for, per language.
NOT_FOUND_TEXT = {
    "ru": ("Страница не найдена", "Вернуться на главную"),
    "kk": ("Бет табылмады", "Басты бетке оралу"),
    "en": ("Page not found", "Back to the home page"),
}


def not_found_page(lang: str, noise: Noise) -> str:
    said, back = NOT_FOUND_TEXT.get(lang, NOT_FOUND_TEXT["ru"])
    return (
        _head(f"404 | {said} | gov.kz", noise, lang)
        + f'<body><h1>404</h1><p>{said}</p><p><a href="/?lang={lang}">{back}</a></p>'
        + _tail(noise)
    )


def block_page(noise: Noise) -> str:
    """What a web application firewall answers instead of JSON."""
    return (
        _head("Access denied | Checking your browser", noise, "en")
        + '<body><div class="captcha-box"><h1>Checking your browser…</h1>'
        + "<p>Please confirm that you are not a robot.</p>"
        + '<form method="post" action="/captcha"><input type="hidden" name="t" '
        + f'value="{noise.token()}"><div class="g-recaptcha"></div>'
        + '<button type="submit">Continue</button></form></div>'
        + _tail(noise)
    )
