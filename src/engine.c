/*
 * engine.c: loadable OpenSSL modules: engines and (OpenSSL 3) providers.
 *
 * Owns what "engine", "engineCtrl", "engineDefault", "provider" and
 * "providerParameter" do, and what a service gets from its engine
 * ("engineId"/"engineNum"): certificates, keys that never leave it,
 * trusted CAs ("CAengine"). As in stunnel the global options act while
 * the global part is read, so that a module that cannot be loaded is
 * reported at its line. Engines are deprecated in OpenSSL 3 but still the only way to
 * some hardware; this is the one file that uses that API. Must never
 * know about services.
 */
#include "common.h"
#include "engine.h"
#include "log.h"
#include "sslerr.h"
#include "util.h"

#include <openssl/opensslv.h>
#include <openssl/provider.h>

#ifdef HAVE_OPENSSL_ENGINE_H
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#include <openssl/engine.h>

#define ENGINES_MAX	16

static ENGINE	*engines[ENGINES_MAX];
static int	 nengines;
static int	 last_initialized;

static ENGINE *
current(void)
{
	return nengines > 0 ? engines[nengines - 1] : NULL;
}

/* engine = auto | ID */
int
engine_open(const char *id, const char **why)
{
	ENGINE *e;

	if (engine_init_last() < 0) {
		*why = "Engine initialization failed";
		return -1;
	}
	if (strcasecmp(id, "auto") == 0) {
		log_msg(LOG_INFO, "Enabling automatic engine support");
		ENGINE_register_all_complete();
		log_msg(LOG_INFO, "Automatic engine support enabled");
		return 0;
	}
	if (nengines == ENGINES_MAX) {
		*why = "Too many open engines";
		return -1;
	}
	log_msg(LOG_DEBUG, "Enabling support for engine \"%s\"", id);
	e = ENGINE_by_id(id);
	if (e == NULL) {
		sslerr_log("ENGINE_by_id");
		*why = "Failed to open the engine";
		return -1;
	}
	engines[nengines++] = e;
	last_initialized = 0;
	return 0;
}

/* engineCtrl = CMD[:ARG], on the engine opened last */
int
engine_ctrl(const char *arg, const char **why)
{
	char *cmd, *param;
	int ok;

	if (current() == NULL) {
		*why = "No engine was defined";
		return -1;
	}
	cmd = xstrdup(arg);
	param = strchr(cmd, ':');
	if (param != NULL)
		*param++ = '\0';
	log_msg(LOG_DEBUG, "Executing engine control command %s%s%s", cmd,
	    param != NULL ? ":" : "", param != NULL ? param : "");
	ok = ENGINE_ctrl_cmd_string(current(), cmd, param, 0);
	free(cmd);
	if (!ok) {
		sslerr_log("ENGINE_ctrl_cmd_string");
		*why = "Failed to execute the engine control command";
		return -1;
	}
	return 0;
}

/* engineDefault = TASK_LIST */
int
engine_default(const char *list, const char **why)
{
	if (current() == NULL) {
		*why = "No engine was defined";
		return -1;
	}
	if (engine_init_last() < 0) {
		*why = "Engine initialization failed";
		return -1;
	}
	if (!ENGINE_set_default_string(current(), list)) {
		sslerr_log("ENGINE_set_default_string");
		*why = "Failed to set engine as default";
		return -1;
	}
	log_msg(LOG_INFO, "Engine #%d (%s) set as default for %s", nengines,
	    ENGINE_get_id(current()), list);
	return 0;
}

/* An engine is initialized once its control commands are all given. */
int
engine_init_last(void)
{
	ENGINE *e = current();

	if (e == NULL || last_initialized)
		return 0;
	log_msg(LOG_DEBUG, "Initializing engine #%d (%s)", nengines,
	    ENGINE_get_id(e));
	if (!ENGINE_init(e)) {
		sslerr_log("ENGINE_init");
		log_msg(LOG_ERR, "Engine #%d (%s) not initialized", nengines,
		    ENGINE_get_id(e));
		return -1;
	}
	last_initialized = 1;
	log_msg(LOG_INFO, "Engine #%d (%s) initialized", nengines,
	    ENGINE_get_id(e));
	return 0;
}

/* engineId = ID: the number of the engine opened as ID, 0 if none is */
int
engine_find(const char *id)
{
	int i;

	for (i = 0; i < nengines; i++)
		if (strcmp(ENGINE_get_id(engines[i]), id) == 0)
			return i + 1;
	return 0;
}

/* engineNum = N counts from 1 */
int
engine_count(void)
{
	return nengines;
}

static const char *
engine_name(int num)
{
	return num >= 1 && num <= nengines ? ENGINE_get_id(engines[num - 1]) :
	    "none";
}

/* a certificate the engine keeps (pkcs11: a URI or an id); NULL, logged */
X509 *
engine_load_cert(int num, const char *id)
{
	struct {
		const char	*cert_id;
		X509		*cert;
	} params = { id, NULL };

	if (num < 1 || num > nengines)
		return NULL;
	if (!ENGINE_ctrl_cmd(engines[num - 1], "LOAD_CERT_CTRL", 0, &params,
	    NULL, 1)) {
		sslerr_log("ENGINE_ctrl_cmd");
		return NULL;
	}
	return params.cert;
}

/* a private key that stays in the engine; UI asks for a PIN if need be */
EVP_PKEY *
engine_load_key(int num, const char *id, UI_METHOD *ui, void *ui_data)
{
	EVP_PKEY *key;

	if (num < 1 || num > nengines)
		return NULL;
	key = ENGINE_load_private_key(engines[num - 1], id, ui, ui_data);
	if (key == NULL)
		sslerr_log("ENGINE_load_private_key");
	return key;
}

/* client sections: the engine may supply the client certificate */
void
engine_client_cert(int num, SSL_CTX *ctx)
{
	if (num < 1 || num > nengines)
		return;
	if (SSL_CTX_set_client_cert_engine(ctx, engines[num - 1]))
		log_msg(LOG_INFO, "Client certificate engine (%s) enabled",
		    engine_name(num));
	else
		log_msg(LOG_INFO, "Client certificate engine (%s) not "
		    "supported", engine_name(num));
	ERR_clear_error();
}

#else

int
engine_open(const char *id UNUSED, const char **why)
{
	*why = "Failed to open the engine";
	log_msg(LOG_ERR, "This OpenSSL has no engine support");
	return -1;
}

int
engine_ctrl(const char *arg UNUSED, const char **why)
{
	*why = "No engine was defined";
	return -1;
}

int
engine_default(const char *list UNUSED, const char **why)
{
	*why = "No engine was defined";
	return -1;
}

int
engine_init_last(void)
{
	return 0;
}

int
engine_find(const char *id UNUSED)
{
	return 0;
}

int
engine_count(void)
{
	return 0;
}

X509 *
engine_load_cert(int num UNUSED, const char *id UNUSED)
{
	return NULL;
}

EVP_PKEY *
engine_load_key(int num UNUSED, const char *id UNUSED, UI_METHOD *ui UNUSED,
    void *ui_data UNUSED)
{
	return NULL;
}

void
engine_client_cert(int num UNUSED, SSL_CTX *ctx UNUSED)
{
}
#endif

static OSSL_PROVIDER	**providers;
static size_t		  nproviders;

/* providers stay loaded for the life of the process */
static void
unload_providers(void)
{
	while (nproviders > 0)
		OSSL_PROVIDER_unload(providers[--nproviders]);
	free(providers);
	providers = NULL;
}

/* provider = NAME */
int
engine_provider_load(const char *name, const char **why)
{
	OSSL_PROVIDER *prov = OSSL_PROVIDER_load(NULL, name);

	if (prov == NULL) {
		sslerr_log("OSSL_PROVIDER_load");
		*why = "Failed to load provider";
		return -1;
	}
	if (providers == NULL)
		atexit(unload_providers);
	providers = xreallocarray(providers, nproviders + 1,
	    sizeof(*providers));
	providers[nproviders++] = prov;
	log_msg(LOG_INFO, "Provider \"%s\" loaded", name);
	return 0;
}

/* providerParameter = PROVIDER:NAME=VALUE */
int
engine_provider_param(const char *arg, const char **why)
{
	const char *colon = strchr(arg, ':');
	char *prov;
	int found;

	if (colon == NULL || colon == arg || strchr(colon, '=') == NULL ||
	    strchr(colon, '=') == colon + 1) {
		*why = "Malformed parameter";
		return -1;
	}
	prov = xstrndup(arg, (size_t)(colon - arg));
	found = OSSL_PROVIDER_available(NULL, prov);
	free(prov);
	if (!found) {
		*why = "Provider not found";
		return -1;
	}
	log_msg(LOG_ERR, "Provider parameters need OpenSSL 3.5 or later "
	    "(this is %s)", OPENSSL_VERSION_TEXT);
	*why = "Failed to set provider parameter";
	return -1;
}
