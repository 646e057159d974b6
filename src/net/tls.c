/* SPDX-License-Identifier: MIT */
/* The server certificate of DoT and DoH: loading (PEM or PKCS#12), ALPN, resumption, reload. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/proverr.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net/net.h"

#define TLS_PASSWORD_MAX 1024
#define TLS_SESSION_TIMEOUT 3600 /* seconds a session (cache entry or ticket) may be resumed */

/* What a file looked like when we read it; a change of any field means a new file. */
struct file_id {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

enum { TLS_CERT, TLS_KEY, TLS_PASSWORD, TLS_NFILES };

struct net_tls {
	pthread_mutex_t lock;     /* guards ctx against the swap in net_tls_check */
	SSL_CTX *ctx;             /* the current certificate; each SSL holds its own reference */
	char *path[TLS_NFILES];   /* NULL when not configured */
	struct file_id loaded[TLS_NFILES]; /* the files ctx was made from */
	struct file_id seen[TLS_NFILES];   /* a change seen at the last check, not loaded yet */
	struct file_id failed[TLS_NFILES]; /* the files of the last failed load (logged once) */
	bool has_seen, has_failed;
	int failed_rc;
};

/* Per-SSL ex_data: which listener the connection came in on, for the ALPN choice. */
static int kind_index = -1;
static pthread_once_t kind_once = PTHREAD_ONCE_INIT;
static const enum net_stream_kind kind_dot = NET_STREAM_DOT;
static const enum net_stream_kind kind_doh = NET_STREAM_DOH;

static void
kind_index_init(void)
{
	kind_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* ALPN protocol lists in wire form (RFC 7301 §3.1), in our order of preference. */
static const unsigned char alpn_dot[] = "\x03" "dot";
static const unsigned char alpn_doh[] = "\x02" "h2" "\x08" "http/1.1";

static void
file_stat(const char *path, struct file_id *id)
{
	memset(id, 0, sizeof(*id));
	struct stat st;
	/* stat, not lstat: certbot's live/ names are symlinks that a renewal repoints. */
	if (path == NULL || stat(path, &st) != 0) {
		return;
	}
	id->present = true;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
}

static bool
file_same(const struct file_id *a, const struct file_id *b)
{
	return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

static bool
files_same(const struct file_id *a, const struct file_id *b)
{
	for (int i = 0; i < TLS_NFILES; i++) {
		if (!file_same(&a[i], &b[i])) {
			return false;
		}
	}
	return true;
}

/* OpenSSL's error queue, taken off the thread so that the cause can be told apart. */
struct ssl_errs {
	unsigned long e[16];
	int n;
};

static void
errs_take(struct ssl_errs *q)
{
	unsigned long e;
	q->n = 0;
	while ((e = ERR_get_error()) != 0) {
		if (q->n < (int)(sizeof(q->e) / sizeof(q->e[0]))) {
			q->e[q->n++] = e;
		}
	}
}

static bool
errs_has(const struct ssl_errs *q, int lib, int reason)
{
	for (int i = 0; i < q->n; i++) {
		if (ERR_GET_LIB(q->e[i]) == lib && ERR_GET_REASON(q->e[i]) == reason) {
			return true;
		}
	}
	return false;
}

/* The reason of the first (root) error in q, or fallback. */
static const char *
errs_reason(const struct ssl_errs *q, const char *fallback)
{
	const char *r = q->n > 0 ? ERR_reason_error_string(q->e[0]) : NULL;
	return r != NULL ? r : fallback;
}

/* The reason of the first queued error (or fallback), and clears the queue. */
static const char *
ssl_reason(const char *fallback)
{
	struct ssl_errs q;
	errs_take(&q);
	return errs_reason(&q, fallback);
}

/*
 * RFC 7301 §3.2: the server picks from the client's list by its own preference.  A client
 * that sends no ALPN never gets here: it is accepted (kdig and older DoT clients send none,
 * and HTTP then means http/1.1).
 */
static int
alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
	       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)arg;
	const enum net_stream_kind *kind = SSL_get_ex_data(ssl, kind_index);
	bool doh = kind != NULL && *kind == NET_STREAM_DOH;
	const unsigned char *prefs = doh ? alpn_doh : alpn_dot;
	unsigned int plen = doh ? sizeof(alpn_doh) - 1 : sizeof(alpn_dot) - 1;
	unsigned char *sel = NULL;
	unsigned char sellen = 0;
	if (inlen > 0 && SSL_select_next_proto(&sel, &sellen, prefs, plen, in, inlen) ==
	    OPENSSL_NPN_NEGOTIATED) {
		*out = sel;
		*outlen = sellen;
		return SSL_TLSEXT_ERR_OK;
	}
	if (doh) {
		/*
		 * RFC 7301 §3.2: no protocol in common is a fatal no_application_protocol
		 * alert.  A client that asks for, say, only "dot" or "imap" on the DoH port
		 * would not understand HTTP anyway; failing the handshake tells it at once.
		 */
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	/*
	 * DoT: RFC 7858 predates the "dot" ALPN id and many deployed clients send none or
	 * another one (some offer "h2" by habit of their TLS stack); the DNS framing is the same
	 * whatever they asked for, so go on without ALPN rather than lock them out.
	 */
	return SSL_TLSEXT_ERR_NOACK;
}

/* Hands the password read from password-file to OpenSSL; never prompts on a terminal. */
static int
password_cb(char *buf, int size, int rwflag, void *userdata)
{
	(void)rwflag;
	const char *pw = userdata;
	if (pw == NULL || size <= 0) {
		return -1;
	}
	size_t n = strlen(pw);
	if (n > (size_t)size) {
		return -1;
	}
	memcpy(buf, pw, n);
	return (int)n;
}

/* Reads the first line of path into pw (newline and CR stripped). */
static int
read_password(const char *path, char *pw, size_t cap, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open the password file: %s", path,
			 strerror(errno));
		return TDNS_EIO;
	}
	pw[0] = '\0';
	if (fgets(pw, (int)cap, f) == NULL && ferror(f)) {
		snprintf(err, errlen, "%s: cannot read the password file: %s", path,
			 strerror(errno));
		fclose(f);
		return TDNS_EIO;
	}
	fclose(f);
	size_t n = strlen(pw);
	while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r')) {
		pw[--n] = '\0';
	}
	return TDNS_OK;
}

/* Reads path whole into a memory BIO, so that PKCS#12 detection and parsing see one copy. */
static BIO *
read_file_bio(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	BIO *mem = BIO_new(BIO_s_mem());
	char buf[4096];
	size_t n;
	bool ok = mem != NULL;
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		ok = BIO_write(mem, buf, (int)n) == (int)n;
	}
	if (ok && ferror(f)) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		BIO_free(mem);
		fclose(f);
		return NULL;
	}
	fclose(f);
	if (!ok) {
		snprintf(err, errlen, "%s: out of memory", path);
		BIO_free(mem);
		return NULL;
	}
	return mem;
}

/*
 * Loads a PKCS#12 file (as `openssl pkcs12 -export` makes from certbot's PEM files): its
 * certificate, its key and the chain that comes with it.
 */
static int
load_pkcs12(SSL_CTX *ctx, PKCS12 *p12, const char *path, const char *pw, const char *pwpath,
	    char *err, size_t errlen)
{
	/* Tell a wrong password from a damaged file: the MAC is checked with the password. */
	if (PKCS12_mac_present(p12) && !PKCS12_verify_mac(p12, pw, -1) &&
	    !(pw[0] == '\0' && PKCS12_verify_mac(p12, NULL, 0))) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: wrong PKCS#12 password (%s)", path,
			 pwpath != NULL ? pwpath : "no [tls] password-file set");
		return TDNS_ECONFIG;
	}
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *chain = NULL;
	int rc = TDNS_ECONFIG;
	if (!PKCS12_parse(p12, pw, &pkey, &cert, &chain)) {
		snprintf(err, errlen, "%s: cannot read the PKCS#12 file: %s", path,
			 ssl_reason("unknown error"));
		goto out;
	}
	if (cert == NULL || pkey == NULL) {
		snprintf(err, errlen, "%s: the PKCS#12 file lacks the %s", path,
			 cert == NULL ? "certificate" : "private key");
		goto out;
	}
	if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
		snprintf(err, errlen, "%s: unusable certificate or key: %s", path,
			 ssl_reason("unknown error"));
		goto out;
	}
	for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		if (SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i)) != 1) {
			snprintf(err, errlen, "%s: cannot use chain certificate %d: %s", path,
				 i + 1, ssl_reason("unknown error"));
			goto out;
		}
	}
	rc = TDNS_OK;
out:
	EVP_PKEY_free(pkey);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

/* Loads a PEM chain (leaf first, as certbot's fullchain.pem) and its key. */
static int
load_pem(SSL_CTX *ctx, const char *path, const char *keypath, const char *pw, char *err,
	 size_t errlen)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, path) != 1) {
		struct ssl_errs q;
		errs_take(&q);
		snprintf(err, errlen, "%s: %s", path,
			 errs_has(&q, ERR_LIB_PEM, PEM_R_NO_START_LINE)
				 ? "neither a PEM certificate nor a PKCS#12 file"
				 : errs_reason(&q, "cannot read the certificate"));
		return TDNS_ECONFIG;
	}
	const char *kp = keypath != NULL ? keypath : path;
	SSL_CTX_set_default_passwd_cb(ctx, password_cb);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)pw);
	int ok = SSL_CTX_use_PrivateKey_file(ctx, kp, SSL_FILETYPE_PEM);
	SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
	if (ok != 1) {
		struct ssl_errs q;
		errs_take(&q);
		const char *why;
		if (errs_has(&q, ERR_LIB_X509, X509_R_KEY_VALUES_MISMATCH)) {
			why = "the private key does not match the certificate";
		} else if (errs_has(&q, ERR_LIB_PEM, PEM_R_BAD_PASSWORD_READ) ||
			   errs_has(&q, ERR_LIB_PROV, PROV_R_UNABLE_TO_GET_PASSPHRASE)) {
			why = "the private key is encrypted and no [tls] password-file is set";
		} else if (errs_has(&q, ERR_LIB_PROV, PROV_R_BAD_DECRYPT)) {
			why = "cannot decrypt the private key: "
			      "wrong password in [tls] password-file";
		} else if (errs_has(&q, ERR_LIB_OSSL_DECODER, ERR_GET_REASON(ERR_R_UNSUPPORTED)) ||
			   errs_has(&q, ERR_LIB_PEM, PEM_R_NO_START_LINE)) {
			why = keypath != NULL ? "no PEM private key in it"
					      : "no PEM private key in it (set [tls] key)";
		} else {
			why = errs_reason(&q, "cannot read the private key");
		}
		snprintf(err, errlen, "%s: %s", kp, why);
		return TDNS_ECONFIG;
	}
	return TDNS_OK;
}

/* Builds a new context from the configured files. */
static int
ctx_build(const struct net_tls *t, SSL_CTX **out, char *err, size_t errlen)
{
	*out = NULL;
	char pw[TLS_PASSWORD_MAX];
	pw[0] = '\0';
	const char *pwpath = t->path[TLS_PASSWORD];
	const char *cert = t->path[TLS_CERT];
	int rc;
	if (pwpath != NULL) {
		rc = read_password(pwpath, pw, sizeof(pw), err, errlen);
		if (rc != TDNS_OK) {
			return rc;
		}
	}
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	BIO *bio = NULL;
	PKCS12 *p12 = NULL;
	if (ctx == NULL) {
		snprintf(err, errlen, "%s: cannot create a TLS context: %s", cert,
			 ssl_reason("out of memory"));
		rc = TDNS_ENOMEM;
		goto out;
	}
	/* RFC 8310 §9 and RFC 9325 §3.1.1: nothing older than TLS 1.2. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/*
	 * Renegotiation lets a client make us redo expensive handshakes on one connection and
	 * is of no use to DNS; compression invites CRIME.  Our cipher order wins (TLS 1.2).
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
				 SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Idle connections (RFC 7766 keeps them open) should not hold 2 × 16 KiB each. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/*
	 * RFC 7858 §3.4 recommends resumption (RFC 5077 tickets, RFC 8446 §2.2 PSKs).  One
	 * context serves every worker, so its ticket keys and its session cache (internally
	 * locked) are shared: a client resumes whichever worker the kernel hands it to.  A
	 * reload starts with new keys: a renewed certificate costs each client one full
	 * handshake, and no session made under a replaced certificate outlives it.
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_timeout(ctx, TLS_SESSION_TIMEOUT);
	static const unsigned char sid_ctx[] = "tdns";
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);
	bio = read_file_bio(cert, err, errlen);
	if (bio == NULL) {
		rc = TDNS_EIO;
		goto out;
	}
	/* PKCS#12 is DER; a PEM file never parses as one, so the content decides. */
	p12 = d2i_PKCS12_bio(bio, NULL);
	ERR_clear_error();
	if (p12 != NULL) {
		if (t->path[TLS_KEY] != NULL) {
			snprintf(err, errlen,
				 "%s: a PKCS#12 file holds its own key; remove [tls] key", cert);
			rc = TDNS_ECONFIG;
			goto out;
		}
		rc = load_pkcs12(ctx, p12, cert, pw, pwpath, err, errlen);
	} else {
		rc = load_pem(ctx, cert, t->path[TLS_KEY], pwpath != NULL ? pw : NULL, err,
			      errlen);
	}
	if (rc != TDNS_OK) {
		goto out;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s: the private key does not match the certificate",
			 t->path[TLS_KEY] != NULL ? t->path[TLS_KEY] : cert);
		ERR_clear_error();
		rc = TDNS_ECONFIG;
		goto out;
	}
	*out = ctx;
	ctx = NULL;
	rc = TDNS_OK;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	PKCS12_free(p12);
	BIO_free(bio);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

static void
stat_all(const struct net_tls *t, struct file_id *ids)
{
	for (int i = 0; i < TLS_NFILES; i++) {
		file_stat(t->path[i], &ids[i]);
	}
}

static char *
path_dup(const char *s)
{
	return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

int
net_tls_new(const struct cfg *c, struct net_tls **out, char *err, size_t errlen)
{
	*out = NULL;
	if (c->tls_certificate == NULL || c->tls_certificate[0] == '\0') {
		snprintf(err, errlen, "[tls] certificate is needed for DNS over TLS and HTTPS");
		return TDNS_ECONFIG;
	}
	pthread_once(&kind_once, kind_index_init);
	if (kind_index < 0) {
		snprintf(err, errlen, "cannot set up OpenSSL");
		return TDNS_ENOMEM;
	}
	struct net_tls *t = calloc(1, sizeof(*t));
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return TDNS_ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	t->path[TLS_CERT] = path_dup(c->tls_certificate);
	t->path[TLS_KEY] = path_dup(c->tls_key);
	t->path[TLS_PASSWORD] = path_dup(c->tls_password_file);
	if (t->path[TLS_CERT] == NULL || (c->tls_key != NULL && c->tls_key[0] != '\0' &&
					  t->path[TLS_KEY] == NULL) ||
	    (c->tls_password_file != NULL && c->tls_password_file[0] != '\0' &&
	     t->path[TLS_PASSWORD] == NULL)) {
		snprintf(err, errlen, "out of memory");
		net_tls_free(t);
		return TDNS_ENOMEM;
	}
	/* Stat first: a file that changes while we read it is read again at the next check. */
	stat_all(t, t->loaded);
	int rc = ctx_build(t, &t->ctx, err, errlen);
	if (rc != TDNS_OK) {
		net_tls_free(t);
		return rc;
	}
	*out = t;
	return TDNS_OK;
}

void
net_tls_free(struct net_tls *t)
{
	if (t == NULL) {
		return;
	}
	SSL_CTX_free(t->ctx);
	for (int i = 0; i < TLS_NFILES; i++) {
		free(t->path[i]);
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}

SSL *
net_tls_ssl(struct net_tls *t, enum net_stream_kind kind)
{
	pthread_mutex_lock(&t->lock);
	/* SSL_new takes its own reference: a swap may free t->ctx while this SSL lives on. */
	SSL *ssl = SSL_new(t->ctx);
	pthread_mutex_unlock(&t->lock);
	if (ssl == NULL) {
		ERR_clear_error();
		return NULL;
	}
	bool doh = kind == NET_STREAM_DOH;
	/*
	 * Sessions are resumed only on the kind of listener that made them, so a session won
	 * for DoT cannot be replayed to talk HTTP (cross-protocol confusion, ALPACA).
	 */
	static const unsigned char sid_dot[] = "tdns-dot";
	static const unsigned char sid_doh[] = "tdns-doh";
	if (SSL_set_ex_data(ssl, kind_index, (void *)(doh ? &kind_doh : &kind_dot)) != 1 ||
	    SSL_set_session_id_context(ssl, doh ? sid_doh : sid_dot,
				       (unsigned int)(doh ? sizeof(sid_doh) : sizeof(sid_dot)) -
					       1) != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

/* "CN=dns.example, expires Jan  2 03:04:05 2026 GMT" for the log. */
static void
describe_cert(SSL_CTX *ctx, char *buf, size_t cap)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	BIO *b = BIO_new(BIO_s_mem());
	buf[0] = '\0';
	if (x == NULL || b == NULL) {
		BIO_free(b);
		return;
	}
	(void)X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
	BIO_puts(b, ", expires ");
	(void)ASN1_TIME_print(b, X509_get0_notAfter(x));
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		BIO_puts(b, " (EXPIRED)");
	}
	int n = BIO_read(b, buf, (int)cap - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
	ERR_clear_error();
}

int
net_tls_check(struct net_tls *t)
{
	struct file_id now[TLS_NFILES];
	stat_all(t, now);
	if (files_same(now, t->loaded)) {
		t->has_seen = false;
		return 0;
	}
	if (t->has_failed && files_same(now, t->failed)) {
		/* Already logged; wait for the next change. */
		return t->failed_rc;
	}
	if (!t->has_seen || !files_same(now, t->seen)) {
		/*
		 * Wait until the files stay the same for one check: a tool that writes the
		 * certificate and then the key, or writes in place, is not caught half done.
		 */
		memcpy(t->seen, now, sizeof(now));
		t->has_seen = true;
		return 0;
	}
	t->has_seen = false;
	char err[512];
	SSL_CTX *ctx = NULL;
	int rc = ctx_build(t, &ctx, err, sizeof(err));
	if (rc != TDNS_OK) {
		memcpy(t->failed, now, sizeof(now));
		t->has_failed = true;
		t->failed_rc = rc;
		tdns_err("TLS certificate not reloaded, keeping the old one: %s", err);
		return rc;
	}
	pthread_mutex_lock(&t->lock);
	SSL_CTX *old = t->ctx;
	t->ctx = ctx;
	pthread_mutex_unlock(&t->lock);
	/* Open connections hold references to old; it goes with the last of them. */
	SSL_CTX_free(old);
	memcpy(t->loaded, now, sizeof(now));
	t->has_failed = false;
	char desc[512];
	describe_cert(ctx, desc, sizeof(desc));
	tdns_notice("TLS certificate reloaded from %s (subject %s)", t->path[TLS_CERT], desc);
	return 1;
}

void
net_tls_close_notify(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	if (ssl != NULL) {
		(void)SSL_shutdown(ssl);
		ERR_clear_error();
	}
}
