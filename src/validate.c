/*
 * validate.c: does a finished section make sense as a whole?
 *
 * Owns the checks that need more than one option: the global part (log
 * and pid paths, FIPS, compression), each service's endpoints, option
 * combinations, protocol side, SNI primaries, address resolution, and
 * hands the section to ctx.c for its TLS context. Messages use stunnel's
 * "Service [NAME]: reason" / "Global options: reason" / "Inetd mode:
 * reason" forms. Must never read the file or know line numbers.
 */
#include "common.h"
#include "validate.h"
#include "capwin.h"
#include "ctx.h"
#include "engine.h"
#include "libwrap.h"
#include "verify.h"
#include "log.h"
#include "sni.h"

#include <openssl/comp.h>
#include <openssl/objects.h>
#include <openssl/provider.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <sys/stat.h>

/* the prefix of section-level errors: "Service [x]" or "Inetd mode" */
static void
service_error(const struct global *g, const struct service *svc,
    const char *why)
{
	if (g->inetd)
		log_msg(LOG_ERR, "Inetd mode: %s", why);
	else
		log_msg(LOG_ERR, "Service [%s]: %s", svc->name, why);
}

static int
global_error(const char *why)
{
	log_msg(LOG_ERR, "Global options: %s", why);
	return -1;
}

static int
check_fips(const struct global *g)
{
	if (!g->fips) {
		log_msg(LOG_NOTICE, "FIPS mode disabled");
		return 0;
	}
	if (OSSL_PROVIDER_load(NULL, "fips") == NULL) {
		log_msg(LOG_ERR, "Enabling FIPS provider failed");
		return -1;
	}
	log_msg(LOG_NOTICE, "FIPS provider enabled");
	return 0;
}

static int
check_compression(const struct global *g)
{
	COMP_METHOD *zlib;

	if (g->compression == COMP_NONE) {
		log_msg(LOG_INFO, "Compression disabled");
		return 0;
	}
	zlib = COMP_zlib();
	if (zlib == NULL || COMP_get_type(zlib) == NID_undef) {
		log_msg(LOG_ERR, "Configured compression is unsupported by "
		    "OpenSSL");
		return -1;
	}
	log_msg(LOG_INFO, "Compression enabled: 1 method");
	return 0;
}

/*
 * RNDfile, RNDbytes, RNDoverwrite: OpenSSL 3 seeds itself from the
 * kernel, so these only add to its pool; EGD is gone from OpenSSL.
 */
static void
seed_random(const struct global *g)
{
	struct stat st;
	int n;

	if (g->egd != NULL)
		log_msg(LOG_WARNING, "EGD = %s is ignored: OpenSSL 3 no longer "
		    "reads entropy gathering daemons", g->egd);
	if (g->rnd_file != NULL) {
		n = RAND_load_file(g->rnd_file, (long)g->rnd_bytes);
		if (n > 0)
			log_msg(LOG_DEBUG, "Snagged %d random bytes from %s", n,
			    g->rnd_file);
		else
			log_msg(LOG_INFO, "Cannot retrieve any random data from "
			    "%s", g->rnd_file);
		/* as stunnel: only a seed file that is there is rewritten */
		if (g->rnd_overwrite && stat(g->rnd_file, &st) == 0 &&
		    S_ISREG(st.st_mode)) {
			n = RAND_write_file(g->rnd_file);
			if (n > 0)
				log_msg(LOG_DEBUG, "Wrote %d new random bytes to "
				    "%s", n, g->rnd_file);
			else
				log_msg(LOG_WARNING, "Failed to write strong "
				    "random data to %s - may be a permissions or "
				    "seeding problem", g->rnd_file);
		}
		ERR_clear_error();
	}
	if (RAND_status() == 1)
		log_msg(LOG_DEBUG, "No PRNG seeding was required");
	else
		log_msg(LOG_ERR, "PRNG was not seeded with enough random bytes");
}

/* the global part ends where the first section starts, or at the end */
int
validate_global(struct global *g)
{
	if (g->output != NULL && g->output[0] != '/' &&
	    g->foreground == FG_NO)
		return global_error("Log file must include full path name");
	if (g->pid != NULL && g->pid[0] != '/' && g->foreground == FG_NO)
		return global_error("Pid file must include full path name");
	if (engine_init_last() < 0 || check_fips(g) < 0 ||
	    check_compression(g) < 0)
		return global_error("Failed to initialize TLS");
	seed_random(g);
	return 0;
}

static int
protocol_side_ok(int protocol, int client)
{
	switch (protocol) {
	case PROTO_LDAP:
	case PROTO_NNTP:
	case PROTO_CAPWINCTRL:
		return client;
	case PROTO_PROXY:
		return !client;
	default:
		return 1;
	}
}

static int
check_protocol(const struct global *g, const struct service *svc)
{
	if (svc->protocol < 0) {
		service_error(g, svc, "Protocol not supported");
		return -1;
	}
	if (!protocol_side_ok(svc->protocol, svc->client)) {
		service_error(g, svc, svc->client ?
		    "The configured protocol is not supported in the client mode" :
		    "The configured protocol is not supported in the server mode");
		return -1;
	}
	if (svc->protocol == PROTO_CONNECT && svc->client &&
	    svc->protocol_host == NULL) {
		service_error(g, svc, "protocolHost not specified");
		return -1;
	}
	if (svc->protocol == PROTO_CAPWIN || svc->protocol == PROTO_CAPWINCTRL)
		capwin_prepare();
	return 0;
}

/* endpoints that supply the other side of the connection themselves */
static int
count_endpoints(const struct service *svc)
{
	int n = 0;

	n += svc->accept.n > 0;
	n += svc->connect.n > 0;
	n += svc->exec != NULL;
	n += !svc->client && svc->sni.n > 0;
	n += (svc->transparent & TRANSPARENT_DESTINATION) != 0;
	n += !svc->client && svc->protocol == PROTO_SOCKS;
	n += svc->client && svc->protocol == PROTO_CAPWINCTRL;
	return n;
}

/* option combinations, in the order stunnel reports them */
static const char *
combination_error(const struct service *svc)
{
	/* the legacy "verify = N" levels count as the options they stand for */
	int verify = verify_chain_wanted(svc) || verify_peer_wanted(svc);

	if ((svc->check_host.n || svc->check_email.n || svc->check_ip.n) &&
	    !verify)
		return "Either \"verifyChain\" or \"verifyPeer\" has to be enabled";
	if (svc->ocsp_url != NULL && !verify_chain_wanted(svc))
		return "\"verifyChain\" has to be enabled for OCSP support";
	if (verify && svc->ca_engine.n == 0 && svc->ca_file == NULL &&
	    svc->ca_path == NULL && svc->ca_store == NULL)
		return "Either \"CAengine\", \"CAfile\", \"CApath\" or "
		    "\"CAstore\" has to be configured";
	if (svc->redirect.n > 0) {
		if (svc->client)
			return "\"redirect\" is unsupported in client sections";
		if (svc->protocol != PROTO_NONE &&
		    svc->protocol != PROTO_SOCKS &&
		    svc->protocol != PROTO_PROXY)
			return "\"redirect\" is incompatible with the specified "
			    "protocol negotiation";
		if (!verify)
			return "Either \"verifyChain\" or \"verifyPeer\" has to "
			    "be enabled for \"redirect\" to work";
	}
	if (!svc->client && svc->cert == NULL && svc->psk == NULL &&
	    svc->engine == 0)
		return "TLS server needs a certificate";
	if (!svc->ticket_key.len != !svc->ticket_mac.len)
		return "\"ticketKeySecret\" and \"ticketMacSecret\" must be set "
		    "together";
	return NULL;
}

/* what can only be judged once the endpoints are known to be right */
static const char *
late_error(const struct service *svc)
{
	if (svc->versions.min != 0 && svc->versions.max != 0 &&
	    svc->versions.min > svc->versions.max)
		return "Invalid protocol version range";
	if (svc->client && svc->psk != NULL && svc->psk_identity != NULL &&
	    psk_find(svc->psk, svc->psk_identity) == NULL)
		return "No key found for the specified PSK identity";
	return NULL;
}

static struct service *
find_section(const struct global *g, const char *name, size_t len)
{
	struct service *s;

	for (s = g->services; s != NULL; s = s->next)
		if (strlen(s->name) == len && strncmp(s->name, name, len) == 0)
			return s;
	return NULL;
}

/* server-side "sni = PRIMARY:PATTERN": the primary must come first */
static int
check_sni(const struct global *g, struct service *svc)
{
	const char *spec, *colon;
	size_t i;

	if (svc->client || svc->sni.n == 0)
		return 0;
	for (i = 0; i < svc->sni.n; i++) {
		spec = svc->sni.v[i];
		colon = strchr(spec, ':');
		if (colon == NULL || colon == spec || colon[1] == '\0') {
			service_error(g, svc, "Invalid SNI parameter format");
			return -1;
		}
		svc->sni_primary = find_section(g, spec, (size_t)(colon - spec));
		if (svc->sni_primary == NULL || svc->sni_primary == svc) {
			service_error(g, svc, "SNI section name not found");
			return -1;
		}
		if (svc->sni_primary->client) {
			service_error(g, svc, "SNI primary service is a TLS client");
			return -1;
		}
	}
	return 0;
}

/* connect and redirect targets may be resolved later, per connection */
static void
resolve_targets(const struct strlist *specs, struct addrlist *out,
    const char *what, int *delayed)
{
	size_t i;

	for (i = 0; i < specs->n && !*delayed; i++) {
		if (addr_resolve(specs->v[i], "localhost", 0, out) < 0) {
			log_msg(LOG_INFO, "Cannot resolve %s target - delaying "
			    "DNS lookup", what);
			addrlist_free(out);
			*delayed = 1;
		}
	}
}

static int
resolve_addresses(const struct global *g, struct service *svc)
{
	int redirect_delayed = 0;
	size_t i;

	for (i = 0; i < svc->accept.n; i++) {
		if (addr_resolve(svc->accept.v[i], NULL, 1,
		    &svc->accept_addrs) < 0) {
			service_error(g, svc, "Cannot resolve accept target");
			return -1;
		}
	}
	if (svc->delay)
		svc->connect_delayed = 1;
	else
		resolve_targets(&svc->connect, &svc->connect_addrs, "connect",
		    &svc->connect_delayed);
	resolve_targets(&svc->redirect, &svc->redirect_addrs, "redirect",
	    &redirect_delayed);
	return 0;
}

/*
 * The checks of a finished section (or of the inetd-mode defaults), in
 * the order stunnel makes them, so that a section with several problems
 * is reported by the same first error; then addresses and TLS context.
 */
static int
check_section(const struct global *g, struct service *svc, int endpoints)
{
	const char *why = combination_error(svc);

	if (why == NULL && check_protocol(g, svc) < 0)
		return -1;
	if (why == NULL && endpoints == 2 && check_sni(g, svc) < 0)
		return -1;
	if (why == NULL && endpoints == 1 && svc->accept.n > 0)
		why = "'accept' option is only allowed in a [section]";
	if (why == NULL && count_endpoints(svc) != endpoints)
		why = endpoints == 2 ? "Each service must define two endpoints" :
		    "Inetd mode must define one endpoint";
	if (why == NULL)
		why = late_error(svc);
	if (why != NULL) {
		service_error(g, svc, why);
		return -1;
	}
	if (svc->libwrap && libwrap_load() < 0) {
		service_error(g, svc, "Failed to initialize TCP Wrappers");
		return -1;
	}
	if (resolve_addresses(g, svc) < 0)
		return -1;
	if (ctx_init(svc) < 0) {
		service_error(g, svc, "Failed to initialize TLS context");
		return -1;
	}
	if (!svc->client)
		sni_attach(svc->ctx);
	return 0;
}

/*
 * "service = NAME" renames the part it is written in, as in stunnel:
 * from its checks on, the context, the bind and connection lines, the
 * session id context and TCP Wrappers all use NAME.
 */
static void
apply_service_name(struct service *svc)
{
	if (svc->service_name == NULL)
		return;
	free(svc->name);
	svc->name = xstrdup(svc->service_name);
}

int
validate_service(struct global *g, struct service *svc)
{
	apply_service_name(svc);
	return check_section(g, svc, 2);
}

/* no [section]: one connection on stdin/stdout, so no accept */
int
validate_inetd(struct global *g)
{
	apply_service_name(g->defaults);
	return check_section(g, g->defaults, 1);
}
