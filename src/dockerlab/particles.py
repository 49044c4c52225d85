"""Korean particles that agree with a measured value: "1.81MB가", "119MB로", "36%와", "12,288바이트를".

A page writes a particle after a glued value (``{glue:text}`size`로``) without knowing the value: the build
measures it. Whether the particle takes its consonant form (이, 은, 을, 과, 으로, 이나, 이었) or its vowel form
(가, 는, 를, 와, 로, 나, 였) depends on how the value is *read*: ``1.81MB`` is 일 점 팔일 메가바이트 and ends in
a vowel; ``36`` is 삼십육 and ends in ㄱ; ``120`` is 백이십 and ends in ㅂ; a syllable ending in ㄹ takes 로, like
a vowel. :func:`agree` gives the particle that agrees; ``dockerlab.sphinxext`` applies it to the text that follows
every glued value when the site is rendered, so the prose reads right whatever the build measured.

>>> agree("1.81MB", "이"), agree("119MB", "으로"), agree("36", "와"), agree("120", "를"), agree("7", "으로")
('가', '로', '과', '을', '로')
"""

from __future__ import annotations

import re
from enum import Enum


class Ending(Enum):
    """How the reading of a value ends."""

    VOWEL = "vowel"
    RIEUL = "rieul"  # ㄹ: consonant forms, except 로
    CONSONANT = "consonant"


#: Each particle as (after a consonant, after a vowel).
PAIRS = (("이었", "였"), ("으로", "로"), ("이나", "나"), ("이", "가"), ("은", "는"), ("을", "를"), ("과", "와"))
#: Units written right after a number, by how their reading ends (% is 퍼센트, 배 is 배, ...).
UNITS = {"%p": Ending.VOWEL, "%": Ending.VOWEL, "배": Ending.VOWEL, "초": Ending.VOWEL, "개": Ending.VOWEL,
         "바이트": Ending.VOWEL, "분": Ending.CONSONANT, "줄": Ending.RIEUL, "번": Ending.CONSONANT,
         "층": Ending.CONSONANT}
#: Size units, read as 바이트, 킬로바이트, 메가바이트, 키비바이트, ...: all end in a vowel.
_SIZE_UNIT = re.compile(r"(?:[kKMGTP]i?)?B$")
#: How each digit is read alone (after a decimal point): 영 일 이 삼 사 오 육 칠 팔 구.
_DIGIT = {"0": Ending.CONSONANT, "1": Ending.RIEUL, "2": Ending.VOWEL, "3": Ending.CONSONANT, "4": Ending.VOWEL,
          "5": Ending.VOWEL, "6": Ending.CONSONANT, "7": Ending.RIEUL, "8": Ending.RIEUL, "9": Ending.VOWEL}
_NUMBER = re.compile(r"(\d[\d,]*)(?:\.(\d+))?$")


def ending(text: str) -> Ending | None:
    """How the reading of ``text`` ends, or ``None`` when this cannot tell (e.g. an English word).

    >>> [ending(t).value for t in ("1.81MB", "36", "120", "1,000", "2.40", "메가바이트", "이미지", "길")]
    ['vowel', 'consonant', 'consonant', 'consonant', 'consonant', 'vowel', 'vowel', 'rieul']
    >>> ending("debian:bookworm") is None
    True
    """
    text = text.rstrip()
    if not text:
        return None
    last = text[-1]
    if "\uac00" <= last <= "\ud7a3":
        final = (ord(last) - 0xAC00) % 28
        return Ending.VOWEL if final == 0 else Ending.RIEUL if final == 8 else Ending.CONSONANT
    size = _SIZE_UNIT.search(text)
    if size and _NUMBER.search(text[: size.start()].rstrip()):
        return Ending.VOWEL
    for unit, sound in UNITS.items():
        if text.endswith(unit) and _NUMBER.search(text[: -len(unit)].rstrip()):
            return sound
    match = _NUMBER.search(text)
    if not match:
        return None
    whole, decimals = match.group(1).replace(",", ""), match.group(2)
    if decimals:
        return _DIGIT[decimals[-1]]
    if not whole.endswith("0") or whole.strip("0") == "":
        return _DIGIT[whole[-1]]
    # A whole number ending in zeros ends on its last spoken place: 십, 백, 천, 만, 억, 조 all end in a consonant.
    return Ending.CONSONANT


def agree(value: str, particle: str) -> str:
    """The form of ``particle`` (either form may be given) that agrees with ``value``; ``particle`` itself when
    the value's reading cannot be told or the particle is not one of :data:`PAIRS`.

    >>> agree("97.1MB", "이"), agree("15.1MB", "으로"), agree("45.4MB", "과"), agree("16", "로"), agree("8", "으로")
    ('가', '로', '와', '으로', '로')
    >>> agree("36", "였"), agree("35.5초", "이었"), agree("bookworm", "은")
    ('이었', '였', '은')
    """
    sound = ending(value)
    if sound is None:
        return particle
    for consonant, vowel in PAIRS:
        if particle in (consonant, vowel):
            if consonant == "으로":
                return "으로" if sound is Ending.CONSONANT else "로"
            return vowel if sound is Ending.VOWEL else consonant
    return particle


#: A particle at the start of the text after a value: a unit may come first ("36%와"); the particle must end the
#: word (a space, punctuation or the end), or be followed by the endings that may follow it (로는, 과의, 였습니다).
_FOLLOWING = re.compile(
    r"^(?P<unit>%p|%|배|초|개|바이트|분|줄|번|층)?"
    r"(?P<particle>이었|였|으로|로|이나|나|이|가|은|는|을|를|과|와)"
    r"(?P<rest>(?<=었|였)[가-힣]|(?<=로)(?:는|도|서|써|부터|의)(?![가-힣])|(?<=[과와])(?:는|도|의)(?![가-힣])|(?![가-힣]))")


def fix_following(value: str, following: str) -> str:
    """``following`` (the text right after ``value``) with its leading particle made to agree.

    >>> fix_following("162MB", "과 119MB"), fix_following("119MB", "으로 줄었다"), fix_following("36", "%과 ")
    ('와 119MB', '로 줄었다', '%와 ')
    >>> fix_following("1.81MB", "이지만"), fix_following("7", "개이다"), fix_following("117MB", ")은")
    ('이지만', '개이다', ')은')
    """
    match = _FOLLOWING.match(following)
    if not match:
        return following
    unit = match.group("unit") or ""
    wanted = agree(value + unit, match.group("particle"))
    return unit + wanted + following[match.end("particle"):]
