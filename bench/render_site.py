"""The pages of the render-cost bench (bench/render_cost.py): a NoisySite whose pages are
of a real page's size, and whose every `js_every`-th page is a JavaScript application.

A real page is tens of kilobytes of markup around a few of text: a menu of a couple of
hundred links, a footer's site map, inline styles and icons. NoisySite's pages are 2 kB,
so each page here gets that ballast (about 60 kB, near the median HTML document's size)
around the same noisy article, and loads its stylesheet and script from the site as a
browser would. A JavaScript page is the shell such sites send (`<div id="root">` and a
module script): its script fetches `/data/N.json` and writes the article into the page,
so a plain fetch reads nothing and a browser reads the same text as the other pages.
"""

from __future__ import annotations

from monitor.replica.noisy_site import NoisySite, generated_page
from monitor.replica.server import Reply, Request

MENU_LINKS = 220
SITEMAP_LINKS = 260
_STYLE = "".join(f".c{i} {{ margin: {i % 7}px; color: #{i * 2654435761 % 0xFFFFFF:06x}; }}\n"
                 for i in range(400))
_ICON = ('<svg width="16" height="16" viewBox="0 0 16 16"><path d="M1 1h14v14H1z '
         'M3 3h10v10H3z"/></svg>')
_APP_JS = """(async () => {
  const n = location.pathname.split("/").pop();
  const page = await (await fetch(`/data/${n}.json`)).json();
  const root = document.getElementById("root");
  const article = document.createElement("article");
  const title = document.createElement("h1");
  title.textContent = page.title;
  article.append(title);
  for (const text of page.paragraphs) {
    const p = document.createElement("p");
    p.textContent = text;
    article.append(p);
  }
  root.append(article);
  document.title = page.title;
})();
"""


class RenderCostSite(NoisySite):
    """Pages 1..N at /page/N; every `js_every`-th one a JavaScript application."""

    def __init__(self, *, pages: int, js_every: int = 4, seed: int = 15) -> None:
        super().__init__(pages=pages, seed=seed)
        self.js_every = js_every

    def is_js(self, n: int) -> bool:
        return self.js_every > 0 and n % self.js_every == 0

    def handle(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if request.path.startswith("/static/site.css"):
            return Reply(200, _STYLE.encode(), "text/css")
        if request.path.startswith("/static/app.js"):
            return Reply(200, b"window.site = {ready: true};\n", "text/javascript")
        if request.path == "/static/spa.js":
            return Reply(200, _APP_JS.encode(), "text/javascript")
        number = int(parts[1].removesuffix(".json")) if len(parts) == 2 and \
            parts[1].removesuffix(".json").isdigit() else 0
        if parts[0] == "data" and 1 <= number <= self.pages:
            page = generated_page(self.seed, number)
            return Reply.json(200, {"title": page.title, "paragraphs": list(page.paragraphs)})
        if parts[0] == "page" and self.is_js(number) and number <= self.pages:
            return Reply.html(200, _shell())
        return super().handle(request)

    def _render(self, n: int, page):  # type: ignore[no-untyped-def]
        markup: str = super()._render(n, page)
        menu = "".join(f'<li><a href="/section/{i}">{_ICON} Section {i} of the agency</a></li>'
                       for i in range(MENU_LINKS))
        sitemap = "".join(f'<li><a href="/map/{i}">Service number {i}: how to apply</a></li>'
                          for i in range(SITEMAP_LINKS))
        markup = markup.replace("</head>", f"<style>{_STYLE}</style></head>", 1)
        markup = markup.replace("<main>", f'<nav class="menu"><ul>{menu}</ul></nav><main>', 1)
        return markup.replace("</footer>",
                              f'<ul class="sitemap">{sitemap}</ul></footer>', 1)


def _shell() -> str:
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>Example Agency</title><style>{_STYLE}</style>"
            '<script type="module" src="/static/spa.js"></script></head><body>'
            "<noscript>You need to enable JavaScript to run this app.</noscript>"
            '<div id="root"></div></body></html>')
