# SPDX-License-Identifier: MIT
"""tdns-cli zone commands against a real tdnsd: list, create, delete, show, export, import,
check, reload, enable and disable, with DNS answers checked right after every change."""
import json
import os
import socket

import dns.rcode
import dns.rdatatype
import dns.zone
import pytest

from conftest import small_zone
from helpers import cli_json as run, cli_ok as ok, cli_refused as refused
from helpers import file_bytes, zone_tools_accept as check_with_bind_and_knot

SMALL = small_zone("example.com.", "192.0.2.80", soa="2024010101 7200 3600 1209600 300")


def answer(srv, name, rdtype="A"):
    return srv.query(name, rdtype)


def addresses(srv, name):
    r = answer(srv, name)
    return sorted(rd.address for rrset in r.answer for rd in rrset
                  if rrset.rdtype == dns.rdatatype.A)


def soa_serial(srv, zone):
    r = answer(srv, zone, "SOA")
    assert r.rcode() == dns.rcode.NOERROR
    return r.answer[0][0].serial


def catalog(srv):
    with open(os.path.join(srv.dir, "catalog.json")) as f:
        return json.load(f)


@pytest.fixture
def srv(make_server):
    return make_server(zones={"example.com": SMALL})


# ---- list, show ----

def test_zone_list_shows_config_zones_with_state_serial_and_records(srv):
    data = ok(srv, "zone", "list")
    assert data == [{"name": "example.com.", "type": "primary", "state": "enabled",
                     "source": "config", "file": srv.zone_path("example.com"),
                     "serial": 2024010101, "records": 4}]
    r = srv.cli("zone", "list")
    assert r.returncode == 0, r.stderr
    head, row = r.stdout.splitlines()
    assert head.split() == ["NAME", "TYPE", "STATE", "SERIAL", "RECORDS", "SOURCE"]
    assert row.split() == ["example.com.", "primary", "enabled", "2024010101", "4", "config"]


def test_zone_show_gives_details_and_unknown_zones_are_refused(srv):
    data = ok(srv, "zone", "show", "EXAMPLE.com")
    assert data["name"] == "example.com."
    assert data["serial"] == 2024010101
    assert data["records"] == 4
    assert data["names"] == 3
    assert data["declared"].startswith(srv.conf + ":")
    msg = refused(srv, "ENOZONE", "zone", "show", "nope.test")
    assert msg == "no such zone: nope.test"
    r = srv.cli("zone", "show", "nope.test")
    assert r.returncode == 1
    assert r.stderr == "tdns-cli: no such zone: nope.test\n"
    refused(srv, "EBADTEXT", "zone", "show", "a..b")


# ---- create, delete ----

def test_zone_create_serves_soa_and_ns_at_once_and_records_it(srv):
    data = ok(srv, "zone", "create", "Example.ORG")
    assert data["name"] == "example.org."
    assert data["state"] == "enabled"
    assert data["source"] == "runtime"
    assert data["records"] == 2
    path = os.path.join(srv.dir, "example.org.zone")
    assert data["file"] == path
    r = answer(srv, "example.org.", "SOA")
    assert r.rcode() == dns.rcode.NOERROR
    soa = r.answer[0][0]
    host = socket.gethostname().rstrip(".") + "."
    assert soa.mname.to_text().lower() == host.lower()
    assert soa.rname.to_text() == "hostmaster.example.org."
    assert (soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum) == \
        (1, 3600, 900, 1209600, 300)
    r = answer(srv, "example.org.", "NS")
    assert [rd.target.to_text().lower() for rd in r.answer[0]] == [host.lower()]
    check_with_bind_and_knot("example.org", path)
    entries = catalog(srv)["zones"]
    assert entries == [{"name": "example.org.", "type": "primary", "file": path,
                        "runtime": True, "disabled": False}]
    names = [z["name"] for z in ok(srv, "zone", "list")]
    assert names == ["example.com.", "example.org."]


def test_zone_create_warns_about_a_one_label_host_name_and_takes_ns(srv):
    """Issue 15: `vm.` as SOA/NS is unreachable for other servers: warn, and offer --ns."""
    host = socket.gethostname().rstrip(".")
    data = ok(srv, "zone", "create", "warn.test")
    if "." in host:
        assert "warning" not in data, data
    else:
        assert "one label" in data["warning"] and "--ns" in data["warning"], data
        # The text output shows the warning too.
        r = srv.cli("zone", "create", "warn2.test")
        assert r.returncode == 0 and "warning: this host's name %s." % host in r.stdout, r
    data = ok(srv, "zone", "create", "ns.test", "--ns", "NS1.Example.NET.")
    assert "warning" not in data, data
    soa = answer(srv, "ns.test.", "SOA").answer[0][0]
    assert soa.mname.to_text().lower() == "ns1.example.net."
    assert [rd.target.to_text().lower() for rd in answer(srv, "ns.test.", "NS").answer[0]] == \
        ["ns1.example.net."]
    msg = refused(srv, "EINVAL", "zone", "create", "bad.test", "--ns", "ns1.example.net")
    assert "not an absolute domain name" in msg, msg


def test_zone_create_refuses_existing_zones_bad_names_and_types(srv):
    refused(srv, "EZONEEXISTS", "zone", "create", "example.com")
    ok(srv, "zone", "create", "example.org")
    refused(srv, "EZONEEXISTS", "zone", "create", "example.org.")
    for bad in ("a..b", "bad/name.test", "sp ace.test", "x" * 64 + ".test"):
        refused(srv, "EBADTEXT", "zone", "create", bad)
    msg = refused(srv, "EINVAL", "zone", "create", "new.test", "--type", "secondary")
    assert "secondary" in msg
    refused(srv, "EINVAL", "zone", "create", "new.test", "--file", "../escape.zone")
    # Nothing of the refused attempts was left behind.
    assert [z["name"] for z in catalog(srv)["zones"]] == ["example.org."]
    assert not os.path.exists(os.path.join(srv.dir, "new.test.zone"))


def test_zone_create_does_not_overwrite_a_left_over_file_unless_asked(srv):
    stale = SMALL.replace("example.com.", "left.test.")
    path = os.path.join(srv.dir, "left.test.zone")
    with open(path, "w") as f:
        f.write(stale)
    msg = refused(srv, "EEXIST", "zone", "create", "left.test")
    assert "--file left.test.zone" in msg
    assert file_bytes(path) == stale.encode()
    data = ok(srv, "zone", "create", "left.test", "--file", "left.test.zone")
    assert data["serial"] == 2024010101
    assert addresses(srv, "www.left.test.") == ["192.0.2.80"]


def test_zone_created_by_cli_survives_restart(srv):
    ok(srv, "zone", "create", "keep.test")
    ok(srv, "record", "add", "keep.test", "www", "A", "192.0.2.7")
    srv.stop()
    srv.start()
    assert addresses(srv, "www.keep.test.") == ["192.0.2.7"]
    assert [z["name"] for z in ok(srv, "zone", "list")] == ["example.com.", "keep.test."]


def test_zone_delete_removes_runtime_zone_file_and_entry(srv):
    ok(srv, "zone", "create", "gone.test")
    path = os.path.join(srv.dir, "gone.test.zone")
    assert os.path.exists(path)
    data = ok(srv, "zone", "delete", "gone.test")
    assert data["file_removed"] is True
    assert not os.path.exists(path)
    assert answer(srv, "gone.test.", "SOA").rcode() == dns.rcode.REFUSED
    assert catalog(srv)["zones"] == []
    refused(srv, "ENOZONE", "zone", "delete", "gone.test")
    srv.stop()
    srv.start()
    assert answer(srv, "gone.test.", "SOA").rcode() == dns.rcode.REFUSED


def test_zone_delete_of_a_config_zone_is_refused(srv):
    msg = refused(srv, "EACCES", "zone", "delete", "example.com")
    assert "configuration file" in msg and srv.conf in msg
    assert os.path.exists(srv.zone_path("example.com"))
    assert addresses(srv, "www.example.com.") == ["192.0.2.80"]
    refused(srv, "ENOZONE", "zone", "delete", "nope.test")
    refused(srv, "EBADTEXT", "zone", "delete", "a..b")


# ---- export, import ----

def test_zone_export_is_canonical_zone_file_text(srv, tmp_path):
    data = ok(srv, "zone", "export", "example.com")
    assert data["name"] == "example.com."
    text = data["text"]
    lines = text.splitlines()
    assert lines[0] == "$ORIGIN example.com."
    assert "\tSOA\t" in lines[1]
    z = dns.zone.from_text(text, origin="example.com.", relativize=False)
    assert z.find_rdataset("www.example.com.", "A")[0].address == "192.0.2.80"
    out = tmp_path / "exported.zone"
    r = srv.cli("zone", "export", "example.com", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text() == text
    check_with_bind_and_knot("example.com", str(out))
    r = srv.cli("zone", "export", "example.com")
    assert r.stdout == text
    refused(srv, "ENOZONE", "zone", "export", "nope.test")


def test_zone_import_replaces_contents_and_keeps_the_serial_growing(srv, tmp_path):
    new = SMALL.replace("www A 192.0.2.80", "web A 192.0.2.81")
    f = tmp_path / "new.zone"
    f.write_text(new)
    data = ok(srv, "zone", "import", "example.com", str(f))
    assert data["created"] is False
    # The same serial would hide the change from secondaries: it was bumped.
    assert data["serial"] == 2024010102
    assert addresses(srv, "web.example.com.") == ["192.0.2.81"]
    assert answer(srv, "www.example.com.").rcode() == dns.rcode.NXDOMAIN
    assert soa_serial(srv, "example.com.") == 2024010102
    check_with_bind_and_knot("example.com", srv.zone_path("example.com"))
    # A larger serial of its own is kept.
    f.write_text(new.replace("2024010101", "2025000000"))
    assert ok(srv, "zone", "import", "example.com", str(f))["serial"] == 2025000000


def test_zone_import_of_a_new_name_creates_a_runtime_zone(srv, tmp_path):
    f = tmp_path / "imp.zone"
    f.write_text(SMALL.replace("example.com.", "imp.test."))
    data = ok(srv, "zone", "import", "imp.test", str(f))
    assert data["created"] is True
    assert data["source"] == "runtime"
    assert addresses(srv, "www.imp.test.") == ["192.0.2.80"]
    assert [z["name"] for z in catalog(srv)["zones"]] == ["imp.test."]
    srv.stop()
    srv.start()
    assert addresses(srv, "www.imp.test.") == ["192.0.2.80"]


def test_zone_import_of_invalid_text_changes_nothing(srv, tmp_path):
    path = srv.zone_path("example.com")
    before = file_bytes(path)
    f = tmp_path / "bad.zone"
    f.write_text(SMALL + "bad A 192.0.2.999\n")
    msg = refused(srv, "EZONEFILE", "zone", "import", "example.com", str(f))
    assert "zone text:7:" in msg
    f.write_text(SMALL + "www CNAME elsewhere.test.\n")
    msg = refused(srv, "ECNAME", "zone", "import", "example.com", str(f))
    assert "CNAME and other data" in msg
    f.write_text(SMALL.replace("@ NS ns1\n", ""))
    refused(srv, "ENOAPEXNS", "zone", "import", "example.com", str(f))
    f.write_text(SMALL + "www.other.test. A 192.0.2.1\n")
    refused(srv, "EOUTOFZONE", "zone", "import", "example.com", str(f))
    assert file_bytes(path) == before
    assert addresses(srv, "www.example.com.") == ["192.0.2.80"]
    # A new zone with bad text is not created either.
    f.write_text("garbage\n")
    rc, doc, _ = run(srv, "zone", "import", "new.test", str(f))
    assert rc == 1 and doc["ok"] is False
    assert "new.test." not in [z["name"] for z in ok(srv, "zone", "list")]
    assert not os.path.exists(os.path.join(srv.dir, "new.test.zone"))


# ---- check, reload ----

def test_zone_check_reports_ok_or_the_file_line_error_and_changes_nothing(srv):
    data = ok(srv, "zone", "check", "example.com")
    assert data["ok"] is True and data["serial"] == 2024010101 and data["records"] == 4
    srv.write_zone("example.com", SMALL + "broken A 192.0.2.300\n")
    msg = refused(srv, "EZONEFILE", "zone", "check", "example.com")
    assert msg.startswith(srv.zone_path("example.com") + ":7: ")
    # Still served as loaded.
    assert addresses(srv, "www.example.com.") == ["192.0.2.80"]
    refused(srv, "ENOZONE", "zone", "check", "nope.test")


def test_zone_reload_publishes_a_valid_file_and_keeps_the_old_version_otherwise(srv):
    srv.write_zone("example.com", SMALL.replace("2024010101", "2024010102")
                   + "new A 192.0.2.9\n")
    data = ok(srv, "zone", "reload", "example.com")
    assert data["serial"] == 2024010102 and data["published"] is True
    assert addresses(srv, "new.example.com.") == ["192.0.2.9"]
    srv.write_zone("example.com", SMALL + "new CNAME www\nnew A 192.0.2.10\n")
    msg = refused(srv, "ECNAME", "zone", "reload", "example.com")
    assert "served version is unchanged" in msg
    assert addresses(srv, "new.example.com.") == ["192.0.2.9"]
    refused(srv, "ENOZONE", "zone", "reload", "nope.test")


# ---- enable, disable ----

def test_zone_disable_stops_answers_and_enable_restores_them_across_restarts(srv):
    data = ok(srv, "zone", "disable", "example.com")
    assert data["state"] == "disabled" and data["changed"] is True
    assert answer(srv, "www.example.com.").rcode() == dns.rcode.REFUSED
    assert ok(srv, "zone", "disable", "example.com")["changed"] is False
    assert ok(srv, "zone", "list")[0]["state"] == "disabled"
    srv.stop()
    srv.start()
    assert answer(srv, "www.example.com.").rcode() == dns.rcode.REFUSED
    data = ok(srv, "zone", "enable", "example.com")
    assert data["state"] == "enabled" and data["changed"] is True
    assert addresses(srv, "www.example.com.") == ["192.0.2.80"]
    assert ok(srv, "zone", "enable", "example.com")["changed"] is False
    # A config zone that is enabled again needs no catalog entry.
    assert catalog(srv)["zones"] == []
    srv.stop()
    srv.start()
    assert addresses(srv, "www.example.com.") == ["192.0.2.80"]
    refused(srv, "ENOZONE", "zone", "enable", "nope.test")
    refused(srv, "ENOZONE", "zone", "disable", "nope.test")


def test_runtime_zone_disable_and_enable(srv):
    ok(srv, "zone", "create", "rt.test")
    ok(srv, "zone", "disable", "rt.test")
    assert answer(srv, "rt.test.", "SOA").rcode() == dns.rcode.REFUSED
    assert catalog(srv)["zones"][0]["disabled"] is True
    srv.stop()
    srv.start()
    assert answer(srv, "rt.test.", "SOA").rcode() == dns.rcode.REFUSED
    ok(srv, "zone", "enable", "rt.test")
    assert answer(srv, "rt.test.", "SOA").rcode() == dns.rcode.NOERROR


def test_zone_enable_with_a_broken_file_fails_and_the_zone_stays_disabled(srv):
    ok(srv, "zone", "disable", "example.com")
    srv.write_zone("example.com", "garbage\n")
    rc, doc, _ = run(srv, "zone", "enable", "example.com")
    assert rc == 1 and "stays disabled" in doc["error"]["message"]
    assert ok(srv, "zone", "show", "example.com")["state"] == "disabled"
    assert answer(srv, "www.example.com.").rcode() == dns.rcode.REFUSED


def test_sighup_reload_keeps_runtime_zones_and_disabled_states(srv):
    ok(srv, "zone", "create", "rt.test")
    ok(srv, "record", "add", "rt.test", "www", "A", "192.0.2.44")
    ok(srv, "zone", "disable", "example.com")
    srv.reload()
    rc, doc, _ = run(srv, "config", "reload")
    assert rc == 0, doc
    assert addresses(srv, "www.rt.test.") == ["192.0.2.44"]
    assert answer(srv, "www.example.com.").rcode() == dns.rcode.REFUSED
