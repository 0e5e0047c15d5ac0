/*
 * Boot-time support endpoints (reference: "Boot-time Support Endpoints"
 * and Boot Config "kickstart"): what an installer, a switch or a new
 * head fetches while it is being set up, from two directories the admin
 * fills by hand:
 *   [boot] kickstart_dir   kickstart, ZTP and ignition files, by name;
 *   [boot] install_dir     installer-*.sh, <tar|rpm|deb>/<package>, and
 *                          the ignition binary, sent by nginx (/_install/).
 *
 * A file name from a request or an attribute names a file in its
 * directory and nothing else: no '/', no "..", no leading '.', no
 * control character, at most 255 bytes (400 with the rule).  Names that
 * nginx sends (install_dir) hold only [A-Za-z0-9._+~-].
 *
 * Templates (kickstart, ZTP, ignition files) are filled for one node
 * from its own merged attributes, hardware and status (node_template),
 * line-safe: a value holding a line break or another control character
 * is refused (409 naming the attribute), never escaped, so no value can
 * start a line of its own.  Values go in verbatim, once: "<other>" or
 * "#!ipxe" inside a value stays text.  In an ignition file (JSON) '"'
 * and '\' in a value are also escaped as in a JSON string, so a value
 * inside a string cannot end it and add keys of its own.  Secret attributes are filled in
 * the clear only for an admin allowed to see them (GET
 * /bootconfig/:id/kickstart); the public endpoints mask them.
 *
 * Answers are the files themselves (resp_raw), no JSON envelope, except
 * /install/repo and /install/password; refusals are the usual JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extern.h"

#define TMPL_FILE_MAX	(1024 * 1024)	/* a template file, and its expansion */
#define FILE_NAME_MAX	255		/* bytes of one file name */
#define INSTALL_PARAM_MAX 32		/* cpu=, os= */
#define QUERY_MAX	1024		/* the installer's whole query string */

/* Where nginx serves [boot] install_dir from (nginx/server-common.conf.in). */
#define INSTALL_LOCATION	"/_install/"

/* The packaging systems /install/client/download/:pkgsys/ knows. */
static const char *const pkgsystems[] = { "tar", "rpm", "deb" };

/*
 * Whether name may name a file in one of the directories (what says
 * whose name, for the reason); with sendable, also whether nginx may be
 * handed it as is.  API_OK, or a 400 saying which rule it breaks.
 */
static enum apierr
name_check(struct ctx *c, const char *what, const char *name, int sendable)
{
	size_t	 i;

	if (name == NULL || *name == '\0')
		return ctx_fail(c, API_BAD_REQUEST, "%s: empty file name", what);
	if (strlen(name) > FILE_NAME_MAX)
		return ctx_fail(c, API_BAD_REQUEST, "%s: a file name is at most "
		    "%d bytes", what, FILE_NAME_MAX);
	if (name[0] == '.' || strchr(name, '/') != NULL ||
	    strstr(name, "..") != NULL)
		return ctx_fail(c, API_BAD_REQUEST, "%s: a file name must stay "
		    "in its directory: no '/', no \"..\", no leading '.'", what);
	for (i = 0; name[i] != '\0'; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return ctx_fail(c, API_BAD_REQUEST, "%s: a file name "
			    "must not hold control characters", what);
		if (sendable && strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+~-", name[i]) == NULL)
			return ctx_fail(c, API_BAD_REQUEST, "%s: a file name may "
			    "hold only letters, digits and . _ + ~ -", what);
	}
	return API_OK;
}

/*
 * The text of file name in dir (what: its kind, for reasons), whole,
 * into *out (malloc'd, NUL-terminated).  404 when there is no such
 * regular file; 409 for one that cannot be a template (too large, a NUL
 * byte).  The name must have passed name_check.
 */
static enum apierr
file_load(struct ctx *c, const char *dir, const char *name, const char *what,
    char **out)
{
	struct stat	 st;
	char		 path[4096], *buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd = -1;
	enum apierr	 rc = API_INTERNAL;

	*out = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		rc = ctx_internal(c, "%s/%s: path too long", dir, name);
		goto out;
	}
	/* O_NONBLOCK: a FIFO someone left there must not hang a worker. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR) {
			rc = ctx_fail(c, API_NOT_FOUND, "No %s file %s on this "
			    "head", what, name);
			goto out;
		}
		rc = ctx_internal(c, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		rc = ctx_internal(c, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = ctx_fail(c, API_NOT_FOUND, "%s file %s is not a regular "
		    "file", what, name);
		goto out;
	}
	if (st.st_size > TMPL_FILE_MAX) {
		rc = ctx_fail(c, API_CONFLICT, "%s file %s is larger than %d "
		    "bytes", what, name, TMPL_FILE_MAX);
		goto out;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = ctx_internal(c, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;		/* shrunk meanwhile: what is there */
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		rc = ctx_fail(c, API_CONFLICT, "%s file %s holds a NUL byte: "
		    "not a text file", what, name);
		goto out;
	}
	*out = buf;		/* ownership passes last */
	buf = NULL;
	rc = API_OK;
out:
	if (fd != -1)
		close(fd);
	free(buf);
	return rc;
}

/*
 * Template file name of the kickstart directory (what: its kind) filled
 * for node o, line-safe, into *out (malloc'd).  clear: secrets in the
 * clear if c's scope may see them; json: values escaped for JSON strings.
 */
static enum apierr
node_file(struct ctx *c, const struct objrow *o, const char *name,
    const char *what, int clear, int json, char **out)
{
	char		*tmpl = NULL, label[FILE_NAME_MAX + NAME_MAX_LEN + 64];
	enum apierr	 rc;

	*out = NULL;
	if ((rc = name_check(c, what, name, 0)) != API_OK)
		return rc;
	if ((rc = file_load(c, c->conf->boot_kickstart_dir, name, what,
	    &tmpl)) != API_OK)
		return rc;
	snprintf(label, sizeof(label), "%s %s for node %s", what, name, o->name);
	rc = node_template(c, o, tmpl, label, TMPL_FILE_MAX, clear,
	    TMPL_LINE_SAFE | (json ? TMPL_JSON : 0), out);
	free(tmpl);
	return rc;
}

/* Send text as the whole answer, no envelope. */
static enum apierr
send_text(struct req *r, const char *ctype, const char *text)
{
	resp_raw(r, 200, ctype, text, strlen(text));
	return API_OK;
}

/*
 * GET /bootconfig/:id/kickstart: the boot config's kickstart file filled
 * for the node ?node=<ID> of the caller's tenant, else for the caller's
 * tenant's node at the request's source address (an installer fetching
 * its own), else 400.  404 for no kickstart set or no such file; 409 for
 * a value that would break its line.
 */
enum apierr
api_bootconfig_kickstart(struct req *r)
{
	struct objrow	 bc = { 0 }, node = { 0 };
	const char	*ks, *id;
	char		 idbuf[NAME_MAX_LEN + 1], *text = NULL;
	enum apierr	 rc;

	if ((rc = obj_find(&r->ctx, &bootconfig_class, req_param(r, "id"), 0,
	    &bc)) != API_OK)
		return rc;
	ks = json_string_value(json_object_get(bc.doc, "kickstart"));
	if (ks == NULL || *ks == '\0') {
		rc = req_fail(r, API_NOT_FOUND, "Boot config %s has no kickstart",
		    bc.name);
		goto out;
	}
	if ((id = req_query(r, "node", idbuf, sizeof(idbuf))) != NULL) {
		if (*id == '\0') {
			rc = req_fail(r, API_BAD_REQUEST, "?node= names no node");
			goto out;
		}
		if ((rc = obj_find(&r->ctx, &node_class, id, 0, &node)) != API_OK)
			goto out;
	} else {
		rc = API_NOT_FOUND;
		if (r->remote_addr != NULL && valid_ip(r->remote_addr))
			rc = obj_find(&r->ctx, &node_class, r->remote_addr, 0,
			    &node);
		if (rc == API_NOT_FOUND) {
			rc = req_fail(r, API_BAD_REQUEST, "Name a node with "
			    "?node=<ID>: none of yours has the address %s",
			    r->remote_addr != NULL ? r->remote_addr : "(none)");
			goto out;
		}
		if (rc != API_OK)
			goto out;
	}
	if ((rc = node_file(&r->ctx, &node, ks, "kickstart", 1, 0, &text)) ==
	    API_OK)
		rc = send_text(r, "text/plain; charset=utf-8", text);
out:
	free(text);
	objrow_free(&node);
	objrow_free(&bc);
	return rc;
}

/* GET /kickstart/:name (public): the file as it is, not filled in. */
enum apierr
api_kickstart_get(struct req *r)
{
	const char	*name = req_param(r, "name");
	char		*text = NULL;
	enum apierr	 rc;

	if ((rc = name_check(&r->ctx, "kickstart", name, 0)) != API_OK)
		return rc;
	if ((rc = file_load(&r->ctx, r->conf->boot_kickstart_dir, name,
	    "kickstart", &text)) == API_OK)
		rc = send_text(r, "text/plain; charset=utf-8", text);
	free(text);
	return rc;
}

/*
 * GET /ztp/script (public): for the node at the request's source address
 * (403 if none), whose merged _boot_config is "ztp:<NAME>" (else 404),
 * file NAME of the kickstart directory filled for it like a kickstart,
 * secrets masked.
 */
enum apierr
api_ztp_script(struct req *r)
{
	struct objrow	 o = { 0 };
	json_t		*attrs = NULL;
	const char	*bc;
	char		*text = NULL;
	enum apierr	 rc;

	if ((rc = node_by_source(r, &o)) != API_OK)
		return rc;
	if ((rc = attrs_node_view(&r->ctx, &o, 0, &attrs)) != API_OK)
		goto out;
	bc = json_string_value(json_object_get(attrs, "_boot_config"));
	if (bc == NULL || strncmp(bc, "ztp:", 4) != 0) {
		rc = req_fail(r, API_NOT_FOUND, "Node %s has no ZTP script: its "
		    "_boot_config is not ztp:<NAME>", o.name);
		goto out;
	}
	if ((rc = node_file(&r->ctx, &o, bc + 4, "ZTP script", 0, 0, &text)) ==
	    API_OK)
		rc = send_text(r, "text/plain; charset=utf-8", text);
out:
	free(text);
	json_decref(attrs);
	objrow_free(&o);
	return rc;
}

/* Whether the caller may have the Ignition config of a node of tenant tid. */
static int
ignition_caller_ok(struct req *r, long long tid)
{
	int	 ok;

	if (r->authorization != NULL && *r->authorization != '\0') {
		ok = req_auth_optional(r) == API_OK && r->who.authed &&
		    (r->ctx.scope.tenant == SCOPE_ALL ||
		    r->ctx.scope.tenant == tid);
		r->ctx.reason[0] = '\0';
		if (ok)
			return 1;
	}
	return source_tenant(r) == tid;
}

/*
 * GET /ignition/:uid (public): for the node with that UID (404 if none),
 * by its merged _ignition attribute: an http(s) URL is answered with an
 * Ignition config that replaces itself from it; a file name in the
 * kickstart directory is filled for the node like a kickstart, values
 * escaped for JSON strings, and must still be JSON (409 if not).  Git URLs and other forms: 404 saying so.
 */
enum apierr
api_ignition_get(struct req *r)
{
	struct ctx	 any;
	struct objrow	 o = { 0 };
	json_t		*attrs = NULL, *cfg = NULL;
	json_error_t	 jerr;
	const char	*uid = req_param(r, "uid"), *ign;
	char		*text = NULL, actor[ACTOR_MAX];
	enum apierr	 rc;

	if (!uid_valid(uid) || strlen(uid) != UID_LEN)
		return req_fail(r, API_NOT_FOUND, "No node with that UID (a "
		    "node's UID is %d hex digits)", UID_LEN);
	/* UIDs are unique across tenants: the lookup is over all of them. */
	ctx_init(&any, r->ctx.db, r->conf, scope_of_tenant(SCOPE_ALL, 0,
	    "ignition"));
	rc = obj_find(&any, &node_class, uid, 0, &o);
	if (rc == API_OK && strcmp(o.uid, uid) != 0)
		rc = API_NOT_FOUND;	/* a name that looks like a UID */
	if (rc == API_NOT_FOUND) {
		ctx_clear(&any);
		objrow_free(&o);
		return req_fail(r, API_NOT_FOUND, "No node with UID %s", uid);
	}
	rc = ctx_pass(&r->ctx, &any, rc);
	ctx_clear(&any);
	if (rc != API_OK)
		goto out;
	/*
	 * Only the node itself (by its address) or an admin whose tenant
	 * holds it: to anyone else the UID names no node.
	 */
	if (!ignition_caller_ok(r, o.tenant_id)) {
		rc = req_fail(r, API_NOT_FOUND, "No node with UID %s", uid);
		goto out;
	}
	/* From here on the request acts for that node, in its tenant. */
	snprintf(actor, sizeof(actor), "node:%s", o.name);
	r->ctx.scope = scope_of_tenant(o.tenant_id, 0, actor);

	if ((rc = attrs_node_view(&r->ctx, &o, 0, &attrs)) != API_OK)
		goto out;
	ign = json_string_value(json_object_get(attrs, "_ignition"));
	if (ign == NULL || *ign == '\0') {
		rc = req_fail(r, API_NOT_FOUND, "Node %s has no _ignition "
		    "attribute", o.name);
		goto out;
	}
	if (strncmp(ign, "http://", 7) == 0 || strncmp(ign, "https://", 8) == 0) {
		if (!valid_url(ign)) {
			rc = req_fail(r, API_NOT_FOUND, "Node %s's _ignition is "
			    "not a usable URL", o.name);
			goto out;
		}
		cfg = json_pack("{s:{s:s, s:{s:{s:s}}}}", "ignition", "version",
		    "3.3.0", "config", "replace", "source", ign);
		text = json_dumps(cfg, JSON_COMPACT);
		rc = send_text(r, "application/json", text);
		goto out;
	}
	if (strstr(ign, "://") != NULL || strncmp(ign, "git@", 4) == 0 ||
	    strncmp(ign, "git+", 4) == 0) {
		rc = req_fail(r, API_NOT_FOUND, "Node %s's _ignition is neither "
		    "an http(s) URL nor a file name: git and other URLs are not "
		    "supported", o.name);
		goto out;
	}
	if ((rc = node_file(&r->ctx, &o, ign, "ignition", 0, 1, &text)) != API_OK)
		goto out;
	if ((cfg = json_loads(text, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		rc = req_fail(r, API_CONFLICT, "ignition %s for node %s is not "
		    "JSON once filled in: line %d: %s", ign, o.name, jerr.line,
		    jerr.text);
		goto out;
	}
	rc = send_text(r, "application/json", text);
out:
	free(text);
	json_decref(cfg);
	json_decref(attrs);
	objrow_free(&o);
	return rc;
}

/*
 * Whether rel (a checked name, or <pkgsys>/<name>) is a regular file in
 * the install directory.
 */
static int
install_has(const struct conf *conf, const char *rel)
{
	struct stat	 st;
	char		 path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", conf->boot_install_dir,
	    rel) >= sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Hand nginx the install directory's file rel (checked, present). */
static enum apierr
install_send(struct req *r, const char *rel, const char *filename)
{
	char	 uri[FILE_NAME_MAX * 2 + 32];

	snprintf(uri, sizeof(uri), "%s%s", INSTALL_LOCATION, rel);
	resp_redirect_file(r, uri, filename);
	return API_OK;
}

/* GET /ignition/bin (public): install_dir/ignition, sent by nginx. */
enum apierr
api_ignition_bin(struct req *r)
{
	if (!install_has(r->conf, "ignition"))
		return req_fail(r, API_NOT_FOUND, "No ignition binary on this "
		    "head ([boot] install_dir/ignition)");
	return install_send(r, "ignition", "ignition");
}

/*
 * The pre-installation script: finds the machine's CPU, OS and
 * packaging system and runs the installer this head picks for them.
 * %s: the head's base URL (valid_host: no quote can be in it).
 */
#define PREINSTALL \
"#!/bin/sh\n" \
"# corral pre-installation script: finds this machine's CPU (uname -m),\n" \
"# OS (ID of /etc/os-release) and packaging system (rpm, dpkg, else tar),\n" \
"# then fetches the installer that fits from the head and runs it.\n" \
"set -eu\n" \
"api='%s" API_PREFIX "'\n" \
"say() { printf 'corral-installer: %%s\\n' \"$*\" >&2; }\n" \
"# Only these characters reach the URL.\n" \
"clean() { printf '%%s' \"$1\" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9._'; }\n" \
"cpu=$(clean \"$(uname -m)\")\n" \
"os=unknown\n" \
"if [ -r /etc/os-release ]; then\n" \
"\tos=$(clean \"$(. /etc/os-release && printf '%%s' \"${ID:-unknown}\")\")\n" \
"fi\n" \
"if command -v dpkg >/dev/null 2>&1; then\n" \
"\tpkg=deb\n" \
"elif command -v rpm >/dev/null 2>&1; then\n" \
"\tpkg=rpm\n" \
"else\n" \
"\tpkg=tar\n" \
"fi\n" \
"url=\"$api/install/client/installer?cpu=$cpu&os=$os&pkg=$pkg\"\n" \
"say \"cpu=$cpu os=$os pkg=$pkg: fetching $url\"\n" \
"tmp=$(mktemp)\n" \
"trap 'rm -f \"$tmp\"' EXIT\n" \
"if command -v curl >/dev/null 2>&1; then\n" \
"\tcurl -fsS -o \"$tmp\" \"$url\" || { say \"the head has no installer for this machine\"; exit 1; }\n" \
"elif command -v wget >/dev/null 2>&1; then\n" \
"\twget -q -O \"$tmp\" \"$url\" || { say \"the head has no installer for this machine\"; exit 1; }\n" \
"else\n" \
"\tsay \"neither curl nor wget is installed\"\n" \
"\texit 1\n" \
"fi\n" \
"sh \"$tmp\" \"$@\"\n"

/*
 * A cpu= or os= value: 1 to INSTALL_PARAM_MAX of [a-z0-9._]; they are
 * parts of a file name, and '-' separates the parts.
 */
static int
install_word(const char *s)
{
	size_t	 n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._");

	return n > 0 && n <= INSTALL_PARAM_MAX && s[n] == '\0' &&
	    s[0] != '.' && strstr(s, "..") == NULL;
}

/*
 * GET /install/client/installer (public).  Without cpu=, os= or pkg=:
 * the pre-installation script.  With them: the installer in the install
 * directory that fits best, the first present of
 *   installer-<os>-<cpu>-<pkg>.sh   exactly this machine
 *   installer-<cpu>-<pkg>.sh        any OS
 *   installer-<cpu>-tar.sh          any OS, tar (works without rpm/dpkg)
 *   installer-<cpu>.sh              any OS, any packaging
 *   installer.sh                    anything
 * skipping the names that need a parameter not sent; 404 if none.
 */
enum apierr
api_install_installer(struct req *r)
{
	char		 cpu[QUERY_MAX], os[QUERY_MAX], pkg[QUERY_MAX];
	char		 base[300], *text = NULL, tried[1024];
	char		 cand[5][128];
	const char	*c, *o, *p;
	size_t		 i, n = 0, t = 0;
	enum apierr	 rc;

	/* A value req_query cannot hold must not pass for an absent one. */
	if (r->query != NULL && strlen(r->query) >= QUERY_MAX)
		return req_fail(r, API_BAD_REQUEST, "Query string too long");
	c = req_query(r, "cpu", cpu, sizeof(cpu));
	o = req_query(r, "os", os, sizeof(os));
	p = req_query(r, "pkg", pkg, sizeof(pkg));
	if (c == NULL && o == NULL && p == NULL) {
		if ((rc = req_base_url(r, base, sizeof(base))) != API_OK)
			return rc;
		xasprintf(&text, PREINSTALL, base);
		rc = send_text(r, "text/x-shellscript", text);
		free(text);
		return rc;
	}
	if ((c != NULL && !install_word(c)) || (o != NULL && !install_word(o)))
		return req_fail(r, API_BAD_REQUEST, "cpu and os must be 1 to %d "
		    "of a-z, 0-9, '.' and '_' (e.g. cpu=x86_64&os=debian)",
		    INSTALL_PARAM_MAX);
	if (p != NULL) {
		for (i = 0; i < nitems(pkgsystems); i++)
			if (strcmp(p, pkgsystems[i]) == 0)
				break;
		if (i == nitems(pkgsystems))
			return req_fail(r, API_BAD_REQUEST, "pkg must be tar, "
			    "rpm or deb");
	}
	if (o != NULL && c != NULL && p != NULL)
		snprintf(cand[n++], sizeof(cand[0]), "installer-%s-%s-%s.sh",
		    o, c, p);
	if (c != NULL && p != NULL)
		snprintf(cand[n++], sizeof(cand[0]), "installer-%s-%s.sh", c, p);
	if (c != NULL && (p == NULL || strcmp(p, "tar") != 0))
		snprintf(cand[n++], sizeof(cand[0]), "installer-%s-tar.sh", c);
	if (c != NULL)
		snprintf(cand[n++], sizeof(cand[0]), "installer-%s.sh", c);
	snprintf(cand[n++], sizeof(cand[0]), "installer.sh");
	tried[0] = '\0';
	for (i = 0; i < n; i++) {
		if (install_has(r->conf, cand[i]))
			return install_send(r, cand[i], cand[i]);
		t += (size_t)snprintf(tried + t, sizeof(tried) - t, "%s%s",
		    i > 0 ? ", " : "", cand[i]);
		if (t >= sizeof(tried))
			t = sizeof(tried) - 1;
	}
	return req_fail(r, API_NOT_FOUND, "No installer on this head fits "
	    "(tried %s)", tried);
}

/*
 * GET /install/client/download/:pkgsys/:name (public): the package
 * install_dir/<pkgsys>/<name>, pkgsys one of tar, rpm, deb; sent by
 * nginx.  400 for another pkgsys or a name outside the rules, 404 if
 * absent.
 */
enum apierr
api_install_download(struct req *r)
{
	const char	*sys = req_param(r, "pkgsys"), *name = req_param(r, "name");
	char		 rel[FILE_NAME_MAX + 16];
	size_t		 i;
	enum apierr	 rc;

	for (i = 0; i < nitems(pkgsystems); i++)
		if (strcmp(sys, pkgsystems[i]) == 0)
			break;
	if (i == nitems(pkgsystems))
		return req_fail(r, API_BAD_REQUEST, "The packaging system must "
		    "be tar, rpm or deb");
	if ((rc = name_check(&r->ctx, "package", name, 1)) != API_OK)
		return rc;
	snprintf(rel, sizeof(rel), "%s/%s", pkgsystems[i], name);
	if (!install_has(r->conf, rel))
		return req_fail(r, API_NOT_FOUND, "No %s package %s on this head",
		    pkgsystems[i], name);
	return install_send(r, rel, name);
}

/*
 * GET /install/repo (public): where a new head or node finds this
 * cluster's software, as URLs of this head (as the client reached it).
 */
enum apierr
api_install_repo(struct req *r)
{
	char		 base[300], api[320];
	enum apierr	 rc;

	if ((rc = req_base_url(r, base, sizeof(base))) != API_OK)
		return rc;
	snprintf(api, sizeof(api), "%s" API_PREFIX, base);
	r->data = json_pack("{s:s, s:s, s:s+, s:s+, s:s+, s:s+, s:s+, s:s+}",
	    "head", base, "api", api,
	    "repos", base, "/repo/",
	    "kickstarts", api, "/kickstart/",
	    "installer", api, "/install/client/installer",
	    "downloads", api, "/install/client/download/",
	    "ignition", api, "/ignition/",
	    "head_installer", api, "/install/head/scyld-install");
	return API_OK;
}

/* The body of POST /install/password. */
static const struct field password_fields[] = {
	FIELD("admin_pass", F_STRING, F_REQUIRED, 1024, "The database password to check"),
};
const struct bodyspec b_install_password = FIELDS(password_fields);

/*
 * POST /install/password (public; nginx's login rate limit): whether
 * admin_pass is this head's database password ([db] password), compared
 * in constant time.  200, or 401; always 401 when none is configured.
 */
enum apierr
api_install_password(struct req *r)
{
	const char	*pass = json_string_value(json_object_get(r->json,
	    "admin_pass"));

	if (pass == NULL || r->conf->db_password == NULL ||
	    *r->conf->db_password == '\0' ||
	    !crypto_equal(pass, r->conf->db_password))
		return req_fail(r, API_UNAUTHORIZED, "Wrong database password");
	return API_OK;
}

/*
 * The script that prepares a new head (GET /install/head/scyld-install).
 * %1$s: this head's base URL, %2$s: its address for the database (both
 * of valid_host's characters: nothing a shell or the heredoc would read).
 */
#define HEAD_SCRIPT \
"#!/bin/sh\n" \
"# scyld-install (corral): prepares this machine to join the corral\n" \
"# cluster of the head at %1$s as another head.\n" \
"#\n" \
"# What it does, in order:\n" \
"#   1. checks that it runs as root on Debian 12 (bookworm);\n" \
"#   2. installs corral's dependencies with apt-get (the list of corral's\n" \
"#      scripts/install-deps, run-time and build, plus galera-4);\n" \
"#   3. writes /etc/corral/corral.conf (corral.conf.new if one exists), a\n" \
"#      template whose [db] points at the cluster's MariaDB/Galera on\n" \
"#      %2$s;\n" \
"#   4. stops, and says what only the operator can do: join Galera, copy\n" \
"#      the database password and the keys, start the services.\n" \
"# It changes nothing else and may be run again.\n" \
"set -eu\n" \
"HEAD_URL='%1$s'\n" \
"DB_HOST='%2$s'\n" \
"say() { printf 'scyld-install: %%s\\n' \"$*\" >&2; }\n" \
"die() { say \"$*\"; exit 1; }\n" \
"\n" \
"[ \"$(id -u)\" -eq 0 ] || die \"run me as root\"\n" \
"[ -r /etc/os-release ] || die \"no /etc/os-release: corral heads run Debian 12\"\n" \
"ID=; VERSION_ID=; PRETTY_NAME=\n" \
". /etc/os-release\n" \
"if [ \"$ID\" != debian ] || [ \"$VERSION_ID\" != 12 ]; then\n" \
"\tdie \"this is ${PRETTY_NAME:-an unknown system}; corral heads run Debian 12\"\n" \
"fi\n" \
"\n" \
"packages='gcc make libc6-dev autoconf automake libtool pkg-config\n" \
"  libfcgi-dev libjansson-dev libmariadb-dev libjwt-dev libssl-dev\n" \
"  libfreeipmi-dev libpam0g-dev libcrypt-dev libcurl4-openssl-dev\n" \
"  libmicrohttpd-dev mariadb-server mariadb-client galera-4 nginx-light\n" \
"  openssl procps openipmi freeipmi-tools curl openssh-client xorriso\n" \
"  squashfs-tools git fcgiwrap grub-pc-bin grub-efi-amd64-bin mtools\n" \
"  squashfs-tools-ng dnsmasq-base ipxe'\n" \
"say \"installing corral's dependencies\"\n" \
"export DEBIAN_FRONTEND=noninteractive\n" \
"apt-get update -q\n" \
"# shellcheck disable=SC2086\n" \
"apt-get install -y -q --no-install-recommends $packages\n" \
"\n" \
"mkdir -p /etc/corral\n" \
"conf=/etc/corral/corral.conf\n" \
"[ ! -e \"$conf\" ] || conf=/etc/corral/corral.conf.new\n" \
"(\n" \
"umask 077\n" \
"cat >\"$conf\" <<'EOF'\n" \
"# corral configuration for a head joining the cluster of %1$s\n" \
"# (written by scyld-install; see corral's README, \"Configuration\").\n" \
"\n" \
"[db]\n" \
"# The cluster's MariaDB/Galera.  Once this head's own MariaDB has joined\n" \
"# Galera, socket = /run/mysqld/mysqld.sock (and no host) is faster.\n" \
"host = %2$s\n" \
"port = 3306\n" \
"name = corral\n" \
"user = corral\n" \
"# Copy it from an existing head; check it with\n" \
"#   curl -X POST %1$s" API_PREFIX "/install/password --data '{\"admin_pass\": \"...\"}'\n" \
"password =\n" \
"\n" \
"[secrets]\n" \
"# Copy this directory from an existing head (every head has the same keys).\n" \
"key_dir = /var/lib/corral/keys\n" \
"\n" \
"[auth]\n" \
"secret_file = /var/lib/corral/jwt.secret\n" \
"EOF\n" \
")\n" \
"say \"wrote $conf\"\n" \
"\n" \
"cat >&2 <<'EOF'\n" \
"scyld-install: done.  What is left needs you:\n" \
"  1. Galera: in /etc/mysql/mariadb.conf.d/60-galera.cnf set wsrep_on = ON,\n" \
"     wsrep_provider = /usr/lib/galera/libgalera_smm.so and\n" \
"     wsrep_cluster_address = gcomm://%2$s, then start MariaDB: it copies\n" \
"     the cluster's database (SST) and joins.\n" \
"  2. The database password: write it into [db] password of the file above\n" \
"     (POST %1$s" API_PREFIX "/install/password tells you whether it is right).\n" \
"  3. The keys: copy [secrets] key_dir and [auth] secret_file from an\n" \
"     existing head over a channel you trust (never over plain HTTP).\n" \
"  4. Build and install corral, start corral-api, corral-jobd and nginx,\n" \
"     and register this head (POST " API_PREFIX "/heads on any head).\n" \
"EOF\n"

/*
 * GET /install/head/scyld-install (public): the script above, for this
 * head as the client reached it: its URL, and its address (the Host
 * without the port) for the database.
 */
enum apierr
api_install_head(struct req *r)
{
	char		 base[300], host[260], *text = NULL, *e;
	enum apierr	 rc;

	if ((rc = req_base_url(r, base, sizeof(base))) != API_OK)
		return rc;
	snprintf(host, sizeof(host), "%s", r->host);
	if (host[0] == '[') {		/* [v6]:port */
		if ((e = strchr(host, ']')) != NULL)
			e[1] = '\0';
	} else if ((e = strchr(host, ':')) != NULL && strchr(e + 1, ':') == NULL)
		*e = '\0';
	xasprintf(&text, HEAD_SCRIPT, base, host);
	rc = send_text(r, "text/x-shellscript", text);
	free(text);
	return rc;
}
