"""Finland's municipalities: the one canonical list, and how typed names map onto it.

Each municipality is known by its primary name (Swedish for the Swedish-speaking and
bilingual ones, Finnish for the others); that name is its canonical id. Lookup is
case-, whitespace- and language-insensitive: "Helsinki" and " helsingfors " are both
Helsingfors. A name outside the list is an organisation; it is normalised the same
way, so "ACME  Oy" and "acme oy" count as one.
Language status as set by the Council of State for 2023-2032; check it when that changes.
"""

import difflib
import unicodedata
from dataclasses import dataclass
from functools import cache

_SWEDISH = """
Brändö, Eckerö, Finström, Föglö, Geta, Hammarland, Ingå|Inkoo, Jakobstad|Pietarsaari, Jomala
Kimitoön|Kemiönsaari, Korsholm|Mustasaari, Korsnäs, Kristinestad|Kristiinankaupunki
Kronoby|Kruunupyy, Kumlinge, Kökar, Larsmo|Luoto, Lemland, Lumparland, Malax|Maalahti
Mariehamn|Maarianhamina, Nykarleby|Uusikaarlepyy, Närpes|Närpiö, Pargas|Parainen
Pedersöre|Pedersören kunta, Raseborg|Raasepori, Saltvik, Sottunga, Sund, Vårdö, Vörå|Vöyri
"""

_BILINGUAL = """
Borgå|Porvoo, Esbo|Espoo, Grankulla|Kauniainen, Hangö|Hanko, Helsingfors|Helsinki
Karleby|Kokkola, Kaskö|Kaskinen, Kyrkslätt|Kirkkonummi, Lappträsk|Lapinjärvi, Lojo|Lohja
Lovisa|Loviisa, Mörskom|Myrskylä, Pyttis|Pyhtää, Sibbo|Sipoo, Sjundeå|Siuntio, Vanda|Vantaa
Vasa|Vaasa, Åbo|Turku
"""

_FINNISH = """
Akaa, Alajärvi, Alavieska, Alavus, Asikkala, Askola, Aura, Enonkoski, Enontekiö, Eura, Eurajoki
Evijärvi, Forssa, Haapajärvi, Haapavesi, Hailuoto, Halsua, Hamina|Fredrikshamn, Hankasalmi
Harjavalta, Hartola, Hattula, Hausjärvi, Heinola, Heinävesi, Hirvensalmi, Hollola, Huittinen
Humppila, Hyrynsalmi, Hyvinkää|Hyvinge, Hämeenkyrö, Hämeenlinna|Tavastehus, Ii
Iisalmi|Idensalmi, Iitti, Ikaalinen, Ilmajoki, Ilomantsi, Imatra, Inari|Enare, Isojoki|Storå
Isokyrö|Storkyro, Janakkala, Joensuu, Jokioinen|Jockis, Joroinen|Jorois, Joutsa, Juuka
Juupajoki, Juva, Jyväskylä, Jämijärvi, Jämsä, Järvenpää|Träskända, Kaarina|S:t Karins, Kaavi
Kajaani|Kajana, Kalajoki, Kangasala, Kangasniemi, Kankaanpää, Kannonkoski, Kannus
Karijoki|Bötom, Karkkila|Högfors, Karstula, Karvia, Kauhajoki, Kauhava, Kaustinen|Kaustby
Keitele, Kemi, Kemijärvi, Keminmaa, Kempele, Kerava|Kervo, Keuruu, Kihniö, Kinnula, Kitee
Kittilä, Kiuruvesi, Kivijärvi, Kokemäki|Kumo, Kolari, Konnevesi, Kontiolahti, Koski Tl, Kotka
Kouvola, Kuhmo, Kuhmoinen, Kuopio, Kuortane, Kurikka, Kustavi|Gustavs, Kuusamo, Kyyjärvi
Kärkölä, Kärsämäki, Lahti|Lahtis, Laihia|Laihela, Laitila|Letala, Lapinlahti, Lappajärvi
Lappeenranta|Villmanstrand, Lapua|Lappo, Laukaa, Lemi, Lempäälä, Leppävirta, Lestijärvi, Lieksa
Lieto|Lundo, Liminka|Limingo, Liperi, Loimaa, Loppi, Luhanka, Lumijoki, Luumäki, Marttila, Masku
Merijärvi, Merikarvia|Sastmola, Miehikkälä, Mikkeli|S:t Michel, Muhos, Multia, Muonio, Muurame
Mynämäki|Virmo, Mäntsälä, Mänttä-Vilppula, Mäntyharju, Naantali|Nådendal, Nakkila, Nivala, Nokia
Nousiainen|Nousis, Nurmes, Nurmijärvi, Orimattila, Oripää, Orivesi, Oulainen, Oulu|Uleåborg
Outokumpu, Padasjoki, Paimio|Pemar, Paltamo, Parikkala, Parkano, Pelkosenniemi, Pello, Perho
Pertunmaa, Petäjävesi, Pieksämäki, Pielavesi, Pihtipudas, Pirkkala|Birkala, Polvijärvi
Pomarkku|Påmark, Pori|Björneborg, Pornainen|Borgnäs, Posio, Pudasjärvi, Pukkila, Punkalaidun
Puolanka, Puumala, Pyhäjoki, Pyhäjärvi, Pyhäntä, Pyhäranta, Pälkäne, Pöytyä, Raahe|Brahestad
Raisio|Reso, Rantasalmi, Ranua, Rauma|Raumo, Rautalampi, Rautavaara, Rautjärvi, Reisjärvi
Riihimäki, Ristijärvi, Rovaniemi, Ruokolahti, Ruovesi, Rusko, Rääkkylä, Saarijärvi, Salla, Salo
Sastamala, Sauvo|Sagu, Savitaipale, Savonlinna|Nyslott, Savukoski, Seinäjoki, Sievi, Siikainen
Siikajoki, Siikalatva, Siilinjärvi, Simo, Sodankylä, Soini, Somero, Sonkajärvi, Sotkamo, Sulkava
Suomussalmi, Suonenjoki, Sysmä, Säkylä, Taipalsaari, Taivalkoski, Taivassalo|Tövsala, Tammela
Tampere|Tammerfors, Tervo, Tervola, Teuva|Östermark, Tohmajärvi, Toholampi, Toivakka
Tornio|Torneå, Tuusniemi, Tuusula|Tusby, Tyrnävä, Ulvila|Ulvsby, Urjala, Utajärvi, Utsjoki
Uurainen, Uusikaupunki|Nystad, Vaala, Valkeakoski, Varkaus, Vehmaa, Vesanto, Vesilahti
Veteli|Vetil, Vieremä, Vihti|Vichtis, Viitasaari, Vimpeli, Virolahti, Virrat
Ylitornio|Övertorneå, Ylivieska, Ylöjärvi, Ypäjä, Ähtäri, Äänekoski
"""


@dataclass(frozen=True)
class Municipality:
    id: str
    sv: str
    fi: str
    group: str  # "swedish", "bilingual" or "finnish"

    def name(self, lang: str) -> str:
        return self.fi if lang == "fi" else self.sv


def _entries(group: str, text: str) -> list[Municipality]:
    found = []
    for item in text.replace("\n", ",").split(","):
        if not item.strip():
            continue
        primary, _, other = item.strip().partition("|")
        other = other or primary
        sv, fi = (other, primary) if group == "finnish" else (primary, other)
        found.append(Municipality(primary, sv, fi, group))
    return found


MUNICIPALITIES: tuple[Municipality, ...] = tuple(
    _entries("swedish", _SWEDISH) + _entries("bilingual", _BILINGUAL)
    + _entries("finnish", _FINNISH))


def fold(text: str) -> str:
    """The comparison form of a name: NFC, collapsed whitespace, case-folded."""
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def tidy(text: str) -> str:
    """A name as shown: NFC, whitespace collapsed, case as typed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


@cache
def _index() -> dict[str, Municipality]:
    index: dict[str, Municipality] = {}
    for m in MUNICIPALITIES:
        index.setdefault(fold(m.sv), m)
        index.setdefault(fold(m.fi), m)
    return index


def lookup(text: str) -> Municipality | None:
    """The listed municipality ``text`` names (either language, any case), if any."""
    return _index().get(fold(text))


def canonical_name(text: str) -> str:
    """The primary name of a listed municipality, or the tidied text of an organisation."""
    found = lookup(text)
    return found.id if found is not None else tidy(text)


def municipality_id(text: str) -> str:
    """What counting municipalities compares: the listed id, or the folded organisation."""
    found = lookup(text)
    return found.id if found is not None else "org:" + fold(text)


def display_name(text: str, lang: str) -> str:
    """The name in the viewer's language (organisations as given)."""
    found = lookup(text)
    return found.name(lang) if found is not None else tidy(text)


def closest(text: str, n: int = 3) -> list[str]:
    """Up to ``n`` listed municipalities whose names look like ``text``."""
    names = {fold(m.sv): m.id for m in MUNICIPALITIES} | {fold(m.fi): m.id
                                                         for m in MUNICIPALITIES}
    hits = difflib.get_close_matches(fold(text), list(names), n=n * 2, cutoff=0.6)
    ids: list[str] = []
    for hit in hits:
        if names[hit] not in ids:
            ids.append(names[hit])
    return ids[:n]
