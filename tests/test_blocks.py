"""Block Kit primitives: Slack's limits, escaping of stored text, cutting and packing."""

from datetime import date

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.blocks import (
    blocks_length,
    button,
    cut_where_it_reads_well,
    escape,
    header,
    messages,
    pack,
    plain,
    plural,
    section,
    sections,
    shorten,
    slack_length,
    split_blocks,
    split_where_it_reads_well,
)
from bot.subscriptions.rules import CommissionRule

TODAY = date(2024, 6, 20)
RULE = CommissionRule()
DANGEROUS = "<!channel> & Co"


def test_slack_sdk_validation_rejects_oversized_sections_and_headers():
    # The limit checks above lean on slack_sdk for sections and headers: make sure it bites.
    # section() itself cuts to the limit now, so the oversized one is written out.
    with pytest.raises(SlackObjectFormationError):
        Block.parse(
            {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
        ).validate_json()
    with pytest.raises(SlackObjectFormationError):
        Block.parse(
            {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
        ).validate_json()
    Block.parse(section("x" * 3000)).validate_json()


# Shared rules


def test_escape_turns_ampersand_and_angle_brackets_into_entities():
    assert escape("<!channel>") == "&lt;!channel&gt;"
    assert escape("<@U123>") == "&lt;@U123&gt;"
    assert escape("<https://evil|click>") == "&lt;https://evil|click&gt;"
    assert escape("Smith & Sons") == "Smith &amp; Sons"


def test_escape_escapes_ampersand_first_so_stored_entities_show_as_typed():
    # A name literally containing "&lt;" must read "&lt;" in Slack, not "<".
    assert escape("&lt;") == "&amp;lt;"
    assert escape("<&>") == "&lt;&amp;&gt;"


def test_escape_leaves_ordinary_text_alone():
    assert escape("Contoso Ltd · contoso.onmicrosoft.com *bold*") == (
        "Contoso Ltd · contoso.onmicrosoft.com *bold*"
    )


def test_shorten_marks_a_cut_with_an_ellipsis_within_the_limit():
    assert shorten("abcdef", 6) == "abcdef"
    # 4 characters: 3 kept + "…"
    assert shorten("abcdef", 4) == "abc…"
    # A cut after a space drops the space before the ellipsis.
    assert shorten("ab cdef", 4) == "ab…"


def test_pack_joins_texts_that_fit_together():
    texts = ["a" * 40, "b" * 40, "c" * 40]
    # 40 + 2 + 40 = 82 fits in 100; adding "\n\n" + 40 more would make 124.
    assert pack(texts, limit=100) == ["a" * 40 + "\n\n" + "b" * 40, "c" * 40]


def test_pack_fills_a_chunk_exactly_to_the_limit():
    # 49 + 2 + 49 = 100
    assert pack(["a" * 49, "b" * 49], limit=100) == ["a" * 49 + "\n\n" + "b" * 49]
    # 50 + 2 + 49 = 101: two chunks
    assert pack(["a" * 50, "b" * 49], limit=100) == ["a" * 50, "b" * 49]


def test_pack_shortens_a_text_longer_than_the_limit_on_its_own():
    assert pack(["short", "x" * 150, "tail"], limit=100) == ["short", "x" * 99 + "…", "tail"]


def test_pack_never_exceeds_the_limit_and_never_loses_a_text():
    texts = [f"text {index} " + "y" * (index * 37 % 290) for index in range(200)]
    chunks = pack(texts, limit=300)
    assert all(len(chunk) <= 300 for chunk in chunks)
    # Every text is in exactly one chunk, in order.
    assert "\n\n".join(chunks) == "\n\n".join(texts)


def test_pack_of_nothing_is_no_chunk():
    assert pack([]) == []


def test_split_blocks_cuts_at_fifty_blocks():
    blocks = [{"type": "divider", "n": index} for index in range(120)]
    chunks = split_blocks(blocks)
    # 120 = 50 + 50 + 20
    assert [len(chunk) for chunk in chunks] == [50, 50, 20]
    assert [block for chunk in chunks for block in chunk] == blocks


def test_split_blocks_keeps_fifty_in_one_message_and_fifty_one_in_two():
    assert len(split_blocks([{"type": "divider"}] * 50)) == 1
    assert [len(c) for c in split_blocks([{"type": "divider"}] * 51)] == [50, 1]


def test_split_blocks_of_nothing_is_one_empty_message():
    assert split_blocks([]) == [[]]


def test_messages_repeat_the_fallback_text_shortened_to_slacks_limit():
    result = messages("x" * 4000, [section("a")] * 60)
    assert len(result) == 2
    assert all(len(message.text) == 3000 and message.text.endswith("…") for message in result)


def test_header_is_plain_text_cut_to_150_characters():
    block = header("n" * 200)
    assert block["text"]["type"] == "plain_text"
    assert len(block["text"]["text"]) == 150


def test_plural_writes_one_and_many_with_thousands_separators():
    assert plural(1, "seat") == "1 seat"
    assert plural(2, "seat") == "2 seats"
    assert plural(1040, "customer") == "1,040 customers"
    assert plural(0, "match", "matches") == "0 matches"


# Invisible characters, cutting where it reads well, Slack's count


def test_escape_and_plain_text_drop_direction_and_zero_width_characters():
    spoof = "Acme\u202eexe.fdp\u200b\u2066x\u2069\u200e\u200f\ufeff\u00ad\x00\x1b"
    assert escape(spoof) == "Acmeexe.fdpx"
    assert plain(spoof)["text"] == "Acmeexe.fdpx"
    assert header(spoof)["text"]["text"] == "Acmeexe.fdpx"
    assert button(spoof, "a", "1")["text"]["text"] == "Acmeexe.fdpx"
    # Emoji sequences, line breaks and tabs stay; other line separators become line breaks.
    assert escape("👩\u200d💻 a\tb\nc\r\nd\u2028e") == "👩\u200d💻 a\tb\nc\nd\ne"
    # A name of invisible characters only is not an empty plain_text (Slack refuses those).
    assert plain("\u202e\u200b")["text"] == "…"


def test_the_invisible_characters_are_every_format_character_of_this_python():
    import unicodedata

    from bot.blocks import INVISIBLE

    for code in range(0x110000):
        c = chr(code)
        if unicodedata.category(c) in ("Cf", "Cc", "Cs") and c not in "\t\n\u200c\u200d":
            assert INVISIBLE.match(c), hex(code)
    assert not INVISIBLE.search("\t\n\u200c\u200d abc é 😀")


def test_slack_counts_an_emoji_outside_the_bmp_as_two():
    assert slack_length("a😀") == 3
    cut = shorten("😀" * 100, 11)
    assert cut == "😀" * 5 + "…" and slack_length(cut) == 11


def test_a_cut_falls_between_paragraphs_sentences_or_words_where_it_keeps_most():
    text = "First part. " * 10 + "\n\n" + "Second part goes on. " * 10
    assert cut_where_it_reads_well(text, 150) == ("First part. " * 10).strip() + "…"
    assert cut_where_it_reads_well("One sentence. Another one here", 21) == "One sentence.…"
    assert cut_where_it_reads_well("words and more words", 12) == "words and…"
    # A boundary right after what fits is a clean cut too.
    assert cut_where_it_reads_well("abcde fgh", 6) == "abcde…"


def test_a_cut_never_splits_an_entity_or_a_link():
    assert cut_where_it_reads_well(escape("&&&&&&"), 13) == "&amp;&amp;…"
    assert cut_where_it_reads_well("abcdefgh<@U123456>xyz", 14) == "abcdefgh…"


def test_split_keeps_every_character_in_pieces_that_fit():
    text = "\n\n".join(
        f"Paragraph {n}. " + "Words in a sentence. " * (n % 7 + 1) for n in range(300)
    )
    pieces = split_where_it_reads_well(text, 500)
    assert all(slack_length(piece) <= 500 for piece in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())
    # A paragraph break is preferred: most pieces end a paragraph's sentence.
    assert all(piece.endswith(".") for piece in pieces)
    # One long word is cut anywhere, still whole when joined.
    assert "".join(split_where_it_reads_well("x" * 1001, 100)) == "x" * 1001


def test_pack_whole_splits_a_long_text_instead_of_shortening_it():
    long = "A sentence of vendor text. " * 400
    chunks = pack(["short", long, "tail"], whole=True)
    assert all(slack_length(chunk) <= 3000 for chunk in chunks)
    assert " ".join(" ".join(chunks).split()) == " ".join(f"short {long} tail".split())
    assert [block["text"]["text"] for block in sections("a\n\nb")] == ["a\n\nb"]


def test_sections_are_cut_to_slacks_limit_where_they_read_well():
    block = section("word " * 1000)
    assert slack_length(block["text"]["text"]) <= 3000
    assert block["text"]["text"].endswith("word…")


def test_messages_split_where_the_blocks_text_would_be_too_long_for_slack():
    blocks = [section("y" * 2900) for _ in range(10)]
    result = messages("t", blocks)
    # 12,000 characters of block text a message: four sections of 2,900 each.
    assert [len(message.blocks) for message in result] == [4, 4, 2]
    assert all(blocks_length(message.blocks) <= 12_000 for message in result)
    assert [block for message in result for block in message.blocks] == blocks
