"""How names compare: `fold_name`, and `COMMON_WORDS`, the words a headline or a sentence
start capitalizes that are never names (in English, Italian, French and German).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["COMMON_WORDS", "fold_name"]


def _spaced(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Common words that a headline or a sentence start capitalizes, in en/it/fr/de: never names.
COMMON_WORDS = _spaced(
    # English
    "a an the and or but if of in on at to for from by with without into over under after"
    " before about against between as is are was were be been being has have had do does did"
    " will would can could should may might must shall it its this that these those there here"
    " what which who whom whose when where why how all any both each few more most other some"
    " such no nor not only own same so than too very just now new news also says said say"
    " update updated breaking exclusive report reports analysis opinion explainer live watch"
    " week weekly today yesterday tomorrow first last next one two three four five six seven"
    " eight nine ten year years month months day days time people government minister ministers"
    " law laws rules rule bill act court deal deals plan plans vote votes report company"
    " companies start-up startup firm group state states union data model models system systems"
    " via read more says how why our your we they he she his her their them us i you my"
    " large big small high low late early open free official final draft"
    # Italian
    " il lo la i gli le un uno una di da del dello della dei degli delle al allo alla ai agli"
    " alle dal dalla dai dalle nel nello nella nei negli nelle sul sulla sui sulle con per tra"
    " fra e ed o ma se che chi cui non piu anche come dove quando perche questo questa questi"
    " queste quello quella ecco ora oggi ieri domani nuovo nuova nuovi nuove secondo dopo prima"
    " sono e stato stata hanno ha era erano essere sara gia ancora tutto tutti tutte"
    " governo legge regole voto accordo societa azienda aziende modello modelli dati sistema"
    # French
    " le la les un une des du de d l au aux et ou mais si que qui quoi dont ne pas plus pour par"
    " avec sans sur sous dans chez entre vers ce cette ces cet son sa ses leur leurs il elle ils"
    " elles on nous vous est sont etait ete etre avoir a ont fait c'est apres avant selon aussi"
    " comme quand comment pourquoi tout tous toute toutes nouveau nouvelle nouveaux aujourd'hui"
    " hier demain loi regles vote accord societe entreprise modele modeles donnees systeme"
    # German
    " der die das den dem des ein eine einer einem einen eines und oder aber wenn dass ob nicht"
    " kein keine mit ohne fur von vom zu zum zur im in am an auf aus bei nach vor uber unter"
    " zwischen durch gegen seit bis ist sind war waren wird werden wurde hat haben hatte auch"
    " noch schon nur jetzt heute gestern morgen neue neuer neues neuen wie warum wann wo was"
    " wer dieser diese dieses es er sie wir ihr man sich so mehr erste ersten"
    # a Swiss or French canton (German nouns are capitalized), not Guangzhou's old name
    " kanton kantons canton cantons"
    # months and weekdays
    " january february march april may june july august september october november december"
    " gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre"
    " dicembre janvier fevrier mars avril mai juin juillet aout septembre octobre decembre"
    " januar februar marz juni juli oktober dezember"
    " monday tuesday wednesday thursday friday saturday sunday lunedi martedi mercoledi giovedi"
    " venerdi sabato domenica lundi mardi mercredi jeudi vendredi samedi dimanche montag"
    " dienstag mittwoch donnerstag freitag samstag sonntag"
    # the field's own vocabulary: every article of ours says it
    " ai ia ki eu ue europe europa european europeo europea europeen europeenne europaische"
    " europaischen europaisches artificial intelligence intelligenza artificiale intelligence"
    " kunstliche intelligenz tech big regulators regulator watchdog authority autorita"
    " autorite behorde article articolo artikel absatz paragraph journal official ufficiale"
    " officiel amtsblatt section cloud"
    " euro euros million millions billion billions milione milioni miliardo miliardi milliard"
    " milliards millionen milliarden dollar dollars dollari"
)


def fold_name(text: str) -> str:
    """Lower case, accents stripped, "’" as "'": how names are compared."""
    text = text.replace("’", "'")
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    # Only non-ASCII characters can be combining marks: test those, not every letter.
    return _NON_ASCII.sub(_drop_combining, decomposed).casefold()


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _drop_combining(match: re.Match[str]) -> str:
    run = match.group()
    return "".join(c for c in run if not unicodedata.combining(c))
