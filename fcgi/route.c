/*
 * THE route table, and the front line every request crosses before a
 * handler runs: method and path (404/405), content type (415), token
 * (401), role (403), body shape (400).  A handler sees only validated
 * input, its caller's identity and the scope it works in (r->ctx).
 *
 * A row names its handler, the role it needs, its body spec, and, for
 * the generic handlers, its class and an argument.  The seven standard
 * routes of a class are one CLASS_ROUTES line.  The matcher prefers a
 * literal segment to a :capture, so the order of rows does not matter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "extern.h"

/*
 * list, create, meta, get, PATCH, PUT and DELETE of class c: reading
 * needs rd, writing wr, /meta nothing.  Every plural is the name + "s".
 */
#define CLASS_ROUTES(c, rd, wr) \
	{ M_GET,    "/" #c "s",      api_obj_list,   rd,        NULL,          &c##_class, NULL }, \
	{ M_POST,   "/" #c "s",      api_obj_post,   wr,        &c##_class.spec, &c##_class, NULL }, \
	{ M_GET,    "/" #c "s/meta", api_obj_meta,   NEED_NONE, NULL,          &c##_class, NULL }, \
	{ M_GET,    "/" #c "/:id",   api_obj_get,    rd,        NULL,          &c##_class, NULL }, \
	{ M_PATCH,  "/" #c "/:id",   api_obj_patch,  wr,        &c##_class.spec, &c##_class, NULL }, \
	{ M_PUT,    "/" #c "/:id",   api_obj_put,    wr,        &c##_class.spec, &c##_class, NULL }, \
	{ M_DELETE, "/" #c "/:id",   api_obj_delete, wr,        NULL,          &c##_class, NULL }

/* The arguments rows hand to their handlers. */
static const enum keyedit	 edit_merge = KEYEDIT_MERGE;
static const enum keyedit	 edit_replace = KEYEDIT_REPLACE;
static const enum keyedit	 edit_remove = KEYEDIT_REMOVE;
static const enum keyop		 keys_add = KEYS_ADD;
static const enum keyop		 keys_set = KEYS_SET;
static const enum keyop		 keys_remove = KEYS_REMOVE;
static const int		 files_list = 0;
static const int		 files_remove = 1;
static const enum how	 how_patch = HOW_PATCH;
static const enum how	 how_replace = HOW_REPLACE;
static const int		 nodes_in = 0;
static const int		 nodes_out = 1;

/* GET/HEAD, PUT and DELETE of the file in slot s of class c's objects. */
#define FILE_ROUTES(c, path, s) \
	{ M_GET,    "/" #c "/:id/" path,  api_file_get,    NEED_READ,   NULL, &c##_class, s }, \
	{ M_PUT,    "/" #c "/:id/" path,  api_file_put,    NEED_CONFIG, NULL, &c##_class, s }, \
	{ M_DELETE, "/" #c "/:id/" path,  api_file_delete, NEED_CONFIG, NULL, &c##_class, s }

static const struct route routes[] = {
	/* method   pattern                     handler                   needs          body               class             arg */
	{ M_POST,   "/login",                   api_login,                NEED_NONE,     &b_login,          NULL,             NULL },
	{ M_GET,    "/newtoken",                api_newtoken,             NEED_REFRESH,  NULL,              NULL,             NULL },
	{ M_GET,    "/whoami",                  api_whoami,               NEED_READ,     NULL,              NULL,             NULL },
	{ M_GET,    "/audit",                   api_audit_list,           NEED_FULL,     NULL,              NULL,             NULL },

	/* Admins: anyone may edit itself, so PATCH needs only a login. */
	{ M_GET,    "/admins",                  api_obj_list,             NEED_READ,     NULL,              &admin_class,     NULL },
	{ M_POST,   "/admins",                  api_obj_post,             NEED_FULL,     &admin_class.spec, &admin_class,     NULL },
	{ M_GET,    "/admins/meta",             api_obj_meta,             NEED_NONE,     NULL,              &admin_class,     NULL },
	{ M_GET,    "/admin/:id",               api_obj_get,              NEED_READ,     NULL,              &admin_class,     NULL },
	{ M_PATCH,  "/admin/:id",               api_obj_patch,            NEED_READ,     &admin_class.spec, &admin_class,     NULL },
	{ M_PUT,    "/admin/:id",               api_obj_put,              NEED_FULL,     &admin_class.spec, &admin_class,     NULL },
	{ M_DELETE, "/admin/:id",               api_obj_delete,           NEED_FULL,     NULL,              &admin_class,     NULL },
	{ M_POST,   "/admin/:id/keys",          api_admin_keys,           NEED_READ,     &b_keys,           NULL,             &keys_add },
	{ M_PUT,    "/admin/:id/keys",          api_admin_keys,           NEED_READ,     &b_keys,           NULL,             &keys_set },
	{ M_DELETE, "/admin/:id/keys",          api_admin_keys,           NEED_READ,     &b_keys,           NULL,             &keys_remove },
	{ M_GET,    "/admin/:id/gui_settings",  api_obj_field_get,        NEED_READ,     NULL,              &admin_class,     "gui_settings" },
	{ M_PATCH,  "/admin/:id/gui_settings",  api_admin_gui,            NEED_READ,     &b_gui,            NULL,             &edit_merge },
	{ M_DELETE, "/admin/:id/gui_settings",  api_admin_gui,            NEED_READ,     &b_gui,            NULL,             &edit_remove },
	{ M_POST,   "/admin/:id/newtoken",      api_admin_newtoken,       NEED_READ,     &b_admin_newtoken, NULL,             NULL },

	{ M_GET,    "/cluster",                 api_cluster_get,          NEED_READ,     NULL,              NULL,             NULL },
	{ M_PATCH,  "/cluster",                 api_cluster_patch,        NEED_FULL,     &b_cluster,        NULL,             NULL },
	{ M_GET,    "/cluster/time",            api_cluster_time,         NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/cluster/database",        api_cluster_database,     NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/cluster/summary",         api_cluster_summary,      NEED_READ,     NULL,              NULL,             NULL },
	{ M_GET,    "/cluster/hosts",           api_cluster_hosts,        NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/cluster/sshkeys",         api_cluster_sshkeys,      NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/cluster/cabundle",        api_cluster_cabundle,     NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/cluster/license",         api_cluster_license,      NEED_READ,     NULL,              NULL,             NULL },
	{ M_GET,    "/cluster/head/:id",        api_cluster_head,         NEED_READ,     NULL,              NULL,             NULL },
	{ M_POST,   "/cluster/rekey",           api_cluster_rekey,        NEED_SUPER,    NULL,              NULL,             NULL },
	{ M_GET,    "/whereami",                api_whereami,             NEED_READ,     NULL,              NULL,             NULL },

	/*
	 * Tenants (api_tenant.c): the superadministrator's; a tenant's admins
	 * read their own.  Tenancies: the superadministrator makes and fills
	 * them; a tenancy token reaches only /tenancy/members and
	 * /tenancy/power/:id.
	 */
	{ M_GET,    "/tenants",                 api_tenants_list,         NEED_SUPER,    NULL,              NULL,             NULL },
	{ M_POST,   "/tenants",                 api_tenant_post,          NEED_SUPER,    &tenant_class.spec, NULL,            NULL },
	{ M_GET,    "/tenants/meta",            api_obj_meta,             NEED_NONE,     NULL,              &tenant_class,    NULL },
	{ M_GET,    "/tenant/:id",              api_tenant_get,           NEED_READ,     NULL,              NULL,             NULL },
	{ M_PATCH,  "/tenant/:id",              api_tenant_change,        NEED_SUPER,    &tenant_class.spec, NULL,            &how_patch },
	{ M_PUT,    "/tenant/:id",              api_tenant_change,        NEED_SUPER,    &tenant_class.spec, NULL,            &how_replace },
	{ M_DELETE, "/tenant/:id",              api_tenant_delete,        NEED_SUPER,    NULL,              NULL,             NULL },
	{ M_GET,    "/tenant/:id/credentials",  api_tenant_credentials,   NEED_FULL,     NULL,              NULL,             NULL },
	{ M_GET,    "/tenancies",               api_tenancies_list,       NEED_READ,     NULL,              NULL,             NULL },
	{ M_POST,   "/tenancies",               api_obj_post,             NEED_SUPER,    &tenancy_class.spec, &tenancy_class, NULL },
	{ M_GET,    "/tenancies/meta",          api_obj_meta,             NEED_NONE,     NULL,              &tenancy_class,   NULL },
	{ M_GET,    "/tenancy/:id/",            api_tenancy_get,           NEED_READ,     NULL,              NULL,             NULL },
	{ M_PATCH,  "/tenancy/:id",             api_obj_patch,            NEED_SUPER,    &tenancy_class.spec, &tenancy_class, NULL },
	{ M_DELETE, "/tenancy/:id",             api_obj_delete,           NEED_SUPER,    NULL,              &tenancy_class,   NULL },
	{ M_POST,   "/tenancy/:id/nodes",       api_tenancy_nodes,        NEED_SUPER,    &b_mac_list,            NULL,             &nodes_in },
	{ M_DELETE, "/tenancy/:id/nodes",       api_tenancy_nodes,        NEED_SUPER,    &b_mac_list,            NULL,             &nodes_out },
	{ M_POST,   "/tenancy/:id/newtoken",    api_tenancy_newtoken,     NEED_SUPER,    &b_tenancy_newtoken, NULL,           NULL },
	{ M_GET,    "/tenancy/:id/tokens",      api_tenancy_tokens,       NEED_SUPER,    NULL,              NULL,             NULL },
	{ M_DELETE, "/tenancy/:id/tokens",      api_tenancy_tokens_revoke, NEED_SUPER,   &b_tenancy_revoke, NULL,             NULL },
	{ M_DELETE, "/tenancy/teardown/:id",    api_tenancy_teardown,     NEED_SUPER,    NULL,              NULL,             NULL },
	{ M_GET,    "/tenancy/members",         api_tenancy_members,      NEED_TENANCY,  NULL,              NULL,             NULL },
	{ M_GET,    "/tenancy/power/:id",       api_tenancy_power,        NEED_TENANCY,  NULL,              NULL,             NULL },
	{ M_POST,   "/tenancy/power/:id",       api_tenancy_power,        NEED_TENANCY,  &b_power,          NULL,             NULL },

	{ M_POST,   "/jobs",                    api_job_post,             NEED_OPERATOR, &b_job,            NULL,             NULL },
	{ M_GET,    "/jobs",                    api_jobs_list,            NEED_READ,     NULL,              NULL,             NULL },
	{ M_GET,    "/jobs/stats",              api_jobs_stats,           NEED_READ,     NULL,              NULL,             NULL },
	{ M_GET,    "/job/:id",                 api_job_get,              NEED_READ,     NULL,              NULL,             NULL },
	{ M_DELETE, "/job/:id",                 api_job_delete,           NEED_OPERATOR, NULL,              NULL,             NULL },
	{ M_GET,    "/job/:id/result",          api_job_result,           NEED_READ,     NULL,              NULL,             NULL },
	{ M_GET,    "/batch/:id",               api_batch_get,            NEED_READ,     NULL,              NULL,             NULL },
	{ M_GET,    "/batch/:id/output/:node",  api_batch_output,         NEED_OPERATOR, NULL,              NULL,             NULL },

	CLASS_ROUTES(attrib, NEED_READ, NEED_CONFIG),
	{ M_GET,    "/attrib/:id/attributes",   api_attrs_get,            NEED_READ,     NULL,              &attrib_class,    NULL },
	{ M_PUT,    "/attrib/:id/attributes",   api_attrs_edit,           NEED_CONFIG,   &b_any,            &attrib_class,    &edit_replace },
	{ M_PATCH,  "/attrib/:id/attributes",   api_attrs_edit,           NEED_CONFIG,   &b_any,            &attrib_class,    &edit_merge },
	{ M_DELETE, "/attrib/:id/attributes",   api_attrs_edit,           NEED_CONFIG,   &b_any,            &attrib_class,    &edit_remove },

	CLASS_ROUTES(image, NEED_READ, NEED_CONFIG),
	FILE_ROUTES(image, "content", "content"),
	{ M_GET,    "/image/:id/content/stat",  api_file_stat,            NEED_READ,     NULL,              &image_class,     "content/stat" },
	{ M_GET,    "/image/:id/content/info",  api_file_stat,            NEED_READ,     NULL,              &image_class,     "content/info" },
	/* ISO and capture (api_image.c): both jobs the caller waits for. */
	{ M_GET,    "/image/:id/capture",       api_image_capture,        NEED_CONFIG,   &b_capture,        NULL,             NULL },
	{ M_POST,   "/image/:id/capture",       api_image_capture,        NEED_CONFIG,   &b_capture,        NULL,             NULL },

	CLASS_ROUTES(bootconfig, NEED_READ, NEED_CONFIG),
	{ M_GET,    "/bootconfigs/errors",      api_bootconfigs_errors,   NEED_READ,     NULL,              NULL,             NULL },
	{ M_GET,    "/bootconfig/:id/errors",   api_bootconfig_errors,    NEED_READ,     NULL,              NULL,             NULL },
	FILE_ROUTES(bootconfig, "kernel", "kernel"),
	FILE_ROUTES(bootconfig, "initramfs", "initramfs"),
	/* Export and import (api_export.c): reading exports, writing imports. */
	{ M_GET,    "/bootconfig/:id/export",   api_bootconfig_export,    NEED_READ,     NULL,              NULL,             NULL },
	{ M_POST,   "/bootconfigs/import",      api_bootconfigs_import,   NEED_CONFIG,   NULL,              NULL,             NULL },
	{ M_GET,    "/bootconfigs/mkiso",       api_bootconfig_mkiso,     NEED_READ,     &b_mkiso,          NULL,             NULL },
	/* The kickstart filled in for one node of the caller's (api_boottmpl.c). */
	{ M_GET,    "/bootconfig/:id/kickstart", api_bootconfig_kickstart, NEED_READ,    NULL,              NULL,             NULL },

	CLASS_ROUTES(distro, NEED_READ, NEED_CONFIG),
	CLASS_ROUTES(repo, NEED_READ, NEED_CONFIG),
	FILE_ROUTES(repo, "iso", "iso"),
	{ M_GET,    "/repo/:id/iso/stat",       api_file_stat,            NEED_READ,     NULL,              &repo_class,      "iso/stat" },

	CLASS_ROUTES(gitrepo, NEED_READ, NEED_CONFIG),
	{ M_GET,    "/gitrepo/:id/url",         api_gitrepo_url,          NEED_NONE,     NULL,              NULL,             NULL },
	/* Git repositories' content (api_git.c): public ones need no token. */
	{ M_GET,    "/gitrepo/:id/repo",        api_gitrepo_file,         NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/gitrepo/:id/repo/:path*", api_gitrepo_file,         NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/gitrepo/:id/content",     api_gitrepo_file,         NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/gitrepo/:id/content/:path*", api_gitrepo_file,      NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/gitrepo/:id/sync",        api_gitrepo_sync,         NEED_CONFIG,   &b_gitsync,        NULL,             NULL },
	{ M_POST,   "/gitrepo/:id/sync",        api_gitrepo_sync,         NEED_CONFIG,   &b_gitsync,        NULL,             NULL },
	{ M_GET,    "/gitrepo/:id/branches",    api_gitrepo_branches,     NEED_READ,     &b_gitbranches,    NULL,             NULL },
	{ M_DELETE, "/gitrepo/:id/branches",    api_gitrepo_branches_del, NEED_CONFIG,   &b_gitbranches_del, NULL,            NULL },
	/* The waiter hands a file read back here; nginx's auth_request asks /_gitauth. */
	{ M_GET,    "/gitread/:job",            api_gitread_result,       NEED_NONE,     NULL,              NULL,             NULL },

	/* Global webhooks; the waiter hands a request back here once its blocking hooks answered. */
	CLASS_ROUTES(tenanthook, NEED_SUPER, NEED_SUPER),
	{ M_GET,    "/_hookgate/:job",          api_hookgate_result,      NEED_READ,     NULL,              NULL,             NULL },
	/* Until the tenant routes call the hooks: 404 unless [hooks] test_route. */
	{ M_POST,   "/_hooktest/:name",         api_hooktest,             NEED_SUPER,    &b_any,            NULL,             NULL },
	{ M_GET,    "/_gitauth",                api_gitauth,              NEED_NONE,     NULL,              NULL,             NULL },

	CLASS_ROUTES(net, NEED_READ, NEED_CONFIG),
	{ M_GET,    "/nets/byname/:part",       api_obj_search,           NEED_READ,     NULL,              &net_class,       &nets_byname },
	{ M_GET,    "/nets/byip/:part",         api_obj_search,           NEED_READ,     NULL,              &net_class,       &nets_byip },
	{ M_GET,    "/nets/bykey/:part",        api_obj_search,           NEED_READ,     NULL,              &net_class,       &nets_bykey },
	{ M_GET,    "/nets/byiface/:part",      api_obj_search,           NEED_READ,     NULL,              &net_class,       &nets_byiface },

	CLASS_ROUTES(hostname, NEED_READ, NEED_CONFIG),
	{ M_GET,    "/hostnames/bypart/:part",  api_obj_search,           NEED_READ,     NULL,              &hostname_class,  &hostnames_bypart },

	CLASS_ROUTES(dyngroup, NEED_READ, NEED_CONFIG),
	{ M_GET,    "/dyngroup/:id/nodes",      api_dyngroup_nodes,       NEED_READ,     NULL,              NULL,             NULL },

	CLASS_ROUTES(namingpool, NEED_READ, NEED_CONFIG),
	{ M_GET,    "/namingpools/info/:node",  api_namingpools_info,     NEED_READ,     NULL,              NULL,             NULL },
	{ M_PUT,    "/namingpool/:id/push",     api_namingpool_push,      NEED_CONFIG,   NULL,              NULL,             NULL },

	CLASS_ROUTES(head, NEED_READ, NEED_SUPER),
	{ M_GET,    "/head/files/unused",       api_files_unused,         NEED_HEAD,     NULL,              NULL,             &files_list },
	{ M_DELETE, "/head/files/unused",       api_files_unused,         NEED_HEAD,     NULL,              NULL,             &files_remove },

	/* Network boot: a node's iPXE script (public: the firmware has no token). */
	{ M_GET,    "/boot/ipxe/:mac",          api_boot_ipxe,            NEED_NONE,     NULL,              NULL,             NULL },
	/*
	 * Boot-time support (api_boottmpl.c): public, as installers, switches
	 * and new heads have no token; a node's own files go by its address
	 * or UID.  /install/password is behind nginx's login rate limit.
	 */
	{ M_GET,    "/kickstart/:name",         api_kickstart_get,        NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/ztp/script",              api_ztp_script,           NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/ignition/bin",            api_ignition_bin,         NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/ignition/:uid",           api_ignition_get,         NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/install/client/installer", api_install_installer,   NEED_NONE,     NULL,              NULL,             NULL },
	{ M_GET,    "/install/client/download/:pkgsys/:name", api_install_download, NEED_NONE, NULL,        NULL,             NULL },
	{ M_GET,    "/install/repo",            api_install_repo,         NEED_NONE,     NULL,              NULL,             NULL },
	{ M_POST,   "/install/password",        api_install_password,     NEED_NONE,     &b_install_password, NULL,           NULL },
	{ M_GET,    "/install/head/scyld-install", api_install_head,      NEED_NONE,     NULL,              NULL,             NULL },

	/* Nodes.  The PUT reports are public: the node is known by its address. */
	CLASS_ROUTES(node, NEED_READ, NEED_CONFIG),
	{ M_POST,   "/node/putstatus",          api_node_putstatus_post,  NEED_OPERATOR, &b_putstatus_uid,  NULL,             NULL },
	{ M_PUT,    "/node/putstatus",          api_node_putstatus_put,   NEED_NONE,     &b_putstatus,      NULL,             NULL },
	{ M_POST,   "/node/putattribs",         api_node_putattribs_post, NEED_OPERATOR, &b_any,            NULL,             NULL },
	{ M_PUT,    "/node/putattribs",         api_node_putattribs_put,  NEED_NONE,     &b_any,            NULL,             NULL },
	{ M_GET,    "/node/:id/attributes",     api_node_attrs_get,       NEED_READ,     NULL,              NULL,             NULL },
	{ M_PUT,    "/node/:id/attributes",     api_attrs_edit,           NEED_CONFIG,   &b_any,            &node_class,      &edit_replace },
	{ M_PATCH,  "/node/:id/attributes",     api_attrs_edit,           NEED_CONFIG,   &b_any,            &node_class,      &edit_merge },
	{ M_DELETE, "/node/:id/attributes",     api_attrs_edit,           NEED_CONFIG,   &b_any,            &node_class,      &edit_remove },
	{ M_GET,    "/node/:id/groups",         api_obj_field_get,        NEED_READ,     NULL,              &node_class,      "groups" },
	{ M_POST,   "/node/:id/groups",         api_node_groups,          NEED_CONFIG,   &b_any,            NULL,             NULL },
	{ M_DELETE, "/node/:id/groups",         api_node_groups,          NEED_CONFIG,   &b_any,            NULL,             NULL },
	{ M_GET,    "/node/:id/status",         api_node_status_get,      NEED_READ,     NULL,              NULL,             NULL },
	{ M_GET,    "/node/:id/power_uri",      api_node_power_uri,       NEED_READ,     NULL,              NULL,             NULL },
	{ M_GET,    "/node/:id/power_state",    api_node_power_get,       NEED_READ,     NULL,              NULL,             NULL },
	{ M_PUT,    "/node/:id/power_state",    api_node_power_put,       NEED_OPERATOR, &b_power,          NULL,             NULL },
	{ M_PUT,    "/node/:id/exec",           api_node_exec,            NEED_OPERATOR, &b_exec,           NULL,             NULL },
	{ M_DELETE, "/node/:id/hostkey",        api_node_hostkey_delete,  NEED_CONFIG,   NULL,              NULL,             NULL },
	{ M_PUT,    "/nodes/power_state",       api_nodes_bulk,           NEED_OPERATOR, &b_bulk_power,     NULL,             &job_power },
	{ M_PUT,    "/nodes/exec",              api_nodes_bulk,           NEED_OPERATOR, &b_bulk_exec,      NULL,             &job_exec },
};

/* How many routes the table holds. */
size_t
route_count(void)
{
	return nitems(routes);
}

/* Route i of the table (tests, `corral-api routes`). */
const struct route *
route_at(size_t i)
{
	return i < nitems(routes) ? &routes[i] : NULL;
}

/* The method's name as HTTP spells it. */
const char *
method_name(enum method m)
{
	static const char *const names[M__MAX] = {
		"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"
	};

	return m < M__MAX ? names[m] : "?";
}

/* What a route needs, as a word: "none" is public. */
const char *
route_need_name(enum need need)
{
	static const char *const names[] = {
		[NEED_NONE] = "none", [NEED_REFRESH] = "refresh",
		[NEED_READ] = "read", [NEED_OPERATOR] = "operator",
		[NEED_CONFIG] = "config", [NEED_FULL] = "full",
		[NEED_SUPER] = "super", [NEED_HEAD] = "head",
		[NEED_TENANCY] = "tenancy",
	};

	return need < nitems(names) ? names[need] : "?";
}

/*
 * Match path against pattern; on success the :captures are copied into
 * params (new allocations) and *rank says how literal the match was: a
 * bit per segment, set where the pattern's segment is literal, the first
 * segment highest.  Segments never match empty.
 */
static int
pattern_match(const char *pat, const char *path, char **params, size_t *n,
    unsigned long *rank)
{
	const char	*pe, *se;
	size_t		 len, seg = 0;

	*n = 0;
	*rank = 0;
	for (;;) {
		if (*pat != '/' || *path != '/')
			break;
		pat++;
		path++;
		pe = strchr(pat, '/');
		if (pe == NULL)
			pe = pat + strlen(pat);
		se = strchr(path, '/');
		if (se == NULL)
			se = path + strlen(path);
		len = (size_t)(se - path);
		if (len == 0 || seg >= 8 * sizeof(*rank) - 1)
			break;
		if (*pat == ':' && pe[-1] == '*' && *pe == '\0') {
			/* ":name*", last: the rest of the path, slashes and all. */
			if (*n == ROUTE_MAX_PARAMS)
				break;
			params[(*n)++] = strdup(path);
			return 1;
		} else if (*pat == ':') {
			if (*n == ROUTE_MAX_PARAMS)
				break;
			params[(*n)++] = strndup(path, len);
		} else if ((size_t)(pe - pat) != len || strncmp(pat, path, len) != 0)
			break;
		else
			*rank |= 1UL << (8 * sizeof(*rank) - 2 - seg);
		seg++;
		pat = pe;
		path = se;
		if (*pat == '\0' && *path == '\0')
			return 1;
		/*
		 * A pattern ending in '/' takes the path with or without it
		 * ("/tenancy/Available/", as the reference writes it).  Only
		 * where the table says so: nginx turns ".../repo/.." into a
		 * path ending in '/', which must not reach another route.
		 */
		if (pat[0] == '/' && pat[1] == '\0' && (*path == '\0' ||
		    (path[0] == '/' && path[1] == '\0')))
			return 1;
	}
	while (*n > 0)
		free(params[--(*n)]);
	return 0;
}

/*
 * Find the route for method and path: of the patterns that match, the
 * one with a literal segment where the others capture, the earliest such
 * segment deciding (/node/putstatus before /node/:id).  *path_known says
 * whether some route had this path with another method (405 rather than
 * 404).
 */
const struct route *
route_match(enum method m, const char *path, char **params, size_t *nparams,
    int *path_known)
{
	const struct route	*best = NULL;
	char			*tmp[ROUTE_MAX_PARAMS];
	unsigned long		 rank, best_rank = 0;
	size_t			 i, n;
	int			 same;

	*path_known = 0;
	*nparams = 0;
	for (i = 0; i < nitems(routes); i++) {
		if (!pattern_match(routes[i].pattern, path, tmp, &n, &rank))
			continue;
		/* HEAD is a GET whose body nginx drops. */
		same = routes[i].method == m ||
		    (m == M_HEAD && routes[i].method == M_GET);
		if (!same || (best != NULL && rank <= best_rank)) {
			if (!same)
				*path_known = 1;
			while (n > 0)
				free(tmp[--n]);
			continue;
		}
		while (*nparams > 0)
			free(params[--(*nparams)]);
		memcpy(params, tmp, n * sizeof(tmp[0]));
		*nparams = n;
		best = &routes[i];
		best_rank = rank;
	}
	if (best != NULL)
		*path_known = 0;
	return best;
}

/*
 * Whether a caller holding roles may use a route needing need.  Every role
 * may read; role.fulladmin may do anything within its tenant.
 */
static int
role_allows(const struct ident *who, enum need need)
{
	unsigned int	 roles = who->tok.roles;

	switch (need) {
	case NEED_NONE:
	case NEED_REFRESH:
		return 1;
	case NEED_READ:
		return roles != 0;
	case NEED_OPERATOR:
		return (roles & (ROLE_OPERATOR | ROLE_FULLADMIN)) != 0;
	case NEED_CONFIG:
		return (roles & (ROLE_CONFIGADMIN | ROLE_FULLADMIN)) != 0;
	case NEED_FULL:
		return (roles & ROLE_FULLADMIN) != 0;
	case NEED_SUPER:
	case NEED_HEAD:
		return who->super;
	case NEED_TENANCY:
		return who->tenancy;
	}
	return 0;
}

/*
 * Whether the caller may do what a route needing need may do: for
 * handlers whose answer depends on what they find (a job's result is
 * exec output only some may read).
 */
int
req_allows(const struct req *r, enum need need)
{
	return role_allows(&r->who, need);
}

/*
 * Check the bearer token and set the caller's identity and scope: its
 * tenant (every tenant for the superadministrator), its name and roles.
 */
static enum apierr
route_authenticate(struct req *r, enum need need)
{
	const char	*tok;
	enum tokrc	 trc;
	enum apierr	 rc;
	long long	 mgmt;

	if (r->authorization == NULL || strncmp(r->authorization, "Bearer ", 7) != 0)
		return req_fail(r, API_UNAUTHORIZED,
		    "Missing Authorization: Bearer token");
	tok = r->authorization + 7;
	trc = token_check(r->key, tok, need == NEED_REFRESH ? TOK_REFRESH :
	    need == NEED_TENANCY ? TOK_TENANCY : TOK_ACCESS, time(NULL),
	    &r->who.tok);
	if (trc == TOKEN_WRONGTYPE && need == NEED_TENANCY)
		return req_fail(r, API_UNAUTHORIZED, "This endpoint takes a "
		    "tenancy token (POST /tenancy/<ID>/newtoken)");
	if (trc != TOKEN_OK)
		return req_fail(r, API_UNAUTHORIZED, "%s", token_strerror(trc));
	r->who.authed = 1;
	/* The admin, its roles and its tenant as they are now, not at issue. */
	if (need != NEED_TENANCY &&
	    (rc = admin_token_current(&r->ctx, &r->who.tok)) != API_OK)
		return rc;
	if (need == NEED_TENANCY) {
		/*
		 * A tenancy token acts as an operator of its tenant, confined
		 * to its tenancy's nodes by the handlers; it is listed and
		 * revocable, so its row is checked on every use.
		 */
		if ((rc = tenancy_token_live(&r->ctx, &r->who.tok)) != API_OK)
			return rc;
		r->who.tenancy = 1;
		r->who.tok.roles = ROLE_OPERATOR;
		r->ctx.scope = scope_of_tenant(r->who.tok.tid, ROLE_OPERATOR,
		    NULL);
		snprintf(r->ctx.scope.actor, sizeof(r->ctx.scope.actor),
		    "tenancy:%s", r->who.tok.name);
		return API_OK;
	}
	if ((r->who.tok.roles & ROLE_FULLADMIN) != 0) {
		if ((mgmt = tenant_mgmt_id(&r->ctx)) == 0)
			return ctx_internal(&r->ctx, "no management tenant");
		r->who.super = r->who.tok.tid == mgmt;
	}
	r->ctx.scope = scope_of_tenant(r->who.super ? SCOPE_ALL : r->who.tok.tid,
	    r->who.tok.roles, r->who.tok.name);
	snprintf(r->ctx.scope.actor_uid, sizeof(r->ctx.scope.actor_uid), "%s",
	    r->who.tok.sub);
	return API_OK;
}

/*
 * ClusterWare scripts send JSON with curl --data, which labels it
 * application/x-www-form-urlencoded; so do not insist on application/json,
 * but refuse media that cannot be a JSON body.
 */
static int
content_type_ok(const char *ct)
{
	static const char *const ok[] = {
		"application/json", "application/x-www-form-urlencoded",
		"text/plain",
	};
	size_t	 i, len;

	if (ct == NULL || *ct == '\0')
		return 1;
	for (i = 0; i < nitems(ok); i++) {
		len = strlen(ok[i]);
		if (strncasecmp(ct, ok[i], len) == 0 &&
		    (ct[len] == '\0' || ct[len] == ';' || ct[len] == ' '))
			return 1;
	}
	return 0;
}

/*
 * Check the decoded body against the route's spec.  A class that takes
 * lists on create (POST /nodes) leaves a list to the engine, which checks
 * every entry and names the one that fails.
 */
static enum apierr
route_check_body(struct req *r, const struct route *rt)
{
	if (rt->body->any)
		return API_OK;
	if (rt->method == M_POST && rt->cls != NULL && rt->cls->bulk_max > 0 &&
	    json_is_array(r->json))
		return API_OK;
	return json_check_object(rt->body, r->json, r->method == M_PATCH ||
	    r->method == M_DELETE, r->ctx.reason, sizeof(r->ctx.reason));
}

/* Route r and run its handler behind the front-line checks. */
static enum apierr
route_run(struct req *r)
{
	const struct route	*rt;
	char			 err[256];
	int			 known;
	enum apierr		 rc;

	if (r->method == M__MAX)
		return req_fail(r, API_BAD_METHOD, "Method not allowed");
	rt = route_match(r->method, r->path, r->params, &r->nparams, &known);
	if (rt == NULL) {
		if (known)
			return req_fail(r, API_BAD_METHOD,
			    "Method not allowed for this endpoint");
		return req_fail(r, API_NOT_FOUND, "No such endpoint");
	}
	r->route = rt;

	if ((rc = req_read_body(r, r->conf->api_max_body)) != API_OK)
		return rc;
	if (r->bodylen > 0 && !content_type_ok(r->content_type))
		return req_fail(r, API_BAD_MEDIA, "Content-Type must be "
		    "application/json");

	/* Another head calls without a token (the reference), from its address. */
	if (rt->need == NEED_HEAD && r->authorization == NULL) {
		if (!head_at_addr(&r->ctx, r->remote_addr))
			return req_fail(r, API_UNAUTHORIZED, "This endpoint needs "
			    "a known head's address or a superadministrator's "
			    "token");
	} else if (rt->need != NEED_NONE) {
		if ((rc = route_authenticate(r, rt->need)) != API_OK)
			return rc;
		if (!role_allows(&r->who, rt->need))
			return req_fail(r, API_FORBIDDEN, "Admin %s does not "
			    "have a role that allows this", r->who.tok.name);
	}

	if (rt->body != NULL && rt->body->raw)
		;	/* the handler decodes it (a repeated key) */
	else if (rt->body != NULL && r->bodylen > 0) {
		r->json = json_decode_strict(r->body, r->bodylen, err, sizeof(err));
		if (r->json == NULL)
			return req_fail(r, API_BAD_REQUEST, "%s", err);
		if ((rc = route_check_body(r, rt)) != API_OK)
			return rc;
	} else if (rt->body == NULL && r->bodylen > 0 && !r->redirected)
		return req_fail(r, API_BAD_REQUEST,
		    "This endpoint takes no request body");
	return rt->handler(r);
}

/*
 * Route and run request r, then record it in the audit log if it is one
 * the log keeps, failed or not (audit.c).  Returns the outcome for
 * resp_send().
 */
enum apierr
route_dispatch(struct req *r)
{
	enum apierr	 rc;

	rc = route_run(r);
	audit_request(r, rc);
	return rc;
}

/*
 * For public routes whose answer a token widens (a private gitrepo):
 * API_OK with the caller's identity and scope set when a token came and
 * holds, API_OK with nothing set when none came, else the 401.
 */
enum apierr
req_auth_optional(struct req *r)
{
	if (r->authorization == NULL || *r->authorization == '\0')
		return API_OK;
	return route_authenticate(r, NEED_READ);
}
