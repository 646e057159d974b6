/* SPDX-License-Identifier: MIT */
/* crypto schema: the [tsig NAME] section table, its secrets read from the file or a file. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "cfg/cfg.h"
#include "crypto/crypto.h"

static const struct cfg_enum tsig_algs[] = {
	{ "hmac-sha256", CRYPTO_TSIG_HMAC_SHA256 },
	{ "hmac-sha384", CRYPTO_TSIG_HMAC_SHA384 },
	{ "hmac-sha512", CRYPTO_TSIG_HMAC_SHA512 },
	{ "hmac-sha1", CRYPTO_TSIG_HMAC_SHA1 },
	{ "hmac-md5", CRYPTO_TSIG_HMAC_MD5 },
	{ "hmac-md5.sig-alg.reg.int", CRYPTO_TSIG_HMAC_MD5 },
	{ NULL, 0 },
};

static const struct cfg_key tsig_keys[] = {
	{
		.key = "algorithm", .def = "hmac-sha256",
		.help = "the key's HMAC: hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha1 or "
			"hmac-md5",
		.type = CFG_ENUM, .names = tsig_algs, .offset = offsetof(struct cfg_tsig, algorithm),
	},
	{
		.key = "secret", .def = "",
		.help = "the shared secret in base64 (never shown); or secret-file",
		.type = CFG_STR, .flags = CFG_KEY_SECRET,
		.offset = offsetof(struct cfg_tsig, secret),
	},
	{
		/* DESIGN.md "Persistence": secrets are files of mode 0600. */
		.key = "secret-file", .def = "",
		.help = "a file (absolute or relative to state-dir, mode 0600) holding the secret "
			"in base64",
		.type = CFG_STR, .offset = offsetof(struct cfg_tsig, secret_file),
	},
	{ .key = NULL },
};

/* Key names are domain names: "transfer-key" and "Transfer-Key." are the same key. */
static int
tsig_open(void *inst, const char *name, char *why, size_t whylen)
{
	static const uint8_t root[1] = { 0 };
	struct cfg_tsig *t = inst;
	int len = dns_name_from_text(name, strlen(name), root, t->key.name);
	if (len < 0) {
		snprintf(why, whylen, "%s", tdns_status_msg(len));
		return len;
	}
	dns_name_lower(t->key.name);
	return TDNS_OK;
}

static bool
tsig_same(const void *a, const void *b)
{
	return dns_name_eq(((const struct cfg_tsig *)a)->key.name,
			   ((const struct cfg_tsig *)b)->key.name);
}

/*
 * Reads the secret of secret-file path into buf (NUL-terminated); the file must belong to
 * nobody but its owner (mode 0600 or 0400).  TDNS_OK, or TDNS_ECONFIG with why in err.
 */
static int
read_secret_file(const struct cfg_tsig *t, const char *path, char *buf, size_t cap, char *err,
		 size_t errlen)
{
	FILE *fp = fopen(path, "r");
	struct stat st;
	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		snprintf(err, errlen, "%s:%u: tsig '%s': cannot read secret-file %s: %s; expected "
			 "a file holding the secret in base64", t->src_file, t->src_line, t->name,
			 path, strerror(errno));
		if (fp != NULL) {
			fclose(fp);
		}
		return TDNS_ECONFIG;
	}
	if ((st.st_mode & 077) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s:%u: tsig '%s': secret-file %s has mode %04o; expected a "
			 "regular file of mode 0600 (chmod 600 %s)", t->src_file, t->src_line,
			 t->name, path, (unsigned)(st.st_mode & 07777), path);
		fclose(fp);
		return TDNS_ECONFIG;
	}
	size_t n = fread(buf, 1, cap - 1, fp);
	bool more = !feof(fp);
	fclose(fp);
	buf[n] = '\0';
	if (more) {
		OPENSSL_cleanse(buf, cap);
		snprintf(err, errlen, "%s:%u: tsig '%s': secret-file %s is too long; expected at "
			 "most %u octets of secret in base64", t->src_file, t->src_line, t->name,
			 path, CRYPTO_TSIG_SECRET_MAX);
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

/* Exactly one of secret and secret-file; decodes it into the key. */
static int
tsig_finish(struct cfg *c, void *inst, char *err, size_t errlen)
{
	struct cfg_tsig *t = inst;
	bool has_secret = t->secret[0] != '\0', has_file = t->secret_file[0] != '\0';
	if (has_secret == has_file) {
		snprintf(err, errlen, "%s:%u: tsig '%s' has %s; expected secret = BASE64 or "
			 "secret-file = FILE", t->src_file, t->src_line, t->name,
			 has_secret ? "both secret and secret-file" : "no secret");
		return TDNS_ECONFIG;
	}
	char buf[CRYPTO_TSIG_SECRET_MAX * 2];
	const char *text = t->secret;
	if (has_file) {
		char path[4096];
		bool abs = t->secret_file[0] == '/';
		snprintf(path, sizeof(path), "%s%s%s", abs ? "" : c->state_dir, abs ? "" : "/",
			 t->secret_file);
		if (read_secret_file(t, path, buf, sizeof(buf), err, errlen) != TDNS_OK) {
			return TDNS_ECONFIG;
		}
		text = buf;
	}
	int rc = crypto_tsig_key_init(&t->key, t->name, (enum crypto_tsig_alg)t->algorithm, text);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc != TDNS_OK) {
		/* Never quote the secret itself. */
		snprintf(err, errlen, "%s:%u: tsig '%s': the secret%s%s is not valid; expected "
			 "1-%u octets in base64", t->src_file, t->src_line, t->name,
			 has_file ? " in " : "", has_file ? t->secret_file : "",
			 CRYPTO_TSIG_SECRET_MAX);
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

static const struct cfg_named tsig_named = {
	CFG_NAMED_LAYOUT(cfg_tsig, tsigs, ntsigs),
	.name_expect = "a key name such as transfer-key",
	.open = tsig_open,
	.same = tsig_same,
};

const struct cfg_table crypto_schema_tsig = {
	.section = "tsig", .keys = tsig_keys, .named = &tsig_named, .finish = tsig_finish,
};

const struct crypto_tsig_key *
crypto_tsig_key_find(const struct cfg_tsig *keys, size_t nkeys, const uint8_t *name)
{
	for (size_t i = 0; i < nkeys; i++) {
		if (dns_name_eq(keys[i].key.name, name)) {
			return &keys[i].key;
		}
	}
	return NULL;
}
