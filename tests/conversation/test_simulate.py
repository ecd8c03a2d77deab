"""The terminal simulator: each screen as its channel shows it, under a header with its size."""

from __future__ import annotations

import io
import re

import pytest

from bot.channels.renderers import describe
from bot.channels.sms.render import SmsRenderer
from bot.channels.telegram.render import TelegramRenderer
from bot.channels.ussd.render import UssdRenderer
from bot.content.files import Content
from bot.conversation.dryrun import SAMPLE_REFERENCE, DryRunSink
from bot.conversation.ports import Renderer, Screen
from bot.conversation.service import Conversations
from bot.conversation.simulate import simulate
from bot.engine.state import Choice
from bot.sessions import MemorySessionStore

NUMBER = "0800 123 456"

HELP = {
    "en": "CON Call the hotline: 0800 123 456. You do not have to give your name. "
    "Or we can contact you:",
    "fr": "CON Appelez la ligne d'aide : 0800 123 456. "
    "Vous n'avez pas à donner votre nom. Ou nous pouvons vous contacter :",
    "ln": "CON Benga nimero ya lisalisi: 0800 123 456. Esengeli te opesa kombo na yo. "
    "To tokoki kosolola na yo:",
    "st": "CON Letsetsa mohala oa thuso: 0800 123 456. "
    "Ha u hloke ho re bolella lebitso la hao. Kapa re ka ikopanya le uena:",
}
CALL_BACK = {
    "en": "1 Ask us to contact you",
    "fr": "1 Etre recontacté(e)",
    "ln": "1 Senga tosolola na yo",
    "st": "1 Kopa hore re ikopanye le uena",
}
SENT = {
    "en": "END Thank you. A hotline worker will try to contact you at the time you chose. "
    "Your reference: TEST-00. Help: 0800 123 456",
    "fr": "END Merci. Notre équipe essaiera de vous contacter au moment choisi. "
    "Votre référence : TEST-00. Aide : 0800 123 456",
    "ln": "END Matondi. Mosali na biso akomeka kosolola na yo na ntango oyo oponi. "
    "Nimero ya likambo: TEST-00. Lisalisi: 0800 123 456",
    "st": "END Kea leboha. Mosebeletsi oa rona o tla leka ho ikopanya le uena ka nako eo u e "
    "khethileng. Nomoro ea tlaleho: TEST-00. Thuso: 0800 123 456",
}
CALL_BACK_WALK = ["4", "1", "1", "1"]
"""Get help now, Ask for a call back, Morning, Phone call."""
MENU_FIRST_LINE = {
    "en": "CON Helpline. You need not give your name.",
    "fr": "CON Helpline. Aide sans donner votre nom.",
    "ln": "CON Helpline. Bakotuna kombo na yo te. Pona:",
    "st": "CON Helpline. Thuso ntle le lebitso. Khetha:",
}
CHOICE = {"en": "1", "fr": "2", "ln": "3", "st": "4"}
HEADER = re.compile(r"^--- (.*) ---$", re.MULTILINE)


async def run(
    content: Content, renderer: Renderer, inputs: list[str] | None, stdin: str = ""
) -> tuple[str, int]:
    conversations = Conversations(
        content,
        MemorySessionStore(),
        DryRunSink(content.tr),
        values={"hotline_number": NUMBER, "hotline_name": "Helpline"},
    )
    out = io.StringIO()
    shown = await simulate(
        conversations,
        renderer,
        lang="en",
        flow="main",
        inputs=inputs,
        stdin=io.StringIO(stdin),
        out=out,
    )
    return out.getvalue(), shown


@pytest.mark.parametrize("lang", ["en", "fr", "ln", "st"])
async def test_ussd_walk_from_language_to_get_help_now(shipped_content: Content, lang: str) -> None:
    output, shown = await run(
        shipped_content, UssdRenderer(shipped_content.tr), [CHOICE[lang], *CALL_BACK_WALK]
    )
    assert shown == 6
    lines = output.split("\n")
    assert lines[0] == "--- USSD 69/182 GSM-7 ---"
    assert lines[1] == "CON Choose your language:"
    assert f"> {CHOICE[lang]}" in lines and "> 4" in lines
    assert MENU_FIRST_LINE[lang] in lines
    # Get help now: the number on a menu that offers a call back.
    assert HELP[lang] in lines
    assert lines[lines.index(HELP[lang]) + 1] == CALL_BACK[lang]
    # The call back asked for: the reference (a sample: nothing is saved) and the number again.
    assert SENT[lang] in lines
    assert SAMPLE_REFERENCE in SENT[lang]
    assert output.endswith(SENT[lang] + "\n(conversation ended)\n")
    headers = HEADER.findall(output)
    assert len(headers) == 6
    for header in headers:
        match = re.fullmatch(r"USSD (\d+)/182 GSM-7", header)
        assert match is not None, header
        assert int(match.group(1)) <= 182
    # The header measures what is shown (without the CON/END prefix the gateway adds).
    sent_size = int(headers[5].split()[1].split("/")[0])
    assert sent_size == len(SENT[lang]) - len("END ")


async def test_ussd_header_of_the_english_main_menu(shipped_content: Content) -> None:
    output, _ = await run(shipped_content, UssdRenderer(shipped_content.tr), ["1"])
    menu = r"--- USSD (\d+)/182 GSM-7 ---\nCON Helpline. You need not give your name."
    header = re.search(menu, output)
    assert header is not None and int(header.group(1)) <= 182, output
    assert "(conversation ended)" not in output, "inputs ran out before the end"


async def test_sms_walk_shows_parts_and_no_con_prefix(shipped_content: Content) -> None:
    output, shown = await run(
        shipped_content, SmsRenderer(shipped_content.tr), ["4", *CALL_BACK_WALK]
    )
    assert shown == 6
    assert output.startswith("--- SMS 69 chars GSM-7, 1 part(s) ---\nChoose your language:\n")
    assert "---\nHelpline. Thuso ntle le lebitso. Khetha:\n" in output
    assert "3 Ithute mats'oao" in output
    assert HELP["st"].removeprefix("CON ") + "\n" + CALL_BACK["st"] + "\n" in output
    assert output.endswith(SENT["st"].removeprefix("END ") + "\n(conversation ended)\n")
    assert "CON " not in output and "END " not in output


async def test_telegram_walk_keeps_orthography_and_shows_buttons(
    shipped_content: Content,
) -> None:
    output, _ = await run(
        shipped_content, TelegramRenderer(shipped_content.tr), ["3", *CALL_BACK_WALK]
    )
    assert output.startswith("--- Telegram 21/4096 ---\nChoose your language:\n")
    assert "[1 English]  [2 Francais]  [3 Lingala]  [4 Sesotho]  [0 Exit]" in output
    assert "Helpline. Bakotuna kombo na yo tɛ. Pɔna:" in output
    assert "[6 Monɔkɔ mosusu]  [00 Kozonga]  [0 Kobima]" in output
    assert "Esɛngɛli tɛ opesa kombo na yo. To tokoki kosɔlɔla na yo:" in output
    assert "[1 Sɛnga tosɔlɔla na yo]  [00 Kozonga]  [0 Kobima]" in output
    assert "Matɔndi. Mosali na biso akomeka kosɔlɔla na yo na ntango oyo opɔni." in output
    assert output.endswith("(conversation ended)\n")


async def test_inputs_after_the_end_are_ignored(shipped_content: Content) -> None:
    output, shown = await run(shipped_content, UssdRenderer(shipped_content.tr), ["1", "0", "2"])
    assert shown == 3
    assert "> 2" not in output
    assert "END Thank you. Stay safe. You can come back at any time." in output


async def test_interactive_mode_prompts_only_while_the_conversation_runs(
    shipped_content: Content,
) -> None:
    output, shown = await run(
        shipped_content,
        UssdRenderer(shipped_content.tr),
        None,
        stdin="1\n" + "\n".join(CALL_BACK_WALK) + "\nextra\n",
    )
    assert shown == 6
    assert output.count("> ") == 5, "no prompt after the conversation ended"
    assert output.endswith("Help: 0800 123 456\n(conversation ended)\n")


async def test_interactive_mode_stops_at_end_of_input(shipped_content: Content) -> None:
    output, shown = await run(shipped_content, UssdRenderer(shipped_content.tr), None, stdin="1\n")
    assert shown == 2
    assert "(conversation ended)" not in output


def test_describe_shows_page_numbers_for_a_paged_ussd_menu() -> None:
    text = describe("ussd", Screen(text="1 A\n98 More\n0 Exit", page=1, pages=3))
    assert text == "--- USSD 18/182 GSM-7, page 2/3 ---\nCON 1 A\n98 More\n0 Exit"


def test_describe_measures_ucs2_and_extension_characters() -> None:
    assert describe("ussd", Screen(text="Pɔna", end=True)) == "--- USSD 4/80 UCS-2 ---\nEND Pɔna"
    assert describe("ussd", Screen(text="€5")).startswith("--- USSD 3/182 GSM-7 ---")
    assert describe("sms", Screen(text="Pɔna")) == "--- SMS 4 chars UCS-2, 1 part(s) ---\nPɔna"


def test_describe_telegram_without_buttons() -> None:
    assert describe("telegram", Screen(text="Bye", end=True)) == "--- Telegram 3/4096 ---\nBye"
    shown = describe("telegram", Screen(text="Go", buttons=(Choice("1", "Yes"),)))
    assert shown == "--- Telegram 2/4096 ---\nGo\n[1 Yes]"


async def test_a_wrong_key_on_the_full_french_menu_shows_the_hint_above_the_question(
    shipped_content: Content,
) -> None:
    output, _ = await run(shipped_content, UssdRenderer(shipped_content.tr), ["2", "9", "4"])
    screens = output.split("\n> ")
    menu, hinted = screens[1], screens[2]
    assert hinted.startswith("9\n--- USSD ")
    body = hinted.split("\n")[2:]
    assert body[0] == "CON Tapez un des numéros affichés."
    assert body[1] == menu.split("\n")[2].removeprefix("CON "), "the question stays"
    assert body[2:6] == [
        "1 Signaler un cas",
        "2 Évaluer ma situation",
        "3 Signes d'alerte",
        "4 Aide immédiate",
    ]
    assert "page 1/2" in hinted.split("\n")[1], "the last options on a second page"
    assert HELP["fr"] in output, "the menu still answers 4 after the hint"
