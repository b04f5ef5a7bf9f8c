/*
 * ldap.c: "protocol = ldap" (client mode), the StartTLS extended
 * operation of RFC 2830, and the BER encoding of the LDAP requests that
 * this file and capwin.c send.
 *
 * The wire, as stunnel 5.75 speaks it: once connected, before TLS, it
 * sends message 1, an ExtendedRequest naming 1.3.6.1.4.1.1466.20037
 * (30 1d 02 01 01 77 18 80 16 "1.3.6.1.4.1.1466.20037"), then reads the
 * answer's tag (must be 30), one length byte (84 means four more bytes,
 * big-endian; any other value is the length itself, and more than 128
 * is refused) and the value. In the value it expects 02 01 01 (message
 * 1), the ExtendedResponse tag 78 and one length byte (84: four more)
 * that it skips, then the resultCode 0a 01 00; a non-zero code is the
 * server's refusal. It never checks the value's length against what it
 * reads there: the value sits in a zeroed buffer, so a short value reads
 * as zeros past its end, and so does ours. Every refusal resets the
 * connection; after resultCode 0 comes the TLS handshake.
 * Must never read past the response: what follows is the TLS handshake.
 */
#include "common.h"
#include "ldap.h"
#include "io.h"
#include "log.h"

#define TAG_INTEGER		0x02
#define TAG_OCTET_STRING	0x04
#define TAG_ENUMERATED		0x0a
#define TAG_SEQUENCE		0x30
#define TAG_BIND_REQUEST	0x60	/* [APPLICATION 0], constructed */
#define TAG_EXTENDED_REQUEST	0x77	/* [APPLICATION 23], constructed */
#define TAG_EXTENDED_RESPONSE	0x78	/* [APPLICATION 24], constructed */
#define TAG_CONTEXT_0		0x80	/* simple password, requestName */

#define LDAP_VERSION		3
#define LDAP_MESSAGE_ID		1	/* the only request on the connection */
#define LENGTH_FOUR_BYTES	0x84	/* the one long form 5.75 reads */
#define RESPONSE_MAX		128	/* 5.75's buffer for the value */

static const char starttls_oid[] = "1.3.6.1.4.1.1466.20037";

/*
 * A BER encoding written back to front, so that each header follows
 * the content it counts: the encoding is buf[start..size). Lengths are
 * short-form only (at most 127), which every message here fits.
 */
struct ber {
	unsigned char	*buf;
	size_t		 start;
	size_t		 size;
	int		 full;		/* something did not fit */
};

static void
ber_put(struct ber *b, const void *p, size_t n)
{
	if (b->full || n > b->start) {
		b->full = 1;
		return;
	}
	b->start -= n;
	memcpy(b->buf + b->start, p, n);
}

/* the header of a value of LEN bytes, already written after it */
static void
ber_put_header(struct ber *b, unsigned char tag, size_t len)
{
	unsigned char h[2] = { tag, (unsigned char)len };

	if (len > 127)
		b->full = 1;
	ber_put(b, h, sizeof(h));
}

static void
ber_put_tlv(struct ber *b, unsigned char tag, const void *p, size_t n)
{
	ber_put(b, p, n);
	ber_put_header(b, tag, n);
}

/* an INTEGER below 128: one content byte */
static void
ber_put_small_int(struct ber *b, unsigned char v)
{
	ber_put_tlv(b, TAG_INTEGER, &v, 1);
}

/*
 * The LDAPMessage around the operation written since MARK (a start
 * before it), moved to the front of the buffer: its length, or 0 when
 * it did not fit
 */
static size_t
ber_message(struct ber *b, size_t mark)
{
	size_t len;

	ber_put_small_int(b, LDAP_MESSAGE_ID);
	ber_put_header(b, TAG_SEQUENCE, mark - b->start);
	if (b->full)
		return 0;
	len = b->size - b->start;
	memmove(b->buf, b->buf + b->start, len);
	return len;
}

static void
ber_init(struct ber *b, unsigned char *buf, size_t size)
{
	b->buf = buf;
	b->start = b->size = size;
	b->full = 0;
}

/*
 * A simple BindRequest (version 3) for DN with PASSWORD in BUF of SIZE
 * bytes: its length, or 0 when it does not fit
 */
size_t
ldap_bind_request(unsigned char *buf, size_t size, const char *dn,
    const char *password)
{
	struct ber b;
	size_t op;

	ber_init(&b, buf, size);
	op = b.start;
	ber_put_tlv(&b, TAG_CONTEXT_0, password, strlen(password));
	ber_put_tlv(&b, TAG_OCTET_STRING, dn, strlen(dn));
	ber_put_small_int(&b, LDAP_VERSION);
	ber_put_header(&b, TAG_BIND_REQUEST, op - b.start);
	return ber_message(&b, op);
}

static size_t
starttls_request(unsigned char *buf, size_t size)
{
	struct ber b;
	size_t op;

	ber_init(&b, buf, size);
	op = b.start;
	ber_put_tlv(&b, TAG_CONTEXT_0, starttls_oid, strlen(starttls_oid));
	ber_put_header(&b, TAG_EXTENDED_REQUEST, op - b.start);
	return ber_message(&b, op);
}

/* the response's length: one byte, or four after LENGTH_FOUR_BYTES */
static int
read_length(struct client *c, unsigned long *len)
{
	unsigned char b[4];

	log_msg(LOG_DEBUG, "Receiving LDAP response length");
	if (io_read(c, c->remote_fd, b, 1) < 0)
		return -1;
	if (b[0] != LENGTH_FOUR_BYTES) {
		*len = b[0];
		return 0;
	}
	if (io_read(c, c->remote_fd, b, 4) < 0)
		return -1;
	*len = (unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 |
	    (unsigned long)b[2] << 8 | b[3];
	return 0;
}

/* byte I of the value V of LEN bytes: zero past its end, as in 5.75 */
static unsigned
at(const unsigned char *v, size_t len, size_t i)
{
	return i < len ? v[i] : 0;
}

/* the ExtendedResponse in V: 0 when it says the server agrees */
static int
decode_response(const unsigned char *v, size_t len)
{
	size_t i;

	log_msg(LOG_DEBUG, "Decoding LDAP response value");
	if (at(v, len, 0) != TAG_INTEGER) {
		log_msg(LOG_ERR, "LDAP response has an incorrect message ID "
		    "type");
		return -1;
	}
	if (at(v, len, 1) != 1) {
		log_msg(LOG_ERR, "LDAP response has an unexpected message ID "
		    "length");
		return -1;
	}
	if (at(v, len, 2) != LDAP_MESSAGE_ID) {
		log_msg(LOG_ERR, "LDAP response has an unexpected message ID "
		    "value");
		return -1;
	}
	if (at(v, len, 3) != TAG_EXTENDED_RESPONSE) {
		log_msg(LOG_ERR, "LDAP response protocol op is not "
		    "ExtendedResponse");
		return -1;
	}
	/* the operation's length is skipped, not checked */
	i = at(v, len, 4) == LENGTH_FOUR_BYTES ? 9 : 5;
	if (at(v, len, i) != TAG_ENUMERATED) {
		log_msg(LOG_ERR, "LDAP response has an unexpected result code "
		    "type");
		return -1;
	}
	if (at(v, len, i + 1) != 1) {
		log_msg(LOG_ERR, "LDAP response has an unexpected result code "
		    "length");
		return -1;
	}
	if (at(v, len, i + 2) != 0) {
		log_msg(LOG_ERR, "LDAP response has indicated an error (%u)",
		    at(v, len, i + 2));
		return -1;
	}
	return 0;
}

static int
read_response(struct client *c)
{
	unsigned char tag, value[RESPONSE_MAX];
	unsigned long len;

	log_msg(LOG_DEBUG, "Receiving LDAP response tag");
	if (io_read(c, c->remote_fd, &tag, 1) < 0)
		return -1;
	if (tag != TAG_SEQUENCE) {
		log_msg(LOG_ERR, "LDAP response is not UNIVERSAL SEQUENCE");
		return -1;
	}
	if (read_length(c, &len) < 0)
		return -1;
	if (len > sizeof(value)) {
		log_msg(LOG_ERR, "LDAP response too long (%lu byte(s))", len);
		return -1;
	}
	log_msg(LOG_DEBUG, "Receiving LDAP response value (%lu byte(s))", len);
	if (io_read(c, c->remote_fd, value, len) < 0)
		return -1;
	return decode_response(value, len);
}

/* client mode, before TLS: StartTLS, and the server's agreement */
static int
ldap_client(struct client *c)
{
	unsigned char request[64];
	size_t len = starttls_request(request, sizeof(request));

	log_msg(LOG_DEBUG, "Sending LDAP Start TLS request");
	if (io_write(c, c->remote_fd, request, len) < 0)
		return -1;
	if (read_response(c) < 0) {
		if (c->error == CERR_NONE)
			c->error = CERR_RESET;
		return -1;
	}
	log_msg(LOG_INFO, "LDAP Start TLS successfully negotiated");
	return 0;
}

const struct protocol_def ldap_protocol = {
	.client = { .after_connect = ldap_client }
};
