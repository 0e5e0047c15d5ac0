/*
 * GET /boot/ipxe/:mac: the iPXE script a network-booting node runs.
 *
 * dnsmasq hands every iPXE client the URL of this endpoint with its own
 * MAC (contrib/, fcgi/dhcp.c).  The answer is always a script, never an
 * HTTP error, because a firmware that gets an error stops booting and
 * waits for a human; a node that cannot boot yet is told why (an iPXE
 * echo on its console) and asks again after a jittered sleep:
 *   - the node's boot config (its merged `_boot_config` attribute) with
 *     its kernel, initramfs and command line: a script that fetches both
 *     through short-lived signed links and boots;
 *   - boot_style "next": exit, the firmware tries its next boot device;
 *     "disked": boot the first local disk (sanboot), else exit;
 *     "iscsi", "sanboot", "live": not supported, said so, asked again;
 *   - an unknown MAC: registered in the management tenant when the
 *     cluster's accept_new_nodes is on, then booted like any node; else
 *     asked again (an admin may add it meanwhile).
 *
 * Links: /boot/file/<mac>/<sha256>/<name>?e=<expiry>&s=<signature>, where
 * the signature is nginx's secure_link_md5 over the expiry, the path and
 * the per-head secret (crypto_link_sign).  nginx checks it and sends the
 * file itself; a link names one node's MAC and one file, so a node (of
 * any tenant) can fetch nothing but what its own script names, and only
 * for [boot] link_ttl seconds.  The last component names the image for
 * iPXE: "vmlinuz" and "initrd.img", which the EFI stub's initrd= needs.
 *
 * Admission control is nginx's (nginx/server-common.conf.in): beyond the
 * script rate a node gets nginx's own wait-and-retry script, and a file
 * refused by a connection limit is tried again by this script after a
 * jittered sleep (fetch_lines).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define CMDLINE_MAX	4096	/* a kernel command line, substituted */
#define BOOT_FETCH_TRIES 4	/* tries of one link before a fresh script */

/* What one script answer is built from. */
struct bootreq {
	struct req	*r;
	char		 mac[18];
	char		 base[300];	/* scheme://host[:port], as asked */
	char		 self[400];	/* this script's own URL */
	struct outbuf	 out;
};

/* A random number of seconds between [boot] retry_min and retry_max. */
static int
retry_delay(const struct conf *conf)
{
	unsigned int	 r = 0;
	int		 lo = conf->boot_retry_min, hi = conf->boot_retry_max;

	if (hi <= lo)
		return lo;
	(void)random_bytes(&r, sizeof(r));
	return lo + (int)(r % (unsigned int)(hi - lo + 1));
}

/*
 * Text fit for an iPXE echo: printable ASCII, no '$' (iPXE would expand
 * ${...}), so a name or reason can never start a command of its own.
 */
static void
echo_line(struct bootreq *b, const char *fmt, ...)
{
	char		 buf[512];
	va_list		 ap;
	size_t		 i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; buf[i] != '\0'; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] > 0x7e ||
		    buf[i] == '$')
			buf[i] = '?';
	out_printf(&b->out, "echo corral: %s\n", buf);
}

/*
 * The lines that say why and ask again later: a whole script when the
 * answer is empty so far, else the end of one.
 */
static enum apierr
script_wait(struct bootreq *b, const char *why)
{
	int	 delay = retry_delay(b->r->conf);

	if (b->out.len == 0)
		out_printf(&b->out, "#!ipxe\n");
	echo_line(b, "%s", why);
	echo_line(b, "asking again in %d s", delay);
	out_printf(&b->out, "sleep %d\nchain --replace --autofree %s\n", delay,
	    b->self);
	return API_OK;
}

/* Read the link secret shared with nginx, once per worker. */
static const char *
link_secret(const struct conf *conf)
{
	static char	 secret[129];
	FILE		*f;
	size_t		 n;

	if (secret[0] != '\0')
		return secret;
	if ((f = fopen(conf->boot_link_secret_file, "r")) == NULL) {
		log_err("%s: %s", conf->boot_link_secret_file, strerror(errno));
		return NULL;
	}
	n = fread(secret, 1, sizeof(secret) - 1, f);
	fclose(f);
	while (n > 0 && (secret[n - 1] == '\n' || secret[n - 1] == ' '))
		n--;
	secret[n] = '\0';
	if (n < 16) {
		log_err("%s: shorter than 16 characters",
		    conf->boot_link_secret_file);
		secret[0] = '\0';
		return NULL;
	}
	return secret;
}

/*
 * The signed link to file sha256 named name for this node, into buf.
 * Returns 0, or -1 when there is no secret (logged).
 */
static int
file_link(struct bootreq *b, const char *sha256, const char *name, char *buf,
    size_t bufsz)
{
	const char	*secret = link_secret(b->r->conf);
	char		 path[160], mac[18], sig[23], *text = NULL;
	long long	 expires = (long long)time_now() + b->r->conf->boot_link_ttl;
	size_t		 i;
	int		 rc = -1;

	if (secret == NULL)
		return -1;
	memcpy(mac, b->mac, sizeof(mac));
	for (i = 0; mac[i] != '\0'; i++)
		if (mac[i] == ':')
			mac[i] = '-';
	snprintf(path, sizeof(path), "/boot/file/%s/%s/%s", mac, sha256, name);
	/* nginx: secure_link_md5 "$secure_link_expires$uri <secret>" */
	xasprintf(&text, "%lld%s %s", expires, path, secret);
	if (crypto_link_sign(text, sig) == -1)
		goto out;
	snprintf(buf, bufsz, "%s%s?e=%lld&s=%s", b->base, path, expires, sig);
	rc = 0;
out:
	if (text != NULL)
		wipe(text, strlen(text));
	free(text);
	return rc;
}

/*
 * The lines that fetch one image: "cmd args", tried BOOT_FETCH_TRIES
 * times a jittered sleep apart (a download refused by a connection
 * limit in a boot storm, a head restarting), then on to label next; the
 * last failure goes to "retry", which asks for a fresh script (fresh
 * links, and admission control again).  Retrying the same link first
 * keeps a storm's refused downloads from costing a script each.
 * Labels are cmd1..cmdN.
 */
static void
fetch_lines(struct bootreq *b, const char *cmd, const char *args,
    const char *next)
{
	int	 i, delay = retry_delay(b->r->conf);

	for (i = 1; i <= BOOT_FETCH_TRIES; i++) {
		out_printf(&b->out, ":%s%d\n", cmd, i);
		if (i > 1)
			out_printf(&b->out, "sleep %d\n", delay);
		if (i < BOOT_FETCH_TRIES)
			out_printf(&b->out, "%s %s || goto %s%d\ngoto %s\n",
			    cmd, args, cmd, i + 1, next);
		else
			out_printf(&b->out, "%s %s || goto retry\n", cmd, args);
	}
}

/*
 * The script for node o (its tenant's scope in c): its boot config's
 * kernel, initramfs and command line, or a wait script saying what is
 * missing.  Records the "script" stage.
 */
static enum apierr
script_node(struct bootreq *b, struct ctx *c, const struct objrow *o)
{
	struct objrow	 bc = { 0 };
	struct fileinfo	 kernel, initrd, image;
	json_t		*attrs = NULL;
	const char	*bcname, *style, *tmpl, *imguid;
	char		*cmdline = NULL, *kargs = NULL, what[NAME_MAX_LEN + 32];
	char		 klink[600], ilink[600], mlink[600];
	enum apierr	 rc;
	size_t		 i;
	int		 has_image = 0;

	if ((rc = boot_record(c, o->uid, BOOT_SCRIPT, time_now())) != API_OK)
		goto out;
	if ((rc = attrs_node_view(c, o, 0, &attrs)) != API_OK)
		goto out;
	bcname = json_string_value(json_object_get(attrs, "_boot_config"));
	if (bcname == NULL || *bcname == '\0') {
		rc = script_wait(b, "node has no _boot_config attribute");
		goto out;
	}
	if ((rc = obj_find(c, &bootconfig_class, bcname, 0, &bc)) != API_OK) {
		if (rc != API_NOT_FOUND)
			goto out;
		rc = script_wait(b, "its _boot_config names no boot config");
		goto out;
	}
	style = json_string_value(json_object_get(bc.doc, "boot_style"));
	if (style == NULL)
		style = "rwram";
	if (strcmp(style, "next") == 0) {
		out_printf(&b->out, "#!ipxe\n");
		echo_line(b, "%s: boot config %s says boot_style next: "
		    "trying the next boot device", o->name, bc.name);
		out_printf(&b->out, "exit\n");
		goto out;
	}
	if (strcmp(style, "disked") == 0) {
		out_printf(&b->out, "#!ipxe\n");
		echo_line(b, "%s: boot config %s says boot_style disked: "
		    "booting the first local disk", o->name, bc.name);
		out_printf(&b->out, "sanboot --no-describe --drive 0x80 || exit\n");
		goto out;
	}
	if (strcmp(style, "rwram") != 0 && strcmp(style, "roram") != 0) {
		snprintf(what, sizeof(what), "boot_style %s is not supported by "
		    "corral (rwram, roram, disked, next)", style);
		rc = script_wait(b, what);
		goto out;
	}

	if ((rc = fstore_ref_get(c, bc.uid, "kernel", &kernel)) == API_NOT_FOUND ||
	    (rc == API_OK && (rc = fstore_ref_get(c, bc.uid, "initramfs",
	    &initrd)) == API_NOT_FOUND)) {
		rc = script_wait(b, "its boot config has no kernel or initramfs");
		goto out;
	}
	if (rc != API_OK)
		goto out;
	if ((imguid = json_string_value(json_object_get(bc.doc, "image"))) != NULL &&
	    (rc = fstore_ref_get(c, imguid, "content", &image)) != API_NOT_FOUND) {
		if (rc != API_OK)
			goto out;
		has_image = 1;
	}

	tmpl = json_string_value(json_object_get(bc.doc, "cmdline"));
	snprintf(what, sizeof(what), "cmdline of %s for %s", bc.name, o->name);
	if ((rc = node_template(c, o, tmpl != NULL ? tmpl : "", what,
	    CMDLINE_MAX, 0, TMPL_LINE_SAFE, &cmdline)) != API_OK) {
		if (rc != API_BAD_REQUEST && rc != API_CONFLICT)
			goto out;
		rc = script_wait(b, c->reason);
		goto out;
	}
	/* The admin's own text may not leave the line either. */
	for (i = 0; cmdline[i] != '\0'; i++)
		if ((unsigned char)cmdline[i] < 0x20 || cmdline[i] == 0x7f) {
			snprintf(what, sizeof(what), "cmdline of %s holds a line "
			    "break or another control character", bc.name);
			rc = script_wait(b, what);
			goto out;
		}
	if (file_link(b, kernel.sha256, BOOT_KERNEL_NAME, klink,
	    sizeof(klink)) == -1 || file_link(b, initrd.sha256,
	    BOOT_INITRD_NAME, ilink, sizeof(ilink)) == -1 || (has_image &&
	    file_link(b, image.sha256, "image", mlink, sizeof(mlink)) == -1)) {
		rc = ctx_internal(c, "cannot sign boot links");
		goto out;
	}

	out_printf(&b->out, "#!ipxe\n");
	echo_line(b, "%s (%s): boot config %s, %s", o->name, b->mac, bc.name,
	    style);
	xasprintf(&kargs, "%s initrd=%s corral.boot_style=%s%s%s%s%s", klink,
	    BOOT_INITRD_NAME, style, has_image ? " corral.image=" : "",
	    has_image ? mlink : "", cmdline[0] != '\0' ? " " : "", cmdline);
	fetch_lines(b, "kernel", kargs, "initrd1");
	fetch_lines(b, "initrd", ilink, "boot");
	out_printf(&b->out, ":boot\nboot || goto retry\n:retry\n");
	rc = script_wait(b, "a download failed (the head may be busy)");
out:
	free(kargs);
	free(cmdline);
	objrow_free(&bc);
	json_decref(attrs);
	return rc;
}

/*
 * An unknown MAC: registered in the management tenant if the cluster
 * accepts new nodes (its naming pool, network and default group assign
 * the rest, as for any new node), into *o.  API_NOT_FOUND when it does
 * not.  Two requests of one new node race to create it; the loser finds
 * the winner's node.
 */
static enum apierr
node_register(struct bootreq *b, struct ctx *any, struct objrow *o)
{
	struct ctx	 mc;
	json_t		*settings = NULL;
	char		 uid[UID_LEN + 1];
	long long	 mgmt;
	enum apierr	 rc, err;
	int		 accept;

	if ((mgmt = tenant_lookup(any, MGMT_TENANT, &err)) == 0)
		return err != API_OK ? err : ctx_internal(any, "no management tenant");
	if ((rc = settings_get(any, mgmt, 0, &settings)) != API_OK)
		return rc;
	accept = json_is_true(json_object_get(settings, "accept_new_nodes"));
	json_decref(settings);
	if (!accept)
		return API_NOT_FOUND;
	ctx_init(&mc, any->db, any->conf, scope_of_tenant(mgmt, 0,
	    "accept_new_nodes"));
	rc = obj_create(&mc, &node_class, json_pack("{s:s}", "mac", b->mac),
	    mgmt, uid);
	if (rc == API_OK || rc == API_CONFLICT) {
		log_info("boot: %s %s", b->mac, rc == API_OK ?
		    "registered (accept_new_nodes)" : "registered meanwhile");
		rc = obj_find(any, &node_class, b->mac, 0, o);
	} else
		rc = ctx_pass(any, &mc, rc);
	ctx_clear(&mc);
	return rc;
}

/* GET /boot/ipxe/:mac (public): the node's iPXE script. */
enum apierr
api_boot_ipxe(struct req *r)
{
	struct bootreq	 b;
	struct ctx	 any, nc;
	struct objrow	 o = { 0 };
	char		 actor[ACTOR_MAX];
	long long	 src;
	enum apierr	 rc;

	memset(&b, 0, sizeof(b));
	b.r = r;
	if (mac_normalize(req_param(r, "mac"), b.mac) == -1)
		return req_fail(r, API_BAD_REQUEST, "Not a MAC address: %s",
		    req_param(r, "mac"));
	/* Links go back the way the script came: the node reached us so. */
	if ((rc = req_base_url(r, b.base, sizeof(b.base))) != API_OK)
		return rc;
	snprintf(b.self, sizeof(b.self), "%s" API_PREFIX "/boot/ipxe/%s",
	    b.base, b.mac);

	/* MACs are unique across tenants: the lookup is over all of them. */
	ctx_init(&any, r->ctx.db, r->conf, scope_of_tenant(SCOPE_ALL, 0,
	    "boot"));
	if ((rc = obj_find(&any, &node_class, b.mac, 0, &o)) == API_NOT_FOUND)
		rc = node_register(&b, &any, &o);
	else if (rc == API_OK && (src = source_tenant(r)) != 0 &&
	    src != o.tenant_id) {
		/* Another tenant's node learns nothing of this MAC. */
		objrow_free(&o);
		rc = API_NOT_FOUND;
	}
	if (rc == API_NOT_FOUND) {
		rc = script_wait(&b, "unknown MAC address; the cluster does not "
		    "accept new nodes");
		goto answer;
	}
	if (rc != API_OK) {
		rc = ctx_pass(&r->ctx, &any, rc);
		goto out;
	}
	snprintf(actor, sizeof(actor), "node:%s", o.name);
	ctx_init(&nc, r->ctx.db, r->conf, scope_of_tenant(o.tenant_id, 0,
	    actor));
	rc = script_node(&b, &nc, &o);
	if (rc != API_OK)
		rc = ctx_pass(&r->ctx, &nc, rc);
	ctx_clear(&nc);
	if (rc != API_OK)
		goto out;
answer:
	resp_raw(r, 200, "text/plain; charset=utf-8", b.out.p, b.out.len);
out:
	ctx_clear(&any);
	objrow_free(&o);
	out_free(&b.out);
	return rc;
}
