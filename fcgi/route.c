/*
 * THE route table, and the front line every request crosses before a
 * handler runs: method and path (404/405), content type (415), token
 * (401), role (403), body shape (400).  A handler sees only validated
 * input and its caller's identity and tenant scope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "extern.h"

static const struct route routes[] = {
	/* method   pattern                      handler                 needs          body            class */
	{ M_POST,   "/login",                    api_login,              NEED_NONE,     &b_login },
	{ M_GET,    "/newtoken",                 api_newtoken,           NEED_REFRESH,  NULL },
	{ M_GET,    "/whoami",                   api_whoami,             NEED_READ,     NULL },

	{ M_GET,    "/admins",                   api_admin_list,         NEED_READ,     NULL },
	{ M_POST,   "/admins",                   api_admin_post,         NEED_FULL,     &b_admin },
	{ M_GET,    "/admins/meta",              api_admin_meta,         NEED_NONE,     NULL },
	{ M_GET,    "/admin/:id",                api_admin_get,          NEED_READ,     NULL },
	{ M_PATCH,  "/admin/:id",                api_admin_patch,        NEED_READ,     &b_admin },
	{ M_PUT,    "/admin/:id",                api_admin_put,          NEED_FULL,     &b_admin },
	{ M_DELETE, "/admin/:id",                api_admin_delete,       NEED_FULL,     NULL },
	{ M_POST,   "/admin/:id/keys",           api_admin_keys_post,    NEED_READ,     &b_keys },
	{ M_PUT,    "/admin/:id/keys",           api_admin_keys_put,     NEED_READ,     &b_keys },
	{ M_DELETE, "/admin/:id/keys",           api_admin_keys_delete,  NEED_READ,     &b_keys },
	{ M_GET,    "/admin/:id/gui_settings",   api_admin_gui_get,      NEED_READ,     NULL },
	{ M_PATCH,  "/admin/:id/gui_settings",   api_admin_gui_patch,    NEED_READ,     &b_gui },
	{ M_DELETE, "/admin/:id/gui_settings",   api_admin_gui_delete,   NEED_READ,     &b_gui },
	{ M_POST,   "/admin/:id/newtoken",       api_admin_newtoken,     NEED_READ,     &b_admin_newtoken },

	{ M_GET,    "/cluster",                  api_cluster_get,        NEED_READ,     NULL },
	{ M_PATCH,  "/cluster",                  api_cluster_patch,      NEED_SUPER,    &b_cluster },
	{ M_GET,    "/cluster/time",             api_cluster_time,       NEED_NONE,     NULL },
	{ M_GET,    "/cluster/database",         api_cluster_database,   NEED_NONE,     NULL },
	{ M_GET,    "/cluster/summary",          api_cluster_summary,    NEED_READ,     NULL },
	{ M_GET,    "/cluster/hosts",            api_cluster_hosts,      NEED_NONE,     NULL },
	{ M_GET,    "/cluster/sshkeys",          api_cluster_sshkeys,    NEED_NONE,     NULL },
	{ M_GET,    "/cluster/cabundle",         api_cluster_cabundle,   NEED_NONE,     NULL },
	{ M_GET,    "/cluster/license",          api_cluster_license,    NEED_READ,     NULL },
	{ M_GET,    "/cluster/head/:id",         api_cluster_head,       NEED_READ,     NULL },
	{ M_GET,    "/whereami",                 api_whereami,           NEED_READ,     NULL },

	{ M_POST,   "/jobs",                     api_job_post,           NEED_OPERATOR, &b_job },
	{ M_GET,    "/job/:id",                  api_job_get,            NEED_READ,     NULL },

	/* Classes with nothing special to their basic operations. */
	{ M_GET,    "/attribs",                  api_obj_list,           NEED_READ,     NULL,           &attrib_class },
	{ M_POST,   "/attribs",                  api_obj_post,           NEED_CONFIG,   &b_attrib,      &attrib_class },
	{ M_GET,    "/attribs/meta",             api_obj_meta,           NEED_NONE,     NULL,           &attrib_class },
	{ M_GET,    "/attrib/:id",               api_obj_get,            NEED_READ,     NULL,           &attrib_class },
	{ M_PATCH,  "/attrib/:id",               api_obj_patch,          NEED_CONFIG,   &b_attrib,      &attrib_class },
	{ M_PUT,    "/attrib/:id",               api_obj_put,            NEED_CONFIG,   &b_attrib,      &attrib_class },
	{ M_DELETE, "/attrib/:id",               api_obj_delete,         NEED_CONFIG,   NULL,           &attrib_class },
	{ M_GET,    "/attrib/:id/attributes",    api_attrs_get,          NEED_READ,     NULL,           &attrib_class },
	{ M_PUT,    "/attrib/:id/attributes",    api_attrs_put,          NEED_CONFIG,   &b_any,         &attrib_class },
	{ M_PATCH,  "/attrib/:id/attributes",    api_attrs_patch,        NEED_CONFIG,   &b_any,         &attrib_class },
	{ M_DELETE, "/attrib/:id/attributes",    api_attrs_delete,       NEED_CONFIG,   &b_any,         &attrib_class },

	{ M_GET,    "/images",                   api_obj_list,           NEED_READ,     NULL,           &image_class },
	{ M_POST,   "/images",                   api_obj_post,           NEED_CONFIG,   &b_image,       &image_class },
	{ M_GET,    "/images/meta",              api_obj_meta,           NEED_NONE,     NULL,           &image_class },
	{ M_GET,    "/image/:id",                api_obj_get,            NEED_READ,     NULL,           &image_class },
	{ M_PATCH,  "/image/:id",                api_obj_patch,          NEED_CONFIG,   &b_image,       &image_class },
	{ M_PUT,    "/image/:id",                api_obj_put,            NEED_CONFIG,   &b_image,       &image_class },
	{ M_DELETE, "/image/:id",                api_obj_delete,         NEED_CONFIG,   NULL,           &image_class },

	{ M_GET,    "/bootconfigs",              api_obj_list,           NEED_READ,     NULL,           &bootconfig_class },
	{ M_POST,   "/bootconfigs",              api_obj_post,           NEED_CONFIG,   &b_bootconfig,  &bootconfig_class },
	{ M_GET,    "/bootconfigs/meta",         api_obj_meta,           NEED_NONE,     NULL,           &bootconfig_class },
	{ M_GET,    "/bootconfig/:id",           api_obj_get,            NEED_READ,     NULL,           &bootconfig_class },
	{ M_PATCH,  "/bootconfig/:id",           api_obj_patch,          NEED_CONFIG,   &b_bootconfig,  &bootconfig_class },
	{ M_PUT,    "/bootconfig/:id",           api_obj_put,            NEED_CONFIG,   &b_bootconfig,  &bootconfig_class },
	{ M_DELETE, "/bootconfig/:id",           api_obj_delete,         NEED_CONFIG,   NULL,           &bootconfig_class },
	{ M_GET,    "/bootconfigs/errors",       api_bootconfigs_errors, NEED_READ,     NULL },
	{ M_GET,    "/bootconfig/:id/errors",    api_bootconfig_errors,  NEED_READ,     NULL },

	{ M_GET,    "/distros",                  api_obj_list,           NEED_READ,     NULL,           &distro_class },
	{ M_POST,   "/distros",                  api_obj_post,           NEED_CONFIG,   &b_distro,      &distro_class },
	{ M_GET,    "/distros/meta",             api_obj_meta,           NEED_NONE,     NULL,           &distro_class },
	{ M_GET,    "/distro/:id",               api_obj_get,            NEED_READ,     NULL,           &distro_class },
	{ M_PATCH,  "/distro/:id",               api_obj_patch,          NEED_CONFIG,   &b_distro,      &distro_class },
	{ M_PUT,    "/distro/:id",               api_obj_put,            NEED_CONFIG,   &b_distro,      &distro_class },
	{ M_DELETE, "/distro/:id",               api_obj_delete,         NEED_CONFIG,   NULL,           &distro_class },

	{ M_GET,    "/repos",                    api_obj_list,           NEED_READ,     NULL,           &repo_class },
	{ M_POST,   "/repos",                    api_obj_post,           NEED_CONFIG,   &b_repo,        &repo_class },
	{ M_GET,    "/repos/meta",               api_obj_meta,           NEED_NONE,     NULL,           &repo_class },
	{ M_GET,    "/repo/:id",                 api_obj_get,            NEED_READ,     NULL,           &repo_class },
	{ M_PATCH,  "/repo/:id",                 api_obj_patch,          NEED_CONFIG,   &b_repo,        &repo_class },
	{ M_PUT,    "/repo/:id",                 api_obj_put,            NEED_CONFIG,   &b_repo,        &repo_class },
	{ M_DELETE, "/repo/:id",                 api_obj_delete,         NEED_CONFIG,   NULL,           &repo_class },

	{ M_GET,    "/gitrepos",                 api_obj_list,           NEED_READ,     NULL,           &gitrepo_class },
	{ M_POST,   "/gitrepos",                 api_obj_post,           NEED_CONFIG,   &b_gitrepo,     &gitrepo_class },
	{ M_GET,    "/gitrepos/meta",            api_obj_meta,           NEED_NONE,     NULL,           &gitrepo_class },
	{ M_GET,    "/gitrepo/:id",              api_obj_get,            NEED_READ,     NULL,           &gitrepo_class },
	{ M_PATCH,  "/gitrepo/:id",              api_obj_patch,          NEED_CONFIG,   &b_gitrepo,     &gitrepo_class },
	{ M_PUT,    "/gitrepo/:id",              api_obj_put,            NEED_CONFIG,   &b_gitrepo,     &gitrepo_class },
	{ M_DELETE, "/gitrepo/:id",              api_obj_delete,         NEED_CONFIG,   NULL,           &gitrepo_class },
	{ M_GET,    "/gitrepo/:id/url",          api_gitrepo_url,        NEED_NONE,     NULL },

	{ M_GET,    "/nets",                     api_obj_list,           NEED_READ,     NULL,           &net_class },
	{ M_POST,   "/nets",                     api_obj_post,           NEED_CONFIG,   &b_net,         &net_class },
	{ M_GET,    "/nets/meta",                api_obj_meta,           NEED_NONE,     NULL,           &net_class },
	{ M_GET,    "/net/:id",                  api_obj_get,            NEED_READ,     NULL,           &net_class },
	{ M_PATCH,  "/net/:id",                  api_obj_patch,          NEED_CONFIG,   &b_net,         &net_class },
	{ M_PUT,    "/net/:id",                  api_obj_put,            NEED_CONFIG,   &b_net,         &net_class },
	{ M_DELETE, "/net/:id",                  api_obj_delete,         NEED_CONFIG,   NULL,           &net_class },
	{ M_GET,    "/nets/byname/:part",        api_nets_byname,        NEED_READ,     NULL },
	{ M_GET,    "/nets/byip/:part",          api_nets_byip,          NEED_READ,     NULL },
	{ M_GET,    "/nets/bykey/:part",         api_nets_bykey,         NEED_READ,     NULL },
	{ M_GET,    "/nets/byiface/:part",       api_nets_byiface,       NEED_READ,     NULL },

	{ M_GET,    "/hostnames",                api_obj_list,           NEED_READ,     NULL,           &hostname_class },
	{ M_POST,   "/hostnames",                api_obj_post,           NEED_CONFIG,   &b_hostname,    &hostname_class },
	{ M_GET,    "/hostnames/meta",           api_obj_meta,           NEED_NONE,     NULL,           &hostname_class },
	{ M_GET,    "/hostname/:id",             api_obj_get,            NEED_READ,     NULL,           &hostname_class },
	{ M_PATCH,  "/hostname/:id",             api_obj_patch,          NEED_CONFIG,   &b_hostname,    &hostname_class },
	{ M_PUT,    "/hostname/:id",             api_obj_put,            NEED_CONFIG,   &b_hostname,    &hostname_class },
	{ M_DELETE, "/hostname/:id",             api_obj_delete,         NEED_CONFIG,   NULL,           &hostname_class },
	{ M_GET,    "/hostnames/bypart/:part",   api_hostnames_bypart,   NEED_READ,     NULL },

	{ M_GET,    "/dyngroups",                api_obj_list,           NEED_READ,     NULL,           &dyngroup_class },
	{ M_POST,   "/dyngroups",                api_obj_post,           NEED_CONFIG,   &b_dyngroup,    &dyngroup_class },
	{ M_GET,    "/dyngroups/meta",           api_obj_meta,           NEED_NONE,     NULL,           &dyngroup_class },
	{ M_GET,    "/dyngroup/:id",             api_obj_get,            NEED_READ,     NULL,           &dyngroup_class },
	{ M_PATCH,  "/dyngroup/:id",             api_obj_patch,          NEED_CONFIG,   &b_dyngroup,    &dyngroup_class },
	{ M_PUT,    "/dyngroup/:id",             api_obj_put,            NEED_CONFIG,   &b_dyngroup,    &dyngroup_class },
	{ M_DELETE, "/dyngroup/:id",             api_obj_delete,         NEED_CONFIG,   NULL,           &dyngroup_class },

	{ M_GET,    "/namingpools",              api_obj_list,           NEED_READ,     NULL,           &namingpool_class },
	{ M_POST,   "/namingpools",              api_obj_post,           NEED_CONFIG,   &b_namingpool,  &namingpool_class },
	{ M_GET,    "/namingpools/meta",         api_obj_meta,           NEED_NONE,     NULL,           &namingpool_class },
	{ M_GET,    "/namingpool/:id",           api_obj_get,            NEED_READ,     NULL,           &namingpool_class },
	{ M_PATCH,  "/namingpool/:id",           api_obj_patch,          NEED_CONFIG,   &b_namingpool,  &namingpool_class },
	{ M_PUT,    "/namingpool/:id",           api_obj_put,            NEED_CONFIG,   &b_namingpool,  &namingpool_class },
	{ M_DELETE, "/namingpool/:id",           api_obj_delete,         NEED_CONFIG,   NULL,           &namingpool_class },
	{ M_GET,    "/namingpools/info/:node",   api_namingpools_info,   NEED_READ,     NULL },
	{ M_PUT,    "/namingpool/:id/push",      api_namingpool_push,    NEED_CONFIG,   NULL },
	{ M_GET,    "/dyngroup/:id/nodes",       api_dyngroup_nodes,     NEED_READ,     NULL },
	{ M_GET,    "/heads",                    api_obj_list,           NEED_READ,     NULL,           &head_class },
	{ M_POST,   "/heads",                    api_obj_post,           NEED_SUPER,    &b_head,        &head_class },
	{ M_GET,    "/heads/meta",               api_obj_meta,           NEED_NONE,     NULL,           &head_class },
	{ M_GET,    "/head/:id",                 api_obj_get,            NEED_READ,     NULL,           &head_class },
	{ M_PATCH,  "/head/:id",                 api_obj_patch,          NEED_SUPER,    &b_head,        &head_class },
	{ M_PUT,    "/head/:id",                 api_obj_put,            NEED_SUPER,    &b_head,        &head_class },
	{ M_DELETE, "/head/:id",                 api_obj_delete,         NEED_SUPER,    NULL,           &head_class },
	/*
	 * Nodes.  The fixed paths come before /node/:id; the PUT report
	 * routes are public because the node is known by its address.
	 */
	{ M_POST,   "/node/putstatus",           api_node_putstatus_post, NEED_OPERATOR, &b_putstatus_uid },
	{ M_PUT,    "/node/putstatus",           api_node_putstatus_put, NEED_NONE,     &b_putstatus },
	{ M_POST,   "/node/putattribs",          api_node_putattribs_post, NEED_OPERATOR, &b_any },
	{ M_PUT,    "/node/putattribs",          api_node_putattribs_put, NEED_NONE,    &b_any },
	{ M_GET,    "/nodes",                    api_obj_list,           NEED_READ,     NULL,           &node_class },
	{ M_POST,   "/nodes",                    api_obj_post,           NEED_CONFIG,   &b_node_or_list, &node_class },
	{ M_GET,    "/nodes/meta",               api_obj_meta,           NEED_NONE,     NULL,           &node_class },
	{ M_GET,    "/node/:id",                 api_obj_get,            NEED_READ,     NULL,           &node_class },
	{ M_PATCH,  "/node/:id",                 api_obj_patch,          NEED_CONFIG,   &b_node,        &node_class },
	{ M_PUT,    "/node/:id",                 api_obj_put,            NEED_CONFIG,   &b_node,        &node_class },
	{ M_DELETE, "/node/:id",                 api_obj_delete,         NEED_CONFIG,   NULL,           &node_class },
	{ M_GET,    "/node/:id/attributes",      api_node_attrs_get,     NEED_READ,     NULL },
	{ M_PUT,    "/node/:id/attributes",      api_attrs_put,          NEED_CONFIG,   &b_any,         &node_class },
	{ M_PATCH,  "/node/:id/attributes",      api_attrs_patch,        NEED_CONFIG,   &b_any,         &node_class },
	{ M_DELETE, "/node/:id/attributes",      api_attrs_delete,       NEED_CONFIG,   &b_any,         &node_class },
	{ M_GET,    "/node/:id/groups",          api_node_groups_get,    NEED_READ,     NULL },
	{ M_POST,   "/node/:id/groups",          api_node_groups_post,   NEED_CONFIG,   &b_any },
	{ M_DELETE, "/node/:id/groups",          api_node_groups_delete, NEED_CONFIG,   &b_any },
	{ M_GET,    "/node/:id/status",          api_node_status_get,    NEED_READ,     NULL },
	{ M_GET,    "/node/:id/power_uri",       api_node_power_uri,     NEED_READ,     NULL },
};

#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

/* How many routes the table holds (for tests). */
int
route_count(void)
{
	return (int)NROUTES;
}

/*
 * Match path against pattern; on success the :captures are copied into
 * params (new allocations).  Segments never match empty.
 */
static int
pattern_match(const char *pat, const char *path, char **params, size_t *n)
{
	const char	*pe, *se;
	size_t		 len;

	*n = 0;
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
		if (len == 0)
			break;
		if (*pat == ':') {
			if (*n == ROUTE_MAX_PARAMS)
				break;
			params[(*n)++] = strndup(path, len);
		} else if ((size_t)(pe - pat) != len || strncmp(pat, path, len) != 0)
			break;
		pat = pe;
		path = se;
		if (*pat == '\0' && *path == '\0')
			return 1;
	}
	while (*n > 0)
		free(params[--(*n)]);
	return 0;
}

/*
 * Find the route for method and path.  *path_known says whether some
 * route had this path with another method (405 rather than 404).
 */
const struct route *
route_match(enum method m, const char *path, char **params, size_t *nparams,
    int *path_known)
{
	char	*tmp[ROUTE_MAX_PARAMS];
	size_t	 i, n;

	*path_known = 0;
	*nparams = 0;
	for (i = 0; i < NROUTES; i++) {
		if (!pattern_match(routes[i].pattern, path, tmp, &n))
			continue;
		if (routes[i].method == m) {
			memcpy(params, tmp, n * sizeof(tmp[0]));
			*nparams = n;
			return &routes[i];
		}
		*path_known = 1;
		while (n > 0)
			free(tmp[--n]);
	}
	return NULL;
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
		return who->super;
	}
	return 0;
}

/* The management tenant's id, looked up once per worker. */
static long long
mgmt_tenant_id(struct db *db)
{
	static long long	 id;
	char			*uid = NULL, *name = NULL;

	if (id != 0)
		return id;
	if (db_run(db, SQL_TENANT_BY_NAME, "s", MGMT_TENANT) == DB_OK &&
	    db_next(db, SQL_TENANT_BY_NAME, "iss", &id, &uid, &name) != DB_OK)
		id = 0;
	db_done(db, SQL_TENANT_BY_NAME);
	free(uid);
	free(name);
	return id;
}

static enum apierr
route_authenticate(struct req *r, enum need need)
{
	const char	*tok;
	enum tokrc	 trc;
	long long	 mgmt;

	if (r->authorization == NULL || strncmp(r->authorization, "Bearer ", 7) != 0)
		return req_fail(r, API_UNAUTHORIZED,
		    "Missing Authorization: Bearer token");
	tok = r->authorization + 7;
	trc = token_check(r->key, tok, need == NEED_REFRESH ? TOK_REFRESH :
	    TOK_ACCESS, time(NULL), &r->who.tok);
	if (trc != TOKEN_OK)
		return req_fail(r, API_UNAUTHORIZED, "%s", token_strerror(trc));
	r->who.authed = 1;
	if ((r->who.tok.roles & ROLE_FULLADMIN) != 0) {
		if ((mgmt = mgmt_tenant_id(r->db)) == 0)
			return API_UNAVAILABLE;
		r->who.super = r->who.tok.tid == mgmt;
	}
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
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		len = strlen(ok[i]);
		if (strncasecmp(ct, ok[i], len) == 0 &&
		    (ct[len] == '\0' || ct[len] == ';' || ct[len] == ' '))
			return 1;
	}
	return 0;
}

/*
 * Route r and run its handler behind the front-line checks.  Returns the
 * outcome for resp_send().
 */
enum apierr
route_dispatch(struct req *r)
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

	rc = (enum apierr)req_read_body(r, r->conf->api_max_body);
	if (rc != API_OK)
		return rc;
	if (r->bodylen > 0 && !content_type_ok(r->content_type))
		return req_fail(r, API_BAD_MEDIA, "Content-Type must be "
		    "application/json");

	if (rt->need != NEED_NONE) {
		if ((rc = route_authenticate(r, rt->need)) != API_OK)
			return rc;
		if (!role_allows(&r->who, rt->need))
			return req_fail(r, API_FORBIDDEN, "Admin %s does not "
			    "have a role that allows this", r->who.tok.name);
	}

	if (rt->body != NULL && r->bodylen > 0) {
		r->json = json_decode_strict(r->body, r->bodylen, err, sizeof(err));
		if (r->json == NULL)
			return req_fail(r, API_BAD_REQUEST, "%s", err);
		rc = json_check_body(r, rt->body, r->method == M_PATCH ||
		    r->method == M_DELETE);
		if (rc != API_OK)
			return rc;
	} else if (rt->body == NULL && r->bodylen > 0)
		return req_fail(r, API_BAD_REQUEST,
		    "This endpoint takes no request body");
	return rt->handler(r);
}
