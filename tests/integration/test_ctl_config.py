# SPDX-License-Identifier: MIT
"""tdns-cli config show | get | set | reload against a running tdnsd over its control socket."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import dns.rcode
import dns.rdatatype
import pytest

from conftest import EXAMPLE_COM, EXAMPLE_NET, tdns_cli_path

# example.com with other addresses: a zone file that `config set zone.example.com.file` picks.
EXAMPLE_COM_V2 = """$ORIGIN example.com.
$TTL 3600
@     IN SOA ns1.example.com. hostmaster.example.com. 2024020202 7200 3600 1209600 300
@        NS    ns1
@        A     198.51.100.77
ns1      A     198.51.100.53
www      A     198.51.100.80
"""


@pytest.fixture
def sockdir():
    # Unix socket paths are limited to 107 characters: pytest's tmp_path can be longer.
    d = tempfile.mkdtemp(prefix="tdns-ctl-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def start(make_server, sockdir, head="", **kw):
    """A tdnsd with example.com and example.net, its control socket in sockdir."""
    sock = os.path.join(sockdir, "ctl.sock")
    extra = "[control]\n# the test's own socket\nsocket = %s\n" % sock
    s = make_server(zones={"example.com": EXAMPLE_COM, "example.net": EXAMPLE_NET},
                    extra=extra, start=False, **kw)
    if head:
        with open(s.conf) as f:
            text = f.read()
        s.write_config(head + text)
    s.sock = sock
    s.start()
    deadline = time.monotonic() + 10
    while not os.path.exists(sock) and time.monotonic() < deadline:
        time.sleep(0.05)
    return s


def cli(s, *args, json_out=True):
    argv = [tdns_cli_path(), "-s", s.sock] + (["--json"] if json_out else []) + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def cli_ok(s, *args):
    r = cli(s, *args)
    assert r.returncode == 0, "tdns-cli %s: exit %d\n%s%s" % (" ".join(args), r.returncode,
                                                               r.stdout, r.stderr)
    doc = json.loads(r.stdout)
    assert doc["ok"] is True
    return doc["data"]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def a_of(resp):
    return sorted(rd.to_text() for rs in resp.answer if rs.rdtype == dns.rdatatype.A for rd in rs)


def test_config_show_lists_every_key_with_its_running_value(make_server, sockdir):
    s = start(make_server, sockdir)
    data = cli_ok(s, "config", "show")
    assert data["file"] == os.path.realpath(s.conf)
    sec = data["sections"]
    assert list(sec)[:3] == ["server", "control", "log"]
    assert sec["server"]["listen"] == "127.0.0.1:%d, [::1]:%d" % (s.port, s.port)
    assert sec["server"]["workers"] == "1"
    assert sec["server"]["serial-policy"] == "increment"
    assert sec["server"]["udp-max-payload"] == "1232"
    assert sec["control"] == {"socket": s.sock, "group": "", "timeout": "300"}
    assert sec["log"] == {"level": "info"}
    assert sec["zone example.com"] == {"type": "primary",
                                       "file": os.path.join(s.dir, "example.com.zone"),
                                       "forwarders": "", "primaries": "",
                                       "allow-transfer": "", "notify": "",
                                       "journal-size": "1M", "transport": "tcp"}
    assert "zone example.net" in sec
    keys = {k["key"]: k["value"] for k in data["keys"]}
    assert keys["log.level"] == "info"
    assert keys["zone.example.net.file"] == os.path.join(s.dir, "example.net.zone")
    assert "[log]\nlevel = info\n" in data["text"]

    r = cli(s, "config", "show", json_out=False)
    assert r.returncode == 0, r.stderr
    assert "log.level = info" in r.stdout.splitlines()


# Named sections ([zone NAME], [blocking-group NAME]): their keys are shown per instance.
NAMED = ("zone", "tsig", "blocking-group")


def sample_keys():
    """{"section.key": default} of every "; key = value" line of etc/tdnsd.conf's sections."""
    top = os.environ.get("TDNS_SRCDIR") or os.path.join(os.path.dirname(__file__), "..", "..")
    path = os.path.join(top, "etc", "tdnsd.conf")
    keys, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("[") or line.startswith("; ["):
                section = line.lstrip("; [").split("]")[0].split()[0]
            elif section and section not in NAMED and line.startswith("; ") and " =" in line:
                key, _, value = line[2:].partition(" =")
                if key.replace("-", "").isalnum():
                    keys["%s.%s" % (section, key)] = value.strip()
    return keys


# Keys whose built-in default depends on configure's directories.
BUILD_PATHS = ("server.state-dir", "blocking.safe-search-file")


def test_config_show_lists_every_key_of_the_sample_with_its_value_and_default(make_server,
                                                                             sockdir):
    s = start(make_server, sockdir)
    data = cli_ok(s, "config", "show")
    shown = {k["key"]: k for k in data["keys"]
             if not k["key"].startswith(tuple(n + "." for n in NAMED))}
    sample = sample_keys()
    assert sorted(shown) == sorted(sample)
    # Keys the test's configuration sets differ from the defaults (as the test writes them);
    # every other key runs with its default.
    changed, section = set(), None
    with open(s.conf) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line[1:].split("]")[0]
            elif section and "=" in line and line[0] not in ";#":
                changed.add("%s.%s" % (section, line.split("=")[0].strip()))
    assert {"server.listen", "control.socket"} <= changed
    for key, row in shown.items():
        if key not in changed:
            assert row["default"] is True, row
            # The built-in state-dir follows --localstatedir, the safe-search table
            # --sysconfdir; the sample shows /var and /etc.
            assert key in BUILD_PATHS or row["value"] == sample[key], row
        elif key not in BUILD_PATHS:
            assert row["default"] is (row["value"] == sample[key]), row
    # A zone's derived file name has no verdict: it depends on the zone.
    zone = [k for k in data["keys"] if k["key"] == "zone.example.com.file"]
    assert zone and zone[0]["default"] is None
    assert list(data["sections"]) == ["server", "control", "log", "recursion", "forwarders",
                                      "cache", "dnssec", "tls", "dot", "doh", "blocking",
                                      "zone example.com",
                                      "zone example.net"]


def test_config_get_shows_one_key_zone_keys_included(make_server, sockdir):
    s = start(make_server, sockdir)
    assert cli_ok(s, "config", "get", "log.level") == {"key": "log.level", "value": "info"}
    assert cli_ok(s, "config", "get", "zone.example.com.file")["value"] == \
        os.path.join(s.dir, "example.com.zone")
    assert cli_ok(s, "config", "get", "control.socket")["value"] == s.sock
    r = cli(s, "config", "get", "server.workers", json_out=False)
    assert r.returncode == 0 and r.stdout == "1\n", r

    r = cli(s, "config", "get", "log.lvl")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["ok"] is False and doc["error"]["id"] == "EINVAL"
    assert "unknown configuration key 'log.lvl'" in doc["error"]["message"]
    r = cli(s, "config", "get", "zone.example.org.file", json_out=False)
    assert r.returncode == 1
    assert "no zone 'example.org'" in r.stderr


def test_config_set_rewrites_the_file_keeping_comments_and_reloads(make_server, sockdir):
    head = "# tdnsd.conf written by the test\n; with a second comment\n\n"
    s = start(make_server, sockdir, head=head)
    before = read(s.conf).decode()
    assert "level = info\n" in before
    data = cli_ok(s, "config", "set", "log.level", "debug")
    assert data == {"key": "log.level", "value": "debug", "file": os.path.realpath(s.conf)}
    after = read(s.conf).decode()
    # Exactly the one value changed; every comment and blank line is where it was.
    assert after == before.replace("level = info\n", "level = debug\n")
    assert after.startswith(head)
    assert cli_ok(s, "config", "get", "log.level")["value"] == "debug"

    # An absent key is inserted into its section, and the running server has it after reload.
    cli_ok(s, "config", "set", "server.serial-policy", "date")
    text = read(s.conf).decode()
    assert "\nserial-policy = date\n" in text
    assert text.index("serial-policy = date") < text.index("[log]")
    assert cli_ok(s, "config", "get", "server.serial-policy")["value"] == "date"

    # Words of the value are joined with spaces (text mode prints the new value).
    r = cli(s, "config", "set", "control.group", "root", json_out=False)
    assert r.returncode == 0, r.stderr
    assert "root" in r.stdout
    assert "\ngroup = root\n" in read(s.conf).decode()
    # The daemon still answers.
    assert s.query("example.com", "SOA").rcode() == dns.rcode.NOERROR


def test_config_set_writes_a_long_list_continued_and_reads_it_back(make_server, sockdir):
    # Issue 15: 60 networks do not fit on one 198-character line; config set continues the
    # list on indented lines, and the daemon (live and after a restart) reads the same value.
    s = start(make_server, sockdir)
    nets = ", ".join("198.18.%d.0/24" % i for i in range(59)) + ", 127.0.0.0/8"
    cli_ok(s, "config", "set", "recursion.allow", nets)
    text = read(s.conf).decode()
    assert "\nallow = 198.18.0.0/24,\n    198.18.1.0/24,\n" in text
    assert "\n    127.0.0.0/8\n" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    assert cli_ok(s, "config", "get", "recursion.allow")["value"] == nets
    s.stop()
    s.start()
    deadline = time.monotonic() + 10
    while not os.path.exists(s.sock) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cli_ok(s, "config", "get", "recursion.allow")["value"] == nets
    # A short value replaces every line of the long one.
    cli_ok(s, "config", "set", "recursion.allow", "127.0.0.0/8, ::1")
    after = read(s.conf).decode()
    assert "\nallow = 127.0.0.0/8, ::1\n" in after and "198.18." not in after


def test_config_set_zone_file_changes_the_zones_answers(make_server, sockdir):
    s = start(make_server, sockdir)
    assert a_of(s.query("example.com", "A")) == ["192.0.2.1"]
    with open(os.path.join(s.dir, "v2.zone"), "w") as f:
        f.write(EXAMPLE_COM_V2)
    data = cli_ok(s, "config", "set", "zone.example.com.file", "v2.zone")
    assert data["value"] == os.path.join(s.dir, "v2.zone")
    assert "[zone example.com]\ntype = primary\nfile = v2.zone\n" in read(s.conf).decode()
    assert a_of(s.query("example.com", "A")) == ["198.51.100.77"]
    assert a_of(s.query("www.example.com", "A")) == ["198.51.100.80"]
    # The other zone is untouched.
    assert a_of(s.query("www.example.net", "A")) == ["198.51.100.80"]
    assert s.query("mail2.example.net", "A").rcode() == dns.rcode.NOERROR


def test_config_set_bad_key_or_value_exits_1_and_leaves_the_file(make_server, sockdir):
    s = start(make_server, sockdir)
    before = read(s.conf)
    entries = sorted(os.listdir(s.dir))

    r = cli(s, "config", "set", "log.lvl", "debug", json_out=False)
    assert r.returncode == 1
    assert r.stderr.startswith("tdns-cli: unknown configuration key 'log.lvl'; expected one "
                               "of: server.listen,"), r.stderr

    r = cli(s, "config", "set", "log.level", "loud", json_out=False)
    assert r.returncode == 1
    lineno = before.decode().splitlines().index("level = info") + 1
    assert r.stderr == ("tdns-cli: %s:%d: invalid log level 'loud'; expected err, warning, "
                        "notice, info or debug\n" % (os.path.realpath(s.conf), lineno))

    r = cli(s, "config", "set", "server.workers", "0")
    assert r.returncode == 1
    assert json.loads(r.stdout)["error"]["id"] == "ECONFIG"

    # A zone file that does not load is refused before the file is written.
    r = cli(s, "config", "set", "zone.example.com.file", "missing.zone", json_out=False)
    assert r.returncode == 1
    assert "zone example.com:" in r.stderr and "missing.zone" in r.stderr

    r = cli(s, "config", "set", "server.user", "a", ";", "b", json_out=False)
    assert r.returncode == 1
    assert "';' after a blank starts a comment" in r.stderr

    assert read(s.conf) == before
    assert sorted(os.listdir(s.dir)) == entries
    assert cli_ok(s, "config", "get", "log.level")["value"] == "info"
    assert a_of(s.query("example.com", "A")) == ["192.0.2.1"]


def test_config_reload_rereads_the_file_and_the_zones(make_server, sockdir):
    s = start(make_server, sockdir)
    assert a_of(s.query("example.com", "A")) == ["192.0.2.1"]
    s.write_zone("example.com", EXAMPLE_COM_V2)
    text = read(s.conf).decode().replace("level = info", "level = notice")
    s.write_config(text)
    data = cli_ok(s, "config", "reload")
    assert data["file"] == os.path.realpath(s.conf)
    assert data["zones"] == 2
    assert a_of(s.query("example.com", "A")) == ["198.51.100.77"]
    assert cli_ok(s, "config", "get", "log.level")["value"] == "notice"

    # A broken file is refused; the running configuration and zones stay.
    s.write_config(text + "\n[server]\nbogus = 1\n")
    r = cli(s, "config", "reload", json_out=False)
    assert r.returncode == 1
    assert "unknown key 'bogus'" in r.stderr
    assert cli_ok(s, "config", "get", "log.level")["value"] == "notice"
    assert a_of(s.query("example.com", "A")) == ["198.51.100.77"]
