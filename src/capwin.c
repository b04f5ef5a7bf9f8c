/*
 * capwin.c: "protocol = capwin" (both sides) and "capwinctrl" (client
 * mode), for the CapWIN application.
 *
 * The wire, as stunnel 5.75 speaks it. A credentials record is text in
 * fields: F1 US USER US PASSWORD US F4 FS (US = 0x1f, FS = 0x1c), at
 * most 99 bytes; the fields end at the first NUL too, and a missing US
 * or FS makes it "Malformed credentials (1)" to "(4)", by the separator
 * missing. Each failure below resets the connection unless it says
 * "closed".
 * - capwinctrl (client): the local program writes a record, F1 "AUTH",
 *   and closes; it is read up to 99 bytes or the end, kept unchecked for
 *   later capwin connections, and the connection is closed. 5.75's fork
 *   build keeps it in the connection's process, where it dies: there a
 *   capwin client never has credentials. We keep it in memory every
 *   connection process shares, as 5.75's threaded build does.
 * - capwin client, after the handshake: the kept record is checked (F1
 *   must be "AUTH"), US USER US PASSWORD US FS is sent inside TLS, and
 *   the 5-byte answer must be "BINGO"; then the client's data flows.
 * - capwin server, after the handshake: the record is read inside TLS
 *   a byte at a time up to its FS (or 99 bytes); anything after it is
 *   the client's data. USER and PASSWORD go to the LDAP server named by
 *   protocolHost as a simple BindRequest for uid=USER,ou=people,O=CAPWIN,
 *   C=US, whose 22-byte answer must be exactly the success that 5.75
 *   expects (long-form lengths, as Active Directory writes it). Success
 *   answers "BINGO" inside TLS and connects the remote side; a refusal
 *   (or a request too long, protocolHost not resolved or not answering)
 *   answers "FAILED" and the connection is closed.
 * Credentials never reach the log. Must never read past a record.
 */
#include "common.h"
#include "capwin.h"
#include "addr.h"
#include "io.h"
#include "ldap.h"
#include "log.h"
#include "network.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#define RECORD_MAX	99
#define US		'\x1f'		/* between fields */
#define FS		'\x1c'		/* after the last one */
#define BIND_MAX	120		/* 5.75's longest BindRequest */
#define DN_FORMAT	"uid=%s,ou=people,O=CAPWIN,C=US"

static const char auth_granted[] = "BINGO";
static const char auth_refused[] = "FAILED";

/* the only BindResponse 5.75 takes for a success */
static const unsigned char bind_success[22] = {
	0x30, 0x84, 0x00, 0x00, 0x00, 0x10,		/* LDAPMessage */
	0x02, 0x01, 0x01,				/* messageID 1 */
	0x61, 0x84, 0x00, 0x00, 0x00, 0x07,		/* BindResponse */
	0x0a, 0x01, 0x00,				/* success */
	0x04, 0x00,					/* matchedDN */
	0x04, 0x00					/* diagnosticMessage */
};

/* the credentials capwinctrl set, seen by every connection process */
struct store {
	pthread_mutex_t	 lock;
	int		 set;
	char		 record[RECORD_MAX + 1];
};

static struct store *store;

/*
 * The page is mapped when a capwin section is loaded, in the parent
 * before any connection process is forked, so that they all inherit it;
 * it is kept across reloads, and so are the credentials
 */
void
capwin_prepare(void)
{
	pthread_mutexattr_t attr;
	void *p;

	if (store != NULL)
		return;
	p = mmap(NULL, sizeof(*store), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	store = p;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&store->lock, &attr);
	pthread_mutexattr_destroy(&attr);
}

static void
store_lock(void)
{
	if (pthread_mutex_lock(&store->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&store->lock);
}

/* REC (NUL-ended) replaces the kept credentials */
static void
store_set(const char *rec)
{
	if (store == NULL)
		return;
	store_lock();
	OPENSSL_cleanse(store->record, sizeof(store->record));
	strcpy(store->record, rec);
	store->set = 1;
	pthread_mutex_unlock(&store->lock);
}

/* a copy of the kept credentials in REC, or -1 when none were set */
static int
store_get(char *rec)
{
	int set = 0;

	if (store == NULL)
		return -1;
	store_lock();
	if (store->set) {
		memcpy(rec, store->record, RECORD_MAX + 1);
		set = 1;
	}
	pthread_mutex_unlock(&store->lock);
	return set ? 0 : -1;
}

struct credentials {
	char	*command;	/* F1 */
	char	*user;
	char	*password;
};

/* split REC in place; -1 after naming the separator missing */
static int
parse(char *rec, struct credentials *cr)
{
	char *sep[4], *p = rec;
	int i;

	for (i = 0; i < 4; i++) {
		sep[i] = strchr(p, i < 3 ? US : FS);
		if (sep[i] == NULL) {
			log_msg(LOG_ERR, "CapWIN: Malformed credentials (%d)",
			    i + 1);
			return -1;
		}
		*sep[i] = '\0';
		p = sep[i] + 1;
	}
	cr->command = rec;
	cr->user = sep[0] + 1;
	cr->password = sep[1] + 1;
	return 0;
}

/* a record read inside TLS, a byte at a time up to its FS */
static int
read_record(struct client *c, char *rec)
{
	size_t n = 0;

	while (n < RECORD_MAX) {
		if (io_read(c, IO_TLS, &rec[n], 1) < 0)
			return -1;
		if (rec[n++] == FS)
			break;
	}
	rec[n] = '\0';
	return 0;
}

/* a connection to protocolHost, or -1 after logging why not */
static int
ldap_connect(struct client *c)
{
	struct addrlist addrs = { 0 };
	int fd;

	if (c->svc->protocol_host == NULL || addr_resolve(c->svc->protocol_host,
	    "localhost", 0, &addrs) < 0 || addrs.n == 0) {
		log_msg(LOG_ERR, "LDAP: Failed to resolve protocolHost");
		addrlist_free(&addrs);
		return -1;
	}
	log_msg(LOG_DEBUG, "LDAP: Connecting the server");
	fd = net_connect_to(c, &addrs.v[0], c->svc->timeout_connect);
	addrlist_free(&addrs);
	return fd;
}

/*
 * The LDAP server's verdict on USER and PASSWORD: 1 granted, 0 refused,
 * -1 when the dialogue itself failed (the connection is reset)
 */
static int
ldap_bind(struct client *c, const char *user, const char *password)
{
	unsigned char request[BIND_MAX], response[sizeof(bind_success)];
	char dn[RECORD_MAX + sizeof(DN_FORMAT)];
	size_t len;
	int fd, rc = -1;

	snprintf(dn, sizeof(dn), DN_FORMAT, user);
	len = ldap_bind_request(request, sizeof(request), dn, password);
	OPENSSL_cleanse(dn, sizeof(dn));
	if (len == 0) {
		log_msg(LOG_ERR, "LDAP: Request too long");
		return 0;
	}
	if ((fd = ldap_connect(c)) < 0) {
		OPENSSL_cleanse(request, sizeof(request));
		return 0;
	}
	log_msg(LOG_DEBUG, "LDAP: Sending BindRequest");
	if (io_write(c, fd, request, len) == 0) {
		log_msg(LOG_DEBUG, "LDAP: Waiting for BindResponse");
		if (io_read(c, fd, response, sizeof(response)) == 0)
			rc = memcmp(response, bind_success,
			    sizeof(response)) == 0;
	}
	OPENSSL_cleanse(request, sizeof(request));
	close(fd);
	return rc;
}

/* server mode, inside TLS: the client's credentials, checked by LDAP */
static int
capwin_server(struct client *c)
{
	char rec[RECORD_MAX + 1];
	struct credentials cr;
	int rc;

	if (read_record(c, rec) < 0 || parse(rec, &cr) < 0) {
		OPENSSL_cleanse(rec, sizeof(rec));
		if (c->error == CERR_NONE)
			c->error = CERR_RESET;
		return -1;
	}
	rc = ldap_bind(c, cr.user, cr.password);
	OPENSSL_cleanse(rec, sizeof(rec));
	if (rc < 0)
		return -1;
	if (rc == 0) {
		log_msg(LOG_ERR, "CapWIN: Authentication failed");
		io_write(c, IO_TLS, auth_refused, strlen(auth_refused));
		if (c->error == CERR_NONE)
			c->error = CERR_QUIET;
		return -1;
	}
	log_msg(LOG_NOTICE, "CapWIN: Authentication succeeded");
	return io_write(c, IO_TLS, auth_granted, strlen(auth_granted));
}

/* US USER US PASSWORD US FS inside TLS, and the server's answer */
static int
send_credentials(struct client *c, const struct credentials *cr)
{
	char msg[RECORD_MAX + 1], answer[sizeof(auth_granted) - 1];
	int len, rc;

	len = snprintf(msg, sizeof(msg), "%c%s%c%s%c%c", US, cr->user, US,
	    cr->password, US, FS);
	log_msg(LOG_DEBUG, "CapWIN: Sending credentials");
	rc = io_write(c, IO_TLS, msg, (size_t)len);
	OPENSSL_cleanse(msg, sizeof(msg));
	if (rc < 0)
		return -1;
	log_msg(LOG_DEBUG, "CapWIN: Waiting for response");
	if (io_read(c, IO_TLS, answer, sizeof(answer)) < 0)
		return -1;
	if (memcmp(answer, auth_granted, sizeof(answer)) != 0) {
		log_msg(LOG_ERR, "CapWIN: Authentication failed");
		return -1;
	}
	log_msg(LOG_NOTICE, "CapWIN: Authentication succeeded");
	return 0;
}

/* client mode, inside TLS: the credentials capwinctrl set */
static int
capwin_client(struct client *c)
{
	char rec[RECORD_MAX + 1];
	struct credentials cr;
	int rc = -1;

	if (store_get(rec) < 0)
		log_msg(LOG_ERR, "CapWIN: No credentials set");
	else if (parse(rec, &cr) == 0) {
		if (strcmp(cr.command, "AUTH") != 0)
			log_msg(LOG_ERR, "CapWIN: Invalid authentication "
			    "request");
		else
			rc = send_credentials(c, &cr);
	}
	OPENSSL_cleanse(rec, sizeof(rec));
	if (rc < 0 && c->error == CERR_NONE)
		c->error = CERR_RESET;
	return rc;
}

/*
 * capwinctrl, on the accepted side before anything else: the record,
 * up to RECORD_MAX bytes or the end of the stream, kept; the connection
 * then ends ("closed")
 */
static int
capwin_ctrl(struct client *c)
{
	char rec[RECORD_MAX + 1];
	size_t n = 0;
	ssize_t got = 1;

	log_msg(LOG_DEBUG, "CapWIN: Setting credentials");
	while (n < RECORD_MAX && got > 0) {
		got = io_read_some(c, c->local_rfd, rec + n, RECORD_MAX - n);
		if (got < 0) {
			OPENSSL_cleanse(rec, sizeof(rec));
			return -1;
		}
		n += (size_t)got;
	}
	rec[n] = '\0';
	store_set(rec);
	OPENSSL_cleanse(rec, sizeof(rec));
	log_msg(LOG_NOTICE, "CapWIN: Credentials set");
	c->error = CERR_QUIET;
	return -1;
}

const struct protocol_def capwin_protocol = {
	.server = { .after_tls = capwin_server },
	.client = { .after_tls = capwin_client }
};

const struct protocol_def capwin_ctrl_protocol = {
	.client = { .before_tls = capwin_ctrl }
};
