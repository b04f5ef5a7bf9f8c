/*
 * httpconn.c: "protocol = connect", HTTP CONNECT (RFC 2817).
 *
 * Owns the client side: asking an HTTP proxy for a tunnel to
 * protocolHost, with basic authentication, in stunnel 5.75's order and
 * words. Credentials never reach the log.
 * Must never send client data itself.
 */
#include "common.h"
#include "httpconn.h"
#include "io.h"
#include "log.h"
#include "util.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define LINE_MAX_LEN	65536	/* stunnel's "Line too long" */

/* "Proxy-Authorization: basic BASE64" to the proxy, kept out of the log */
static int
proxy_authorization(struct client *c)
{
	const struct service *svc = c->svc;
	char creds[512], line[1024];
	unsigned char b64[700];
	int rc;

	snprintf(creds, sizeof(creds), "%s:%s", svc->protocol_username,
	    svc->protocol_password);
	EVP_EncodeBlock(b64, (const unsigned char *)creds, (int)strlen(creds));
	snprintf(line, sizeof(line), "Proxy-Authorization: basic %s",
	    (char *)b64);
	rc = io_putline(c, c->remote_fd, line, "Proxy-Authorization: basic *");
	OPENSSL_cleanse(creds, sizeof(creds));
	OPENSSL_cleanse(b64, sizeof(b64));
	OPENSSL_cleanse(line, sizeof(line));
	return rc;
}

/*
 * Client side of HTTP CONNECT (RFC 2817) through the configured proxy,
 * in stunnel 5.75's order: CONNECT, Host, Proxy-Authorization, the
 * protocolHeader lines. The answer's headers are read to the empty line
 * whatever the status, which is judged (and logged) first.
 */
static int
http_connect(struct client *c)
{
	const struct service *svc = c->svc;
	char line[LINE_MAX_LEN];
	size_t i;
	int ok;

	snprintf(line, sizeof(line), "CONNECT %s HTTP/1.1", svc->protocol_host);
	if (io_putline(c, c->remote_fd, line, NULL) < 0)
		return -1;
	snprintf(line, sizeof(line), "Host: %s", svc->protocol_host);
	if (io_putline(c, c->remote_fd, line, NULL) < 0)
		return -1;
	if (svc->protocol_auth != NULL &&
	    strcasecmp(svc->protocol_auth, "basic") != 0) {
		log_msg(LOG_ERR, "NTLM authentication is not available");
		return -1;
	}
	if (svc->protocol_username != NULL && svc->protocol_password != NULL &&
	    proxy_authorization(c) < 0)
		return -1;
	for (i = 0; i < svc->protocol_header.n; i++)
		if (io_putline(c, c->remote_fd, svc->protocol_header.v[i],
		    NULL) < 0)
			return -1;
	if (io_putline(c, c->remote_fd, "", NULL) < 0 ||
	    io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
		return -1;
	ok = str_prefix_ci(line, "HTTP/1.0 2") || str_prefix_ci(line, "HTTP/1.1 2");
	if (ok)
		log_msg(LOG_INFO, "CONNECT request accepted");
	else
		log_msg(LOG_ERR, "CONNECT request rejected");
	do {		/* the headers of the answer, up to the empty line */
		if (io_getline(c, c->remote_fd, line, sizeof(line)) < 0)
			return -1;
	} while (line[0] != '\0');
	return ok ? 0 : -1;
}


const struct protocol_def httpconn_connect = {
	.client = { .after_connect = http_connect }
};
