# SPDX-License-Identifier: MIT
"""tdns-cli zone check: the offline checker, compared with named-checkzone."""
import json
import os
import shutil
import subprocess


CLI = os.environ.get("TDNS_CLI", "tdns-cli")

GOOD = """$ORIGIN example.com.
$TTL 3600
@   IN SOA ns1 hostmaster ( 2024010101 7200 3600 1209600 300 )
    IN NS  ns1
    IN MX  10 mail
ns1 IN A   192.0.2.1
mail IN AAAA 2001:db8::25
www IN CNAME @
"""


def run(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=30)


def named_checkzone():
    for p in ("/usr/bin/named-checkzone", "/usr/sbin/named-checkzone"):
        if os.path.exists(p):
            return p
    return shutil.which("named-checkzone")


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_zone_check_accepts_a_good_zone_like_named_checkzone(tmp_path):
    path = write(tmp_path, "example.com.zone", GOOD)
    r = run("zone", "check", path)
    assert r.returncode == 0, r.stderr
    assert "loaded serial 2024010101" in r.stdout
    assert "OK" in r.stdout
    nc = named_checkzone()
    assert nc, "named-checkzone (bind9-utils) is required"
    assert subprocess.run([nc, "example.com", path], capture_output=True).returncode == 0


def test_zone_check_json_output_is_one_document(tmp_path):
    path = write(tmp_path, "z.zone", GOOD)
    r = run("--json", "zone", "check", path, "example.com")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] is True
    assert doc["serial"] == 2024010101
    assert doc["records"] == 6


def test_zone_check_reports_file_and_line_of_a_syntax_error(tmp_path):
    text = GOOD + "bad IN A 192.0.2.300\n"
    path = write(tmp_path, "example.com.zone", text)
    r = run("zone", "check", path, "example.com.")
    assert r.returncode == 1
    line = text.count("\n")
    assert f"{path}:{line}:" in r.stderr
    assert "192.0.2.300" in r.stderr
    nc = named_checkzone()
    assert subprocess.run([nc, "example.com", path], capture_output=True).returncode != 0


def test_zone_check_rejects_a_zone_without_soa(tmp_path):
    path = write(tmp_path, "example.com.zone",
                 "$ORIGIN example.com.\n$TTL 300\n@ NS ns1\nns1 A 192.0.2.1\n")
    r = run("zone", "check", path)
    assert r.returncode == 1
    assert "SOA" in r.stderr


def test_zone_check_rejects_cname_beside_other_data(tmp_path):
    path = write(tmp_path, "example.com.zone", GOOD + "www IN A 192.0.2.9\n")
    r = run("zone", "check", path)
    assert r.returncode == 1
    assert "CNAME" in r.stderr


def test_zone_check_rejects_out_of_zone_data(tmp_path):
    path = write(tmp_path, "example.com.zone", GOOD + "host.example.net. IN A 192.0.2.9\n")
    r = run("zone", "check", path)
    assert r.returncode == 1
    assert "outside" in r.stderr


def test_zone_check_of_a_missing_file_fails_with_a_message(tmp_path):
    r = run("zone", "check", str(tmp_path / "nope.zone"), "example.com")
    assert r.returncode == 1
    assert "nope.zone" in r.stderr


def test_usage_errors_exit_2():
    assert run().returncode == 2
    assert run("zone", "check").returncode == 2
    r = run("frobnicate")
    assert r.returncode == 2
    assert "unknown" in r.stderr


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("tdns-cli ")
    r = run("help")
    assert r.returncode == 0 and "zone check" in r.stdout
    r = run("help", "zone", "check")
    assert r.returncode == 0 and "FILE" in r.stdout


def test_unique_prefix_selects_the_command(tmp_path):
    path = write(tmp_path, "example.com.zone", GOOD)
    r = run("z", "ch", path)
    assert r.returncode == 0, r.stderr
