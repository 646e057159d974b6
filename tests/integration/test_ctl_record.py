# SPDX-License-Identifier: MIT
"""tdns-cli record commands against a real tdnsd: list, add, delete, update; answers right
after every change, SOA serial policies, durability (kill -9) and concurrent editors."""
import datetime
import shutil
import signal
import subprocess
import threading
import time

import dns.rcode
import dns.rdatatype
import pytest

from helpers import cli_json, cli_ok as ok, cli_refused as refused
from helpers import file_bytes, zone_tools_accept

SMALL = """$ORIGIN example.com.
$TTL 3600
@       IN SOA ns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 300
@          NS  ns1
@          NS  ns2.example.net.
ns1        A   192.0.2.53
www    600 A   192.0.2.80
www    600 A   192.0.2.81
mail       A   192.0.2.25
@          MX  10 mail
sub        NS  ns.sub
ns.sub     A   192.0.2.100
"""


def rrset(srv, name, rdtype="A"):
    """(rcode, sorted rdata texts, ttl) of an authoritative answer."""
    r = srv.query(name, rdtype)
    want = dns.rdatatype.from_text(rdtype)
    for rs in r.answer:
        if rs.rdtype == want:
            return r.rcode(), sorted(rd.to_text() for rd in rs), rs.ttl
    return r.rcode(), [], None


def serial(srv, zone="example.com."):
    r = srv.query(zone, "SOA")
    return r.answer[0][0].serial


@pytest.fixture
def srv(make_server):
    return make_server(zones={"example.com": SMALL})


# ---- list ----

def test_record_list_gives_fields_and_zone_file_lines(srv):
    data = ok(srv, "record", "list", "example.com")
    assert data[0]["type"] == "SOA"
    assert len(data) == 10
    www = [d for d in data if d["name"] == "www.example.com."]
    assert www == [
        {"name": "www.example.com.", "ttl": 600, "class": "IN", "type": "A",
         "rdata": "192.0.2.80", "text": "www.example.com.\t600\tIN\tA\t192.0.2.80"},
        {"name": "www.example.com.", "ttl": 600, "class": "IN", "type": "A",
         "rdata": "192.0.2.81", "text": "www.example.com.\t600\tIN\tA\t192.0.2.81"}]
    assert len(ok(srv, "record", "list", "example.com", "www")) == 2
    assert len(ok(srv, "record", "list", "example.com", "@", "NS")) == 2
    assert ok(srv, "record", "list", "example.com", "mail.example.com.", "MX") == []
    assert ok(srv, "record", "list", "example.com", "nothere") == []
    r = srv.cli("record", "list", "example.com", "www")
    assert r.returncode == 0
    assert r.stdout.splitlines() == ["www.example.com.\t600\tIN\tA\t192.0.2.80",
                                     "www.example.com.\t600\tIN\tA\t192.0.2.81"]
    refused(srv, "ENOZONE", "record", "list", "nope.test")
    refused(srv, "EUNKTYPE", "record", "list", "example.com", "www", "NOTATYPE")
    refused(srv, "EOUTOFZONE", "record", "list", "example.com", "www.other.test.")


# ---- add ----

def test_record_add_is_answered_at_once_and_bumps_the_serial(srv):
    assert serial(srv) == 2024010101
    data = ok(srv, "record", "add", "example.com", "new", "A", "192.0.2.7")
    assert data["changed"] is True and data["exists"] is False
    assert data["serial"] == 2024010102
    assert data["ttl"] == 3600
    assert rrset(srv, "new.example.com.") == (dns.rcode.NOERROR, ["192.0.2.7"], 3600)
    assert serial(srv) == 2024010102
    ok(srv, "record", "add", "example.com", "new.example.com.", "AAAA", "2001:db8::7")
    assert rrset(srv, "new.example.com.", "AAAA")[1] == ["2001:db8::7"]
    assert serial(srv) == 2024010103
    # The zone file on disk has it too, and BIND and Knot accept it.
    path = srv.zone_path("example.com")
    assert b"2001:db8::7" in file_bytes(path)
    zone_tools_accept("example.com", path)


FSYNC_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* fsync of a directory fails with EIO while the file $TDNS_TEST_FAIL_DIR_FSYNC exists. */
int
fsync(int fd)
{
	int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	const char *flag = getenv("TDNS_TEST_FAIL_DIR_FSYNC");
	struct stat st;
	if (flag != NULL && access(flag, F_OK) == 0 && fstat(fd, &st) == 0 &&
	    S_ISDIR(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return real(fd);
}
"""


def test_a_zone_edit_whose_directory_fsync_fails_is_committed_with_a_warning(
        make_server, tmp_path, monkeypatch):
    # The new zone file is in place once renamed: a failing directory fsync makes the change
    # possibly not durable, not undone; "nothing changed" would be a lie.
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler for the fsync shim")
    shim = str(tmp_path / "failfsync.so")
    src = tmp_path / "failfsync.c"
    src.write_text(FSYNC_SHIM)
    subprocess.run([cc, "-shared", "-fPIC", "-o", shim, str(src), "-ldl"], check=True)
    flag = tmp_path / "fail-dir-fsync"
    monkeypatch.setenv("LD_PRELOAD", shim)
    monkeypatch.setenv("TDNS_TEST_FAIL_DIR_FSYNC", str(flag))
    srv = make_server(zones={"example.com": SMALL})
    monkeypatch.delenv("LD_PRELOAD")  # only the daemon runs with the shim
    r = srv.cli("record", "add", "example.com", "new", "A", "192.0.2.7")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    flag.write_text("")
    r = srv.cli("record", "add", "example.com", "new2", "A", "192.0.2.8")
    path = srv.zone_path("example.com")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ("tdns-cli: warning: zone example.com.: %s was replaced, but its "
                        "directory could not be synced (Input/output error): the change may "
                        "not survive a crash\n" % path)
    assert rrset(srv, "new2.example.com.") == (dns.rcode.NOERROR, ["192.0.2.8"], 3600)
    assert b"192.0.2.8" in file_bytes(path)
    assert "directory could not be synced (Input/output error)" in srv.log()
    rc, doc, _ = cli_json(srv, "record", "add", "example.com", "new3", "A", "192.0.2.9")
    assert rc == 0 and doc["ok"] is True and doc["data"]["changed"] is True
    assert "could not be synced" in doc["warning"]


def test_record_add_takes_a_leading_ttl_only_when_the_rest_is_valid_rdata(srv):
    ok(srv, "record", "add", "example.com", "t", "A", "300", "192.0.2.1")
    assert rrset(srv, "t.example.com.") == (dns.rcode.NOERROR, ["192.0.2.1"], 300)
    # "20" is a TTL, but "mail2" alone is no MX rdata: both words are the rdata.
    ok(srv, "record", "add", "example.com", "@", "MX", "20", "mail2")
    _, mx, ttl = rrset(srv, "example.com.", "MX")
    assert mx == ["10 mail.example.com.", "20 mail2.example.com."] and ttl == 3600
    # With three words the first is the TTL.
    ok(srv, "record", "add", "example.com", "@", "MX", "1h", "30", "mail3")
    _, mx, ttl = rrset(srv, "example.com.", "MX")
    assert "30 mail3.example.com." in mx and ttl == 3600
    # Without a TTL an existing rrset's TTL is kept; with one the rrset takes it.
    ok(srv, "record", "add", "example.com", "www", "A", "192.0.2.82")
    assert rrset(srv, "www.example.com.")[2] == 600
    ok(srv, "record", "add", "example.com", "www", "A", "120", "192.0.2.83")
    _, addrs, ttl = rrset(srv, "www.example.com.")
    assert ttl == 120 and len(addrs) == 4
    ok(srv, "record", "add", "example.com", "txt", "TXT", '"hello world"', '"x;y"')
    assert rrset(srv, "txt.example.com.", "TXT")[1] == ['"hello world" "x;y"']


def test_adding_an_existing_record_reports_it_and_changes_nothing(srv):
    path = srv.zone_path("example.com")
    before = file_bytes(path)
    data = ok(srv, "record", "add", "example.com", "www", "A", "192.0.2.80")
    assert data["exists"] is True and data["changed"] is False
    assert data["serial"] == 2024010101
    data = ok(srv, "record", "add", "example.com", "WWW", "A", "600", "192.0.2.80")
    assert data["exists"] is True
    assert serial(srv) == 2024010101
    assert file_bytes(path) == before


def test_record_add_failures_are_refused_with_a_reason(srv):
    path = srv.zone_path("example.com")
    before = file_bytes(path)
    msg = refused(srv, "EBADRDATA", "record", "add", "example.com", "x", "A", "192.0.2.999")
    assert "192.0.2.999" in msg
    refused(srv, "EBADRDATA", "record", "add", "example.com", "x", "MX", "mail")
    refused(srv, "EBADRDATA", "record", "add", "example.com", "x", "A", "192.0.2.1", "192.0.2.2")
    refused(srv, "EBADTEXT", "record", "add", "example.com", "x", "TXT", "a\nb A 192.0.2.1")
    refused(srv, "EUNKTYPE", "record", "add", "example.com", "x", "BOGUS", "1")
    refused(srv, "EINVAL", "record", "add", "example.com", "x", "ANY", "1")
    refused(srv, "EBADTEXT", "record", "add", "example.com", "a..b", "A", "192.0.2.1")
    refused(srv, "EOUTOFZONE", "record", "add", "example.com", "www.example.net.", "A",
            "192.0.2.1")
    msg = refused(srv, "ENOZONE", "record", "add", "nope.test", "www", "A", "192.0.2.1")
    assert msg == "no such zone: nope.test"
    # CNAME beside other data (RFC 1034 §3.6.2) fails validation: nothing changes.
    msg = refused(srv, "ECNAME", "record", "add", "example.com", "www", "CNAME", "mail")
    assert "CNAME and other data" in msg
    refused(srv, "EMULTISOA", "record", "add", "example.com", "@", "SOA",
            "a. b. 1 2 3 4 5")
    refused(srv, "EMULTISOA", "record", "add", "example.com", "x", "SOA", "a. b. 1 2 3 4 5")
    assert file_bytes(path) == before
    assert serial(srv) == 2024010101
    assert rrset(srv, "x.example.com.")[0] == dns.rcode.NXDOMAIN
    r = srv.cli("record", "add", "example.com", "www", "CNAME", "mail")
    assert r.returncode == 1 and r.stderr.startswith("tdns-cli: zone example.com.: ")


def test_removing_glue_that_is_needed_is_refused(srv):
    path = srv.zone_path("example.com")
    before = file_bytes(path)
    refused(srv, "ENOGLUE", "record", "delete", "example.com", "ns.sub", "A")
    assert file_bytes(path) == before


# ---- delete ----

def test_record_delete_of_one_record_an_rrset_or_a_name(srv):
    ok(srv, "record", "delete", "example.com", "www", "A", "192.0.2.81")
    assert rrset(srv, "www.example.com.")[1] == ["192.0.2.80"]
    assert serial(srv) == 2024010102
    ok(srv, "record", "add", "example.com", "mail", "AAAA", "2001:db8::25")
    ok(srv, "record", "delete", "example.com", "mail", "A")
    assert rrset(srv, "mail.example.com.") == (dns.rcode.NOERROR, [], None)
    assert rrset(srv, "mail.example.com.", "AAAA")[1] == ["2001:db8::25"]
    ok(srv, "record", "delete", "example.com", "mail")
    assert rrset(srv, "mail.example.com.")[0] == dns.rcode.NXDOMAIN
    assert serial(srv) == 2024010105
    msg = refused(srv, "ENOENT", "record", "delete", "example.com", "mail")
    assert "mail.example.com." in msg
    msg = refused(srv, "ENOENT", "record", "delete", "example.com", "www", "A", "192.0.2.99")
    # Issue 15: the record that is not there is echoed whole, rdata included.
    assert "www.example.com. A 192.0.2.99" in msg, msg
    msg = refused(srv, "ENOENT", "record", "delete", "example.com", "www", "TXT")
    assert "www.example.com. TXT in zone example.com" in msg, msg
    refused(srv, "EBADRDATA", "record", "delete", "example.com", "www", "A", "nonsense")
    # Issue 15: a bad TTL in front of good rdata is reported as a bad TTL, not bad rdata.
    for ttl in ("3x", "99999999999", "1h30z"):
        msg = refused(srv, "EBADRDATA", "record", "add", "example.com", "www", "A", ttl,
                      "192.0.2.7")
        assert "bad TTL '%s'" % ttl in msg and "IPv4" not in msg, msg
    refused(srv, "ENOZONE", "record", "delete", "nope.test", "www")
    assert serial(srv) == 2024010105


def test_the_apex_soa_and_last_apex_ns_cannot_be_deleted(srv):
    path = srv.zone_path("example.com")
    before = file_bytes(path)
    refused(srv, "ENOSOA", "record", "delete", "example.com", "@", "SOA")
    refused(srv, "EINVAL", "record", "delete", "example.com", "@")
    refused(srv, "ENOAPEXNS", "record", "delete", "example.com", "@", "NS")
    assert file_bytes(path) == before
    ok(srv, "record", "delete", "example.com", "@", "NS", "ns2.example.net.")
    refused(srv, "ENOAPEXNS", "record", "delete", "example.com", "@", "NS", "ns1")
    assert rrset(srv, "example.com.", "NS")[1] == ["ns1.example.com."]


# ---- update ----

def test_record_update_replaces_the_whole_rrset(srv):
    data = ok(srv, "record", "update", "example.com", "www", "A", "192.0.2.90")
    assert data["changed"] is True and data["ttl"] == 600
    assert rrset(srv, "www.example.com.") == (dns.rcode.NOERROR, ["192.0.2.90"], 600)
    ok(srv, "record", "update", "example.com", "www", "A", "60", "192.0.2.91")
    assert rrset(srv, "www.example.com.") == (dns.rcode.NOERROR, ["192.0.2.91"], 60)
    assert serial(srv) == 2024010103
    assert ok(srv, "record", "update", "example.com", "www", "A", "60",
              "192.0.2.91")["changed"] is False
    assert serial(srv) == 2024010103
    ok(srv, "record", "update", "example.com", "fresh", "TXT", '"new"')
    assert rrset(srv, "fresh.example.com.", "TXT")[1] == ['"new"']
    refused(srv, "ECNAME", "record", "update", "example.com", "www", "CNAME", "mail")
    refused(srv, "EBADRDATA", "record", "update", "example.com", "www", "A", "x")
    refused(srv, "ENOZONE", "record", "update", "nope.test", "www", "A", "192.0.2.1")
    assert serial(srv) == 2024010104


def test_soa_update_keeps_a_larger_serial_and_bumps_a_smaller_one(srv):
    ok(srv, "record", "update", "example.com", "@", "SOA",
       "ns1 hostmaster 2030000000 7200 3600 1209600 60")
    assert serial(srv) == 2030000000
    r = srv.query("nothere.example.com.", "A")
    assert r.authority[0].ttl == 60
    ok(srv, "record", "update", "example.com", "@", "SOA",
       "ns1 hostmaster 5 7200 3600 1209600 60")
    assert serial(srv) == 2030000001


# ---- serial policies ----

def test_serial_policy_date_uses_yyyymmddnn(make_server):
    s = make_server(zones={"example.com": SMALL.replace("2024010101", "2")},
                    server_extra="serial-policy = date")
    ok(s, "record", "add", "example.com", "a", "A", "192.0.2.1")
    today = int(datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d")) * 100
    first = serial(s)
    assert first in (today, today + 100)  # midnight may pass
    ok(s, "record", "add", "example.com", "b", "A", "192.0.2.2")
    assert serial(s) == first + 1


def test_serial_policy_unixtime_uses_seconds_since_1970(make_server):
    s = make_server(zones={"example.com": SMALL.replace("2024010101", "2")},
                    server_extra="serial-policy = unixtime")
    t0 = int(time.time())
    ok(s, "record", "add", "example.com", "a", "A", "192.0.2.1")
    assert t0 <= serial(s) <= int(time.time())
    # An increment policy after a date-like serial: RFC 1982 addition.
    s2 = make_server(zones={"example.com": SMALL.replace("2024010101", "4294967295")})
    ok(s2, "record", "add", "example.com", "a", "A", "192.0.2.1")
    assert serial(s2) == 0


# ---- zones that are not served ----

def test_records_of_a_disabled_zone_are_kept_for_when_it_is_enabled(srv):
    ok(srv, "zone", "disable", "example.com")
    ok(srv, "record", "add", "example.com", "later", "A", "192.0.2.5")
    assert srv.query("later.example.com.").rcode() == dns.rcode.REFUSED
    assert len(ok(srv, "record", "list", "example.com", "later")) == 1
    ok(srv, "zone", "enable", "example.com")
    assert rrset(srv, "later.example.com.")[1] == ["192.0.2.5"]


# ---- durability and concurrency ----

def test_acknowledged_changes_survive_kill_9(srv):
    ok(srv, "zone", "create", "k9.test")
    ok(srv, "record", "add", "example.com", "k9", "A", "192.0.2.99")
    ok(srv, "record", "add", "k9.test", "www", "A", "192.0.2.98")
    # SIGKILL right after the replies: no clean shutdown, no chance to flush anything.
    srv.signal(signal.SIGKILL)
    srv.proc.wait()
    srv.logf.close()
    srv.start()
    assert rrset(srv, "k9.example.com.")[1] == ["192.0.2.99"]
    assert rrset(srv, "www.k9.test.")[1] == ["192.0.2.98"]
    assert serial(srv) == 2024010102


def test_two_concurrent_editors_lose_nothing(srv):
    errors = []

    def editor(prefix):
        for i in range(50):
            r = srv.cli("record", "add", "example.com", "%s%d" % (prefix, i), "A",
                        "198.51.100.%d" % i)
            if r.returncode != 0:
                errors.append(r.stderr)

    threads = [threading.Thread(target=editor, args=(p,)) for p in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for prefix in ("left", "right"):
        for i in range(50):
            assert rrset(srv, "%s%d.example.com." % (prefix, i))[1] == ["198.51.100.%d" % i]
    assert serial(srv) == 2024010101 + 100
    data = ok(srv, "record", "list", "example.com")
    assert len(data) == 10 + 100
    path = srv.zone_path("example.com")
    zone_tools_accept("example.com", path)
    assert file_bytes(path).count(b"198.51.100.") == 100
    srv.stop()
    srv.start()
    assert len(ok(srv, "record", "list", "example.com")) == 110
