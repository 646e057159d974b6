# SPDX-License-Identifier: MIT
"""Conditional forwarder zones whose FWD records name the forwarders (issue 4).

FWD is the private-use type 65281 (Technitium's number) with one <character-string>: a server
URL or this-server.  The records live in the zone, so they can be written in its file, created
with `zone create NAME --type forwarder --forwarder URL`, and changed with `record add/delete`;
every change reroutes the domain at once.  FWD records below the apex forward a part of the
zone elsewhere.  Checked against fake upstreams that record which one was asked."""
import json

import dns.rdatatype
import pytest

from test_forwarder import (GOOGLE_UPSTREAM, LOCAL_TEST, addresses, ask,  # noqa: F401
                            assert_google_cname_answer, cli_json, cli_ok, fakes, forwarded_ok,
                            start, wait_for, wait_up)

FWD = 65281


def fwd_zone_file(*servers, extra=""):
    text = "$ORIGIN google.test.\n$TTL 300\n"
    for s in servers:
        text += '@ FWD "%s"\n' % s
    return text + extra


def test_fwd_records_in_the_zone_file_name_the_forwarders(make_server, fakes):
    default, google = fakes("default"), fakes("google")
    google.add(*GOOGLE_UPSTREAM)
    text = fwd_zone_file(google.url, extra="www CNAME forcesafesearch.google.test.\n")
    srv = start(make_server, [default.url],
                extra="[zone google.test]\ntype = forwarder\nfile = google.test.zone\n",
                files={"google.test": text})

    # The example: the zone's CNAME plus the forwarded addresses of its target.
    assert_google_cname_answer(srv)
    r = forwarded_ok(ask(srv, "mail.google.test."))
    assert addresses(r) == ["142.250.1.25"]
    assert google.count("mail.google.test.") == 1
    assert not [q for q in default.queries if q[2].endswith("google.test.")]
    # The FWD record itself is zone data: asked for, it is answered from the zone.
    r = ask(srv, "google.test.", FWD)
    url = google.url.encode()
    assert [rd.data for rr in r.answer for rd in rr] == [bytes([len(url)]) + url]


def test_fwd_records_below_the_apex_forward_part_of_the_zone_elsewhere(make_server, fakes):
    default, corp, lab = fakes("default"), fakes("corp"), fakes("lab")
    corp.add("corp.test. 3600 IN SOA ns.corp.test. h.corp.test. 1 900 900 1800 60",
             "www.corp.test. 300 IN A 10.0.0.1", "x.lab.corp.test. 300 IN A 10.0.0.2")
    lab.add("lab.corp.test. 3600 IN SOA ns.lab.corp.test. h.corp.test. 1 900 900 1800 60",
            "x.lab.corp.test. 300 IN A 10.9.9.9")
    text = ("$ORIGIN corp.test.\n@ 300 FWD \"%s\"\nlab 300 FWD \"%s\"\n" % (corp.url, lab.url))
    srv = start(make_server, [default.url],
                extra="[zone corp.test]\ntype = forwarder\n", files={"corp.test": text})
    assert addresses(forwarded_ok(ask(srv, "www.corp.test."))) == ["10.0.0.1"]
    assert addresses(forwarded_ok(ask(srv, "x.lab.corp.test."))) == ["10.9.9.9"]
    assert corp.count("x.lab.corp.test.") == 0 and lab.count("x.lab.corp.test.") == 1
    assert lab.count("www.corp.test.") == 0


def test_zone_create_forwarder_and_fwd_records_change_routing_at_once(make_server, fakes):
    default, google, other = fakes("default"), fakes("google"), fakes("other")
    google.add(*GOOGLE_UPSTREAM)
    other.add("google.test. 3600 IN SOA ns1.google.test. h.google.test. 1 900 900 1800 60",
              "mail.google.test. 300 IN A 203.0.113.25",
              "maps.google.test. 300 IN A 203.0.113.26")
    srv = start(make_server, [default.url])

    data = cli_ok(srv, "zone", "create", "google.test", "--type", "forwarder",
                  "--forwarder", google.url)
    assert data["type"] == "forwarder"
    assert addresses(forwarded_ok(ask(srv, "mail.google.test."))) == ["142.250.1.25"]

    # An override record added at run time answers at once, with its target forwarded.
    cli_ok(srv, "record", "add", "google.test", "www", "CNAME", "forcesafesearch.google.test.")
    r = forwarded_ok(ask(srv, "www.google.test."), aa=None)
    assert addresses(r) == ["216.239.38.120"]

    # Replacing the FWD record sends the domain to the other upstream (nothing cached for it).
    listed = cli_ok(srv, "record", "list", "google.test", "@", "FWD")
    assert google.url in json.dumps(listed)
    cli_ok(srv, "record", "add", "google.test", "@", "FWD", other.url)
    cli_ok(srv, "record", "delete", "google.test", "@", "FWD", google.url)
    r = forwarded_ok(ask(srv, "maps.google.test."))
    assert addresses(r) == ["203.0.113.26"]
    assert other.count("maps.google.test.") == 1 and google.count("maps.google.test.") == 0

    # The file holds the FWD record, and a restart keeps the zone a forwarder zone.
    with open(srv.zone_path("google.test")) as f:
        saved = f.read()
    fwd_lines = [ln.split() for ln in saved.splitlines() if "FWD" in ln.split()]
    assert [ln[-1] for ln in fwd_lines] == ['"%s"' % other.url], saved
    srv.stop()
    srv.start(wait=False)
    wait_up(srv)
    zones = cli_ok(srv, "zone", "list")
    z = [z for z in zones if z["name"] == "google.test."][0]
    assert z["type"] == "forwarder"
    r = forwarded_ok(ask(srv, "mail.google.test."))
    assert addresses(r) == ["203.0.113.25"]


def test_zone_create_forwarder_defaults_to_this_server(make_server, fakes):
    default = fakes("default")
    default.add("inner.test. 3600 IN SOA ns.inner.test. h.inner.test. 1 900 900 1800 60",
                "a.inner.test. 300 IN A 198.51.100.7")
    srv = start(make_server, [default.url])
    cli_ok(srv, "zone", "create", "inner.test", "--type", "forwarder")
    listed = json.dumps(cli_ok(srv, "record", "list", "inner.test", "@", "FWD"))
    assert "this-server" in listed
    cli_ok(srv, "record", "add", "inner.test", "b", "A", "192.0.2.77")
    assert addresses(forwarded_ok(ask(srv, "a.inner.test."))) == ["198.51.100.7"]
    r = ask(srv, "b.inner.test.")
    assert addresses(r) == ["192.0.2.77"]
    assert default.count("b.inner.test.") == 0


@pytest.mark.parametrize("args, message", [
    (["record", "add", "google.test", "@", "FWD", "gopher://x"], "bad FWD rdata"),
    (["record", "add", "google.test", "@", "FWD", "tls://"], "bad FWD rdata"),
    (["record", "add", "local.test", "@", "FWD", "udp://192.0.2.1"],
     "FWD records belong in conditional forwarder zones"),
    (["zone", "create", "bad.test", "--type", "forwarder", "--forwarder", "ftp://x"],
     "invalid forwarder 'ftp://x'"),
    (["zone", "create", "bad.test", "--type", "primary-ish"], "unsupported zone type"),
    (["zone", "create", "bad.test", "--type", "secondary"],
     "a secondary zone needs --primary"),
    (["zone", "create", "bad.test", "--forwarder", "udp://192.0.2.1"],
     "--forwarder is for zones of type forwarder"),
])
def test_bad_fwd_records_and_zone_types_are_refused(make_server, fakes, args, message):
    default = fakes("default")
    srv = start(make_server, [default.url])
    cli_ok(srv, "zone", "create", "google.test", "--type", "forwarder")
    rc, doc, err = cli_json(srv, *args)
    assert rc != 0, doc
    assert message in json.dumps(doc) + err, (doc, err)
    # Nothing changed: the forwarder zone still has its one FWD record.
    listed = cli_ok(srv, "record", "list", "google.test", "@", "FWD")
    assert [r["rdata"] for r in listed] == ['"this-server"'], listed
    assert not wait_for(lambda: "bad.test." in json.dumps(cli_ok(srv, "zone", "list")), 0.1)


def test_override_cname_chains_are_followed_through_the_zone(make_server, fakes):
    default, google = fakes("default"), fakes("google")
    google.add(*GOOGLE_UPSTREAM)
    text = fwd_zone_file(google.url, extra=(
        "www CNAME safe\n"
        "safe CNAME forcesafesearch.google.test.\n"
        "local CNAME here\n"
        "here A 192.0.2.44\n"))
    srv = start(make_server, [default.url],
                extra="[zone google.test]\ntype = forwarder\n", files={"google.test": text})
    # Two CNAMEs of the zone, then the forwarded address of the last target.
    r = forwarded_ok(ask(srv, "www.google.test."), aa=None)
    assert [(rr.name.to_text(), dns.rdatatype.to_text(rr.rdtype)) for rr in r.answer] == [
        ("www.google.test.", "CNAME"), ("safe.google.test.", "CNAME"),
        ("forcesafesearch.google.test.", "A")], r
    assert addresses(r) == ["216.239.38.120"]
    assert google.count("safe.google.test.") == 0 and google.count("www.google.test.") == 0
    # A chain that ends at the zone's own data is answered from the zone alone.
    r = ask(srv, "local.google.test.")
    assert addresses(r) == ["192.0.2.44"]
    assert google.count("here.google.test.") == 0


@pytest.mark.parametrize("recursion", ["recursive", "off"])
def test_conditional_forwarder_zones_work_in_every_recursion_mode(make_server, fakes,
                                                                 tmp_path, recursion):
    # Issue 5: mode = recursive and mode = off keep using forwarder zones.  The root hints
    # name an address where nothing listens, so nothing can leave the machine.
    hints = tmp_path / "hints.zone"
    hints.write_text(". 3600000 NS a.root.test.\na.root.test. 3600000 A 127.254.254.254\n")
    google = fakes("google")
    google.add(*GOOGLE_UPSTREAM)
    text = fwd_zone_file(google.url, extra="www CNAME forcesafesearch.google.test.\n")
    extra = "[zone google.test]\ntype = forwarder\nfile = google.test.zone\n"
    recursion_keys = "[recursion]\nmode = %s\n" % recursion
    if recursion == "recursive":
        recursion_keys += "root-hints = %s\n" % hints
    srv = make_server(zones={"local.test": LOCAL_TEST}, extra=recursion_keys + extra,
                      start=False)
    srv.write_zone("google.test", text)
    srv.start(wait=False)
    wait_up(srv)
    r = forwarded_ok(ask(srv, "www.google.test."), aa=None)
    assert addresses(r) == ["216.239.38.120"]
    assert addresses(forwarded_ok(ask(srv, "mail.google.test."))) == ["142.250.1.25"]
    assert google.count("mail.google.test.") == 1
