"""Korean particles after a measured value agree with how the value is read (dockerlab.particles)."""

from __future__ import annotations

import pytest

from dockerlab.particles import Ending, agree, ending, fix_following


@pytest.mark.parametrize(("value", "following", "fixed"), [
    # The review's examples: MB is read 메가바이트, which ends in a vowel.
    ("162MB", "과 ", "와 "), ("119MB", "으로 줄었다", "로 줄었다"), ("97.1MB", "이 ", "가 "),
    ("81.5MB", "로", "로"), ("15.1MB", "으로.", "로."), ("1.81MB", "가", "가"), ("45.4MB", "과", "와"),
    # Whole numbers are read as Sino-Korean numerals: the last spoken syllable decides.
    ("36", "와 ", "과 "), ("12", "이 ", "가 "), ("11", "가 ", "이 "), ("120", "를 ", "을 "), ("1,000", "는", "은"),
    ("7", "으로", "로"), ("8", "으로", "로"), ("16", "로", "으로"), ("3", "로", "으로"), ("0", "가", "이"),
    ("250000", "를", "을"),
    # A decimal is read digit by digit after the point.
    ("2.40", "가", "이"), ("1.5", "이", "가"),
    # A unit written in the prose after the value reads as the unit.
    ("36", "%과 ", "%와 "), ("2", "배을 ", "배를 "), ("35.5", "초이었습니다", "초였습니다"), ("3", "줄으로", "줄로"),
    ("5", "분를", "분을"),
    # Particles followed by endings that may follow them.
    ("117MB", "으로는", "로는"), ("117MB", "과의", "와의"), ("36", "였다", "이었다"),
])
def test_a_particle_after_a_value_agrees_with_its_reading(value: str, following: str, fixed: str) -> None:
    assert fix_following(value, following) == fixed


@pytest.mark.parametrize(("value", "following"), [
    ("1.81MB", "이지만"),   # a copula, not a particle: both forms read right
    ("7", "개이다"),
    ("117MB", ")은"),        # the particle belongs to the word before the parenthesis
    ("36", "이상"),          # not a particle at all
    ("debian:bookworm", "은"),  # an English word: its reading is not told here, the writer's choice stays
    ("117MB", " 이"),        # a space: the next word, not a particle
])
def test_what_is_not_a_particle_after_a_value_is_left_alone(value: str, following: str) -> None:
    assert fix_following(value, following) == following


def test_hangul_endings_are_read_from_the_final_consonant() -> None:
    assert [ending(w) for w in ("바이트", "이미지", "레이어", "파일", "만", "억")] == [
        Ending.VOWEL, Ending.VOWEL, Ending.VOWEL, Ending.RIEUL, Ending.CONSONANT, Ending.CONSONANT]
    assert agree("파일", "으로") == "로" and agree("파일", "가") == "이"
    assert agree("이미지", "을") == "를"
