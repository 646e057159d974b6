# SPDX-License-Identifier: MIT
"""tdns-tui --no-color (issue 21): it runs and draws its screens without a colour escape sequence.
The pane is captured with its attributes (tmux capture-pane -e) and every SGR sequence in it is
read: the same screen without the flag has colours, so the check can tell the two apart."""
import re

from conftest import STANDARD_ZONES
from test_tui import TABS, tmux  # noqa: F401  (tmux is the fixture)

SGR = re.compile(r"\x1b\[([0-9;:]*)m")


def colour_codes(text):
    """The SGR parameters in text that set a foreground or background colour (30-38, 40-48,
    90-97, 100-107); 39 and 49 (the default colours) and attributes such as bold or reverse
    do not count."""
    found = []
    for m in SGR.finditer(text):
        params = [p for p in re.split(r"[;:]", m.group(1)) if p != ""]
        i = 0
        while i < len(params):
            n = int(params[i])
            if n in (38, 48):
                found.append(m.group(0))
                break
            if 30 <= n <= 37 or 40 <= n <= 47 or 90 <= n <= 97 or 100 <= n <= 107:
                found.append(m.group(0))
            i += 1
    return found


def captured(t):
    return t.run("capture-pane", "-p", "-e").stdout


def draw_every_screen(t):
    """Shows the five screens in turn; returns their captures with attributes."""
    shots = []
    for key, title in (("1", "Queries"), ("2", "Query log"), ("3", "Zones ("),
                       ("4", " entries"), ("5", "[server]")):
        t.keys(key)
        t.wait_text(title)
        shots.append(captured(t))
    return shots


def test_no_color_draws_every_screen_without_colour_sequences(make_server, tmux):  # noqa: F811
    s = make_server(zones=STANDARD_ZONES)
    for _ in range(5):
        s.query("www.example.com", "A")
    plain = tmux()
    plain.start_tui("-s", s.control, "--no-color")
    plain.wait_text("tdnsd ")
    shots = draw_every_screen(plain)
    for shot in shots:
        assert TABS in SGR.sub("", shot), shot
        assert colour_codes(shot) == [], shot
    # Attributes that need no colour still mark the current tab and the selection.
    assert any(SGR.search(shot) for shot in shots), shots
    # The check sees colours where there are some: the same dashboard without the flag.
    coloured = tmux()
    coloured.start_tui("-s", s.control)
    coloured.wait_text("tdnsd ")
    assert colour_codes(captured(coloured)), captured(coloured)
