# ruff: noqa: RUF001  (Russian and Kazakh words, written in Cyrillic on purpose)
"""gov.kz-like article texts for the web bench: press releases of real size (300 to
1,500 words) in Russian, Kazakh or English, with the other languages' names and terms
mixed in as the portal's pages have them, and the edits a ministry makes to them.

Everything is drawn from a seeded `random.Random`, so a plan rebuilt from the same
seed gives the same texts (and the same hashes). The words are ours, written for this
bench; sampling them by a Zipf-like weight gives a realistic spread of common and rare
words, which is what full-text search and the diff care about.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from monitor.document import Document

RU = """
в и на по с о для года министерство юстиции республики казахстан рамках работы
заседание совещание вопросы граждан права человека развития системы государственных
услуг программы реализации проекта области города района министр заместитель
председатель комитета депутаты мажилиса сената парламента закона законопроекта
поправки изменения дополнения кодекса уголовно-исполнительной пенитенциарной
учреждений осужденных сотрудников органов внутренних дел прокуратуры суда судебной
практики обеспечения защиты интересов населения социальной поддержки образования
здравоохранения экономики инвестиций предприятий бюджета средств финансирования
тенге миллионов миллиардов процентов показателей итогам отчетного периода было
отмечено подчеркнул сообщил заявил рассказал обсудили рассмотрели приняли утвердили
направлены реализуются проводится состоялось прошло приняли участие представители
международных организаций ООН ОБСЕ делегации посольства сотрудничества партнерства
меморандум соглашение подписан стороны договорились дальнейшем укреплении
взаимодействия цифровизации электронного правительства портала egov обращений
заявлений жалоб рассмотрения сроков качества контроля мониторинга проверки
нарушений выявлено устранено ответственности мер профилактики безопасности
строительства жилья дорог инфраструктуры водоснабжения энергетики сельского
хозяйства агропромышленного комплекса фермеров субсидий кредитования малого
среднего бизнеса предпринимательства налогов таможенных пошлин экспорта импорта
товаров работ молодежи семьи детей пенсионеров инвалидов ветеранов культуры
спорта туризма экологии охраны окружающей среды лесов водных ресурсов климата
регионов акимата акима районного городского областного центра столицы Астаны
Алматы Шымкента Караганды Актобе Павлодара Костаная Атырау Усть-Каменогорска
также однако кроме того вместе с тем при этом в частности в том числе согласно
соответствии постановлением приказом указом Президента Правительства Премьер-министра
Касым-Жомарт Токаев Послании народу Казахстана поручения поручил обеспечить
необходимо следует важно отметить особое внимание уделено текущем году прошлом
году январе феврале марте апреле мае июне июле августе сентябре октябре ноябре
декабре конференции семинара круглого стола форума брифинга пресс-конференции
""".split()

KK = """
және мен үшін бойынша туралы жылы Қазақстан Республикасы әділет министрлігі
жұмыс жүргізілді өтті отырыс кеңес мәселелері азаматтардың құқықтары адам
дамыту жүйесі мемлекеттік қызметтер бағдарлама жобасы облысы қаласы ауданы
министр орынбасары төрағасы комитеті депутаттар Мәжіліс Сенат Парламент заң
жобасы түзетулер өзгерістер толықтырулар кодексі қылмыстық-атқару мекемелері
сотталғандар қызметкерлері ішкі істер органдары прокуратура сот тәжірибесі
қамтамасыз ету қорғау мүдделері халықтың әлеуметтік қолдау білім беру денсаулық
сақтау экономика инвестициялар кәсіпорындар бюджет қаражаты қаржыландыру теңге
миллион миллиард пайыз көрсеткіштері қорытындысы бойынша атап өтті айтты
мәлімдеді талқылады қарады қабылдады бекітті жүзеге асырылуда өткізілді
қатысты өкілдері халықаралық ұйымдар ынтымақтастық серіктестік меморандум
келісім қол қойылды тараптар келісті нығайту өзара іс-қимыл цифрландыру
электрондық үкімет порталы өтініштер шағымдар қарау мерзімдері сапасы бақылау
мониторинг тексеру бұзушылықтар анықталды жойылды жауапкершілік алдын алу
қауіпсіздік құрылыс тұрғын үй жолдар инфрақұрылым сумен жабдықтау энергетика
ауыл шаруашылығы агроөнеркәсіптік кешен фермерлер субсидиялар несиелеу шағын
орта бизнес кәсіпкерлік салықтар кедендік экспорт импорт тауарлар жастар
отбасы балалар зейнеткерлер мүгедектер ардагерлер мәдениет спорт туризм
экология қоршаған орта ормандар су ресурстары климат өңірлер әкімдігі әкімі
аудандық қалалық облыстық орталығы елорда Астана Алматы Шымкент Қарағанды
сондай-ақ алайда сонымен қатар атап айтқанда оның ішінде сәйкес қаулысы бұйрығы
Жарлығы Президенттің Үкіметтің Премьер-министрдің Қасым-Жомарт Тоқаев Жолдауында
тапсырмалары тапсырды қамтамасыз етуді қажет маңызды ерекше назар аударылды
биылғы жылы өткен жылы қаңтар ақпан наурыз сәуір мамыр маусым шілде тамыз
қыркүйек қазан қараша желтоқсан конференция семинар дөңгелек үстел форум брифинг
""".split()

EN = """
the of and to in for on with by ministry justice republic kazakhstan meeting
session issues citizens human rights development system public services program
implementation project region city district minister deputy chairman committee
deputies mazhilis senate parliament law draft amendments changes code penal
institutions convicts staff internal affairs bodies prosecutor court judicial
practice ensuring protection interests population social support education
health care economy investment enterprises budget funds financing tenge million
billion percent indicators results reporting period was noted stressed said
announced discussed considered adopted approved are being implemented held took
part representatives international organizations UN OSCE delegation embassy
cooperation partnership memorandum agreement signed parties agreed further
strengthening interaction digitalization electronic government portal appeals
applications complaints review terms quality control monitoring inspection
violations identified eliminated responsibility prevention measures safety
construction housing roads infrastructure water supply energy agriculture
farmers subsidies lending small medium business entrepreneurship taxes customs
export import goods youth family children pensioners persons with disabilities
veterans culture sport tourism ecology environment forests water resources
climate regions akimat akim capital Astana Almaty Shymkent also however in
addition at the same time in particular including according to resolution order
decree President Government Prime Minister Kassym-Jomart Tokayev Address to the
people instructions instructed ensure necessary important special attention
this year last year conference seminar round table forum briefing
""".split()

WORDS = {"ru": RU, "kk": KK, "en": EN}
LANGUAGES = ("ru", "ru", "ru", "kk", "kk", "en")  # gov.kz: mostly Russian, then Kazakh
# Names in every language's text: people, places, bodies, as the portal prints them.
SYLLABLES = "ка на ра ба да та ма са жан бек бай гуль нур ай ер хан тай мур сұл тан ас ел".split()
TITLES = {
    "ru": ("О {0} {1} в {2}", "Министр провел {0} по вопросам {1}", "Итоги {0}: {1} {2}",
           "В {0} обсудили {1} {2}"),
    "kk": ("{0} {1} туралы", "Министр {0} бойынша {1} өткізді", "{0} қорытындысы: {1} {2}",
           "{0} {1} талқыланды"),
    "en": ("On the {0} of {1} in {2}", "Minister held a {0} on {1}", "Results of {0}: {1} {2}",
           "{0} and {1} discussed in {2}"),
}
RARE_PHRASE = "смертная казнь"  # the issue's own example: which documents ever said it?


def _weights(n: int) -> list[float]:
    return [1.0 / (rank + 1) ** 0.9 for rank in range(n)]


_WEIGHTS = {lang: _weights(len(words)) for lang, words in WORDS.items()}


def name(rng: random.Random) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
    return word[:1].upper() + word[1:] + rng.choice(("ов", "ова", "ев", "ұлы", "қызы", "ин"))


def sentence(rng: random.Random, lang: str) -> str:
    words = rng.choices(WORDS[lang], _WEIGHTS[lang], k=rng.randint(8, 22))
    extra = rng.random()
    if extra < 0.25:
        words.insert(rng.randrange(len(words)), f"{rng.randint(2, 990)}")
    elif extra < 0.35:
        day, month = rng.randint(1, 28), rng.randint(1, 12)
        words.insert(rng.randrange(len(words)), f"{day:02d}.{month:02d}.2025")
    elif extra < 0.5:
        words.insert(rng.randrange(len(words)), name(rng))
    elif extra < 0.55:
        words.insert(rng.randrange(len(words)), rng.choice(WORDS[rng.choice(("ru", "kk", "en"))]))
    text = " ".join(words)
    if rng.random() < 0.2:
        cut = rng.randrange(3, len(words) - 2)
        text = " ".join(words[:cut]) + ", " + " ".join(words[cut:])
    return text[:1].upper() + text[1:] + "."


def paragraph(rng: random.Random, lang: str, words: int) -> str:
    out: list[str] = []
    count = 0
    while count < words:
        s = sentence(rng, lang)
        out.append(s)
        count += s.count(" ") + 1
    return " ".join(out)


def article(rng: random.Random, lang: str, words: int, *, rare: bool = False) -> Document:
    """A press release of about `words` words: a title, a date, paragraphs of 30 to 120."""
    pool = WORDS[lang]
    title = rng.choice(TITLES[lang]).format(*(rng.choice(pool[20:]) for _ in range(3)))
    paragraphs: list[str] = []
    left = words
    while left > 0:
        size = min(left, rng.randint(30, 120))
        paragraphs.append(paragraph(rng, lang, size))
        left -= size
    if rare:
        at = rng.randrange(len(paragraphs))
        paragraphs[at] += f" Вопрос об отмене нормы «{RARE_PHRASE}» был рассмотрен отдельно."
    date = f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return Document(title=title[:1].upper() + title[1:], published=date,
                    paragraphs=tuple(paragraphs))


# --- edits: what a ministry does to a published release --------------------------
EDITS = ("number", "word", "sentence", "paragraph_added", "paragraph_removed", "title",
         "date", "homoglyph", "typo")
_EDIT_WEIGHTS = (20, 25, 15, 10, 6, 5, 4, 3, 12)
HOMOGLYPHS = {"а": "a", "о": "o", "е": "e", "с": "c", "р": "p", "х": "x"}


@dataclass(frozen=True)
class Edited:
    document: Document
    kind: str


def edit(rng: random.Random, doc: Document, lang: str, kind: str | None = None) -> Edited:
    """One edit of `doc`, of a kind drawn with realistic odds (or the one given)."""
    kind = kind or rng.choices(EDITS, _EDIT_WEIGHTS)[0]
    paragraphs = list(doc.paragraphs)
    at = rng.randrange(len(paragraphs))
    words = paragraphs[at].split(" ")
    w = rng.randrange(len(words))
    if kind == "number":
        words.insert(w, str(rng.randint(2, 99_999)))
        paragraphs[at] = " ".join(words)
    elif kind == "word":
        words[w] = rng.choice(WORDS[lang])
        paragraphs[at] = " ".join(words)
    elif kind == "sentence":
        paragraphs[at] = paragraphs[at] + " " + sentence(rng, lang)
    elif kind == "paragraph_added":
        paragraphs.insert(at, paragraph(rng, lang, rng.randint(30, 90)))
    elif kind == "paragraph_removed" and len(paragraphs) > 2:
        del paragraphs[at]
    elif kind == "title":
        return Edited(replace(doc, title=(doc.title or "") + " " + rng.choice(WORDS[lang])), kind)
    elif kind == "date":
        day = int((doc.published or "2025-01-01")[-2:]) % 28 + 1
        return Edited(replace(doc, published=f"{(doc.published or '2025-01-01')[:8]}{day:02d}"),
                      kind)
    elif kind == "homoglyph":
        text = paragraphs[at]
        spots = [i for i, ch in enumerate(text) if ch in HOMOGLYPHS]
        if not spots:
            return edit(rng, doc, lang, "word")
        i = rng.choice(spots)
        paragraphs[at] = text[:i] + HOMOGLYPHS[text[i]] + text[i + 1:]
    else:  # a typo fixed: two letters swapped
        word = words[w]
        if len(word) < 4:
            return edit(rng, doc, lang, "word")
        words[w] = word[:1] + word[2] + word[1] + word[3:]
        paragraphs[at] = " ".join(words)
    return Edited(replace(doc, paragraphs=tuple(paragraphs)), kind)


def scattered_edits(rng: random.Random, doc: Document, lang: str, count: int) -> Document:
    """`count` one-word edits spread over the whole document (the long diff's second text)."""
    paragraphs = list(doc.paragraphs)
    step = max(1, len(paragraphs) // count)
    for n in range(count):
        at = min(len(paragraphs) - 1, n * step + rng.randrange(step))
        words = paragraphs[at].split(" ")
        w = rng.randrange(len(words))
        words[w] = str(rng.randint(2, 9999)) if n % 3 == 0 else rng.choice(WORDS[lang])
        paragraphs[at] = " ".join(words)
    return replace(doc, paragraphs=tuple(paragraphs))


def word_count(doc: Document) -> int:
    return sum(p.count(" ") + 1 for p in doc.paragraphs)
