#!/bin/sh
# SPDX-License-Identifier: MIT
# Regenerates the signed test zones of test_dnssec (run once, offline; the output is committed).
# Keys and signatures come from ldns (ldns-keygen, ldns-signzone) and BIND (dnssec-keygen,
# dnssec-signzone), DS records from dnssec-dsfromkey, NSEC3 hashes from ldns-nsec3-hash, so the
# library under test is checked against tools it shares no code with.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Fixed window: inception 2025-01-01, expiration 2035-01-01 (the test passes its own "now").
inc=20250101000000
exp=20350101000000

zone_text() {
	cat <<Z
\$ORIGIN $1
\$TTL 3600
@	IN SOA ns1.$1 hostmaster.$1 1 7200 3600 1209600 300
@	IN NS ns1.$1
ns1	IN A 192.0.2.1
www	IN A 192.0.2.80
www	IN A 192.0.2.81
www	IN AAAA 2001:db8::80
mx	IN MX 10 MAIL.Example.NET.
mx	IN MX 20 Backup.$1
Up	IN CNAME WWW.$1
*.wild	IN TXT "wildcard"
sub	IN NS ns.sub.$1
sub	IN DS 12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
ns.sub	IN A 192.0.2.53
insec	IN NS ns.other.example.
a.b.c.deep	IN A 192.0.2.99
Z
}

# ldns, NSEC (NSEC3 for algorithm 7, which only exists to announce NSEC3).
for alg in 5 7 8 10 13 14 15 16; do
	z=alg$alg.test.
	zone_text $z >"$work/$z.zone"
	(cd "$work" && ksk=$(ldns-keygen -k -a $alg $z) && zsk=$(ldns-keygen -a $alg $z) &&
		if [ $alg = 7 ]; then n3="-n -t 5 -s ABCDEF01"; else n3=""; fi &&
		ldns-signzone $n3 -i $inc -e $exp -f "$z.signed" -o $z "$z.zone" "$ksk" "$zsk" &&
		echo "$ksk" >ksk.name)
	ksk=$(cat "$work/ksk.name")
	cp "$work/$z.signed" alg$alg.signed
	{
		dnssec-dsfromkey -1 "$work/$ksk.key"
		dnssec-dsfromkey -2 "$work/$ksk.key"
		dnssec-dsfromkey -a SHA-384 "$work/$ksk.key"
	} >alg$alg.ds
done

# BIND, NSEC3 with opt-out, salt and iterations, ECDSA P-256.
z=optout.test.
zone_text $z >"$work/$z.zone"
(cd "$work" && ksk=$(dnssec-keygen -q -f KSK -a ECDSAP256SHA256 $z) &&
	zsk=$(dnssec-keygen -q -a ECDSAP256SHA256 $z) &&
	cat "$ksk.key" "$zsk.key" >>"$z.zone" &&
	dnssec-signzone -q -3 AABBCCDD -H 3 -A -s $inc -e $exp -o $z -f "$z.signed" "$z.zone" \
		"$ksk" "$zsk" >/dev/null && dnssec-dsfromkey -2 "$ksk.key" >"$z.ds")
cp "$work/$z.signed" optout.signed
cp "$work/$z.ds" optout.ds

# BIND, a KSK with the REVOKE flag (RFC 5011) that still signs the DNSKEY RRset, and the DS
# of the revoked key (from ldns-key2ds: dnssec-dsfromkey skips revoked keys): everything
# matches but the key must not be trusted.
z=revoked.test.
zone_text $z >"$work/$z.zone"
(cd "$work" && ksk=$(dnssec-keygen -q -f KSK -a ECDSAP256SHA256 $z) &&
	ksk=$(dnssec-revoke -r "$ksk.key") && ksk=$(basename "$ksk" .key) &&
	zsk=$(dnssec-keygen -q -a ECDSAP256SHA256 $z) &&
	cat "$ksk.key" "$zsk.key" >>"$z.zone" &&
	dnssec-signzone -q -P -A -s $inc -e $exp -o $z -f "$z.signed" "$z.zone" "$ksk" "$zsk" \
		>/dev/null && ldns-key2ds -n -2 "$ksk.key" >"$z.ds")
cp "$work/$z.signed" revoked.signed
cp "$work/$z.ds" revoked.ds

# The root KSKs from Debian's dns-root-data, to check the built-in root anchors against.
cp /usr/share/dns/root.key root.key

# NSEC3 hashes: "name iterations salt hash" (RFC 5155 Appendix A's example zone and our own).
hash() {
	if [ "$3" = - ]; then s=""; else s="-s $3"; fi
	# shellcheck disable=SC2086
	printf '%s %s %s %s\n' "$1" "$2" "$3" "$(ldns-nsec3-hash -t "$2" $s "$1")"
}
{
	for n in example. a.example. ai.example. x.y.w.example. "*.w.example."; do
		hash "$n" 12 aabbccdd
	done
	for n in optout.test. www.optout.test. a.b.c.deep.optout.test.; do
		hash "$n" 3 aabbccdd
	done
	hash nosalt.test. 0 -
	hash Mixed.CASE.test. 150 00
} >nsec3hash.txt
