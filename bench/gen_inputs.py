"""Deterministic benchmark inputs: canonical invoice JSON with non-Latin text.

    python bench/gen_inputs.py --out DIR [--count N] [--lines N] [--seed S]

Each invoice comes from ``random.Random(seed * 1_000_003 + index)``, so the
same arguments always give byte-identical files. Names, addresses and item
descriptions are Greek, Cyrillic (Russian, Bulgarian), Polish and Danish:
scripts that DejaVu Sans covers (no CJK: DejaVu has none). Amounts are
decimal strings, as the canonical format prefers.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import date, timedelta
from pathlib import Path

__all__ = ["make_invoice", "write_batch"]

# (currency, seller names, buyer names, cities/addresses, item words, units)
_LANGS = {
    "el": {
        "currency": "EUR",
        "names": ["Γιώργος Παπαδόπουλος", "Ελένη Κωνσταντίνου", "Νίκος Αθανασίου", "Μαρία Δημητρίου"],
        "companies": ["Αθηναϊκή Εμπορική Α.Ε.", "Ολυμπιακές Προμήθειες Ε.Π.Ε.", "Αιγαίο Logistics Ο.Ε."],
        "streets": ["Οδός Ερμού 25", "Λεωφόρος Συγγρού 112", "Πλατεία Συντάγματος 3", "Οδός Αιόλου 48"],
        "cities": ["10563 Αθήνα", "54624 Θεσσαλονίκη", "26221 Πάτρα", "71201 Ηράκλειο"],
        "country": "Ελλάδα",
        "items": [
            "Ελαιόλαδο εξαιρετικό παρθένο",
            "Φέτα ΠΟΠ",
            "Μέλι θυμαρίσιο",
            "Ρίγανη βουνού",
            "Κρασί Αγιωργίτικο",
            "Ελιές Καλαμών",
            "Τσάι του βουνού",
            "Παστέλι με σουσάμι",
        ],
        "packs": ["συσκευασία 12 τεμαχίων", "κιβώτιο 6 φιαλών", "δοχείο 5 λίτρων", "σακούλα 500 γρ."],
        "units": ["τεμ.", "κιβ.", "λτ.", "κιλό"],
    },
    "ru": {
        "currency": "RUB",
        "names": ["Иван Петров", "Ольга Смирнова", "Дмитрий Кузнецов", "Анна Соколова"],
        "companies": ["ООО «Северный ветер»", "АО «Уральские самоцветы»", "ИП Волков"],
        "streets": ["ул. Тверская, д. 12", "Невский проспект, д. 28", "ул. Ленина, д. 5, кв. 17"],
        "cities": ["125009 Москва", "191186 Санкт-Петербург", "620014 Екатеринбург", "630099 Новосибирск"],
        "country": "Россия",
        "items": [
            "Чай чёрный байховый",
            "Мёд гречишный",
            "Варенье из морошки",
            "Пряники тульские",
            "Икра лососёвая",
            "Сгущёнка",
            "Квас хлебный",
            "Грибы белые сушёные",
        ],
        "packs": ["упаковка 20 пакетиков", "банка 500 г", "коробка 12 шт.", "бутылка 1,5 л"],
        "units": ["шт.", "кор.", "кг", "л"],
    },
    "bg": {
        "currency": "BGN",
        "names": ["Георги Иванов", "Мария Петрова", "Стоян Димитров", "Елена Николова"],
        "companies": ["Балкан Трейд ЕООД", "Родопи Фуудс АД", "Черно море ООД"],
        "streets": ["бул. Витоша 45", "ул. Граф Игнатиев 7", "бул. Христо Ботев 88"],
        "cities": ["1000 София", "4000 Пловдив", "9000 Варна", "8000 Бургас"],
        "country": "България",
        "items": [
            "Розово масло",
            "Кисело мляко",
            "Лютеница домашна",
            "Сирене краве",
            "Боза",
            "Шарена сол",
            "Мед от липа",
            "Ракия гроздова",
        ],
        "packs": ["кашон 10 бр.", "буркан 680 г", "бутилка 700 мл", "пакет 1 кг"],
        "units": ["бр.", "каш.", "кг", "л"],
    },
    "pl": {
        "currency": "PLN",
        "names": ["Łukasz Żółkiewski", "Małgorzata Wąsowska", "Paweł Chrzęszczyk", "Zofia Ślązak"],
        "companies": [
            "Przedsiębiorstwo Handlowe „Źródło” Sp. z o.o.",
            "Łódzkie Zakłady Dziewiarskie S.A.",
            "Gdańska Spółdzielnia Mleczarska",
        ],
        "streets": ["ul. Żeromskiego 14/3", "al. Jerozolimskie 123", "ul. Świętokrzyska 30", "pl. Grunwaldzki 8"],
        "cities": ["90-001 Łódź", "00-950 Warszawa", "80-831 Gdańsk", "30-001 Kraków"],
        "country": "Polska",
        "items": [
            "Pierogi ruskie mrożone",
            "Kiełbasa żywiecka",
            "Ogórki kiszone",
            "Miód gryczany",
            "Żubrówka 0,7 l",
            "Oscypek wędzony",
            "Pączki z różą",
            "Śliwowica łącka",
        ],
        "packs": ["opakowanie 12 szt.", "skrzynka 6 butelek", "słoik 900 ml", "karton 24 szt."],
        "units": ["szt.", "kg", "op.", "skrz."],
    },
    "da": {
        "currency": "DKK",
        "names": ["Søren Ølstad", "Åse Jørgensen", "Bjørn Kærgaard", "Mette Fæstø"],
        "companies": ["Østergaard & Søn ApS", "Ærøskøbing Købmandsgård A/S", "Nørrebro Kaffe I/S"],
        "streets": ["Strøget 42, 2. sal", "Nørregade 7", "Åboulevarden 18", "Kærvej 3"],
        "cities": ["1160 København K", "8000 Aarhus C", "5000 Odense C", "9000 Aalborg"],
        "country": "Danmark",
        "items": [
            "Rødgrød med fløde",
            "Smørrebrød-sæt",
            "Æbleskiver frosne",
            "Rugbrød økologisk",
            "Kaffe, mørkristet",
            "Lakrids, salt",
            "Øl fra Fanø",
            "Flæskesvær",
        ],
        "packs": ["kasse med 12 stk.", "pose à 500 g", "flaske 0,75 l", "æske med 24 stk."],
        "units": ["stk.", "ks.", "kg", "fl."],
    },
}
_ORDER = ("el", "ru", "bg", "pl", "da")
_RATES = {
    "EUR": ["24", "13", "6"],
    "RUB": ["20", "10"],
    "BGN": ["20", "9"],
    "PLN": ["23", "8", "5"],
    "DKK": ["25", "0"],
}


def _party(rng: random.Random, lang: dict, *, company: bool) -> dict:
    party = {
        "name": rng.choice(lang["names"]),
        "address": f"{rng.choice(lang['streets'])}\n{rng.choice(lang['cities'])}\n{lang['country']}",
        "phone": f"+{rng.randint(30, 48)} {rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        "email": f"billing{rng.randint(1, 999)}@example.com",
        "vat_id": f"EU{rng.randint(10**8, 10**9 - 1)}",
    }
    if company:
        party["company"] = rng.choice(lang["companies"])
    return party


def make_invoice(index: int, n_lines: int = 5, seed: int = 1) -> dict:
    """One canonical invoice document (a dict ready for ``json.dumps``).

    ``index`` picks the language (Greek, Russian, Bulgarian, Polish, Danish in
    turn) and seeds the text; ``n_lines`` is the number of item lines.
    """
    rng = random.Random(seed * 1_000_003 + index)
    lang = _LANGS[_ORDER[index % len(_ORDER)]]
    currency = lang["currency"]
    issue = date(2026, 1, 1) + timedelta(days=rng.randint(0, 300))
    lines = []
    for i in range(n_lines):
        desc = f"{rng.choice(lang['items'])}, {rng.choice(lang['packs'])}"
        if i % 7 == 3:  # now and then a description long enough to wrap
            desc += " — " + ", ".join(rng.sample(lang["items"], 4))
        lines.append(
            {
                "description": desc,
                "quantity": str(rng.randint(1, 40)),
                "unit": rng.choice(lang["units"]),
                "unit_price": f"{rng.randint(50, 250_00) / 100:.2f}",
                "tax_rate": rng.choice(_RATES[currency]),
            }
        )
    doc = {
        "invoice_number": f"BENCH-{seed}-{index:05d}",
        "issue_date": issue.isoformat(),
        "due_date": (issue + timedelta(days=30)).isoformat(),
        "currency": currency,
        "seller": _party(rng, lang, company=False),
        "buyer": _party(rng, lang, company=True),
        "lines": lines,
        "payment_terms": f"{rng.choice(lang['items'])} — 30 / IBAN DK50 0040 0440 1162 43",
        "notes": "Thank you for your business.",
    }
    if index % 2 == 0:
        doc["ship_to"] = _party(rng, lang, company=True)
    return doc


def write_batch(out: Path, count: int, n_lines: int = 5, seed: int = 1, prefix: str = "inv") -> list[Path]:
    """Write ``count`` invoices of ``n_lines`` lines into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = out / f"{prefix}-{n_lines}-{index:05d}.json"
        text = json.dumps(make_invoice(index, n_lines, seed), ensure_ascii=False, indent=1)
        if not path.exists() or path.read_text("utf-8") != text:
            path.write_text(text, "utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    for path in write_batch(args.out, args.count, args.lines, args.seed):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
