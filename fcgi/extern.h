/*
 * corral: shared types and prototypes.
 *
 * Every module's public surface is declared here, grouped by the file that
 * implements it.  A module's file prefix is its name (db_ lives in db.c).
 * Libraries are confined: libfcgi to req.c/resp.c, MariaDB to db.c, libjwt
 * and PAM to auth.c, freeipmi to ipmi.c.
 */
#ifndef CORRAL_EXTERN_H
#define CORRAL_EXTERN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

/* The newest migration in sql/; a database at another version refuses to serve. */
#define SCHEMA_VERSION		3

#define UID_LEN			32	/* 32 lowercase hex from getrandom(2) */
#define NAME_MAX_LEN		253	/* names reach DNS, so a DNS name's bound */
#define MGMT_TENANT		"cw-management"

/* ------------------------------------------------------------------ conf.c */

/*
 * The whole configuration, read once from an ini file.  Every key has a
 * default so an empty file is a valid (if useless) configuration.
 */
struct conf {
	/* [head] */
	char		*head_name;	/* last_modified_on; default: hostname */
	/* [api] */
	char		*api_socket;	/* FastCGI unix socket nginx connects to */
	int		 api_workers;
	int		 api_max_requests;	/* recycle a worker after this many */
	size_t		 api_max_body;	/* bytes; larger bodies get 413 */
	char		*api_log;	/* file, or NULL for stderr */
	/* [db] */
	char		*db_socket;	/* unix socket of MariaDB, or NULL */
	char		*db_host;
	int		 db_port;
	char		*db_name;
	char		*db_user;
	char		*db_password;
	/* [auth] */
	char		*auth_secret_file;	/* >= 32 bytes, random, per head */
	char		*auth_passwd_file;	/* "user:crypt-hash" lines, or NULL */
	char		*auth_pam_service;	/* NULL or "" disables PAM */
	char		*auth_issuer;
	int		 auth_access_ttl;	/* seconds */
	int		 auth_refresh_ttl;	/* seconds */
	int		 auth_leeway;		/* clock skew allowed, seconds */
	/* [jobd] */
	char		*jobd_socket;	/* datagram socket jobd wakes on */
	int		 jobd_workers;	/* jobs run at once */
	int		 jobd_poll_ms;	/* fallback poll when no wake-up came */
	char		*jobd_log;
};

int		 conf_load(struct conf *, const char *path);
void		 conf_free(struct conf *);

/* ------------------------------------------------------------------ util.c */

void		*xmalloc(size_t);
void		*xcalloc(size_t, size_t);
char		*xstrdup(const char *);
int		 xasprintf(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
int		 uid_new(char out[UID_LEN + 1]);
int		 uid_valid(const char *);
long long	 num_parse(const char *, long long min, long long max,
		    const char **errstr);
double		 time_now(void);	/* epoch seconds, microsecond precision */
int		 random_bytes(void *, size_t);
int		 unix_bind(const char *path, int type);
int		 valid_name(const char *);
int		 valid_text(const char *, size_t max);
int		 valid_dnsname(const char *);
int		 hex_digit(char);

#define IP_STR_MAX		46	/* INET6_ADDRSTRLEN */
int		 ip_parse(const char *, unsigned char out[16]);
const char	*ip_format(const unsigned char[16], int fam, char *buf);
int		 ip_same_prefix(const unsigned char *, const unsigned char *, int bits);
int		 ip_add(unsigned char[16], unsigned long long);
long long	 ip_diff(const unsigned char[16], const unsigned char[16]);

/* ------------------------------------------------------------------ log.c */

enum loglvl { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void		 log_open(const char *prog, const char *path);
void		 log_set_request(const char *request_id);
void		 log_msg(enum loglvl, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)

/* ------------------------------------------------------------------ db.c */

/*
 * Every SQL statement corral runs.  The text lives in one table in db.c;
 * callers name a statement and bind arguments with a format string:
 *   's' const char * (NULL binds NULL), 'i' long long, 'd' double.
 * Results are fetched with the same letters into char ** (new allocation,
 * NULL for SQL NULL), long long * and double *.
 */
enum sql {
	SQL_SCHEMA_VERSION,
	SQL_DB_INFO,
	SQL_TENANT_BY_NAME,
	SQL_TENANT_BY_ID,
	SQL_OBJ_LIST,
	SQL_OBJ_LIST_ALL,
	SQL_OBJ_BY_UID,
	SQL_OBJ_BY_NAME,
	SQL_OBJ_BY_NAME_ANY,
	SQL_OBJ_BY_KEY,
	SQL_OBJ_LOCK,
	SQL_OBJ_INSERT,
	SQL_OBJ_UPDATE,
	SQL_OBJ_DELETE,
	SQL_KEY_INSERT,
	SQL_KEY_DELETE_ALL,
	SQL_REF_INSERT,
	SQL_REF_DELETE_ALL,
	SQL_REF_WHO,
	SQL_REFRESH_INSERT,
	SQL_REFRESH_GET,
	SQL_REFRESH_USE,
	SQL_REFRESH_REVOKE_FAMILY,
	SQL_CLUSTER_LIST,
	SQL_CLUSTER_SET,
	SQL_JOB_INSERT,
	SQL_JOB_GET,
	SQL_JOB_CLAIMABLE,
	SQL_JOB_CLAIM,
	SQL_JOB_LOAD,
	SQL_JOB_LOCK,
	SQL_JOB_START,
	SQL_JOB_FINISH,
	SQL_JOB_UNFINISHED,
	SQL_JOB_LOCK_FREE,
	SQL_JOB_FAIL_ORPHAN,
	SQL_JOB_REQUEUE_ORPHAN,
	SQL_TENANT_LOCK,
	SQL_KEY_VALUES,
	SQL_CLUSTER_GET,
	SQL_STATUS_GET,
	SQL_STATUS_PUT,
	SQL_NODE_SCAN,
	SQL_OBJ_UIDS,
	SQL_REF_FROM,
	SQL__MAX
};

enum dbrc {
	DB_OK,		/* done; for db_next: a row was fetched */
	DB_DONE,	/* db_next: no more rows */
	DB_DUP,		/* unique key violated */
	DB_REF,		/* foreign key violated */
	DB_GONE,	/* connection lost; reconnect was scheduled */
	DB_ERROR	/* anything else; logged */
};

struct db;

struct db	*db_open(const struct conf *);	/* connects and prepares */
void		 db_close(struct db *);
int		 db_ready(struct db *);	/* reconnect if needed; 0 = usable */
enum dbrc	 db_run(struct db *, enum sql, const char *fmt, ...);
enum dbrc	 db_next(struct db *, enum sql, const char *fmt, ...);
void		 db_done(struct db *, enum sql);
long long	 db_affected(struct db *, enum sql);
long long	 db_insert_id(struct db *, enum sql);
enum dbrc	 db_begin(struct db *);
enum dbrc	 db_commit(struct db *);
void		 db_rollback(struct db *);
const char	*db_server_info(struct db *);

/* ------------------------------------------------------------------ auth.c */

/* Roles, as bits.  role.fulladmin implies every other role. */
#define ROLE_AUTHUSER		0x01u	/* read */
#define ROLE_OPERATOR		0x02u	/* power, exec, status */
#define ROLE_CONFIGADMIN	0x04u	/* create and change objects */
#define ROLE_FULLADMIN		0x08u	/* everything in its tenant */

enum toktype { TOK_ACCESS, TOK_REFRESH };

/* What a verified token says.  Strings are NUL-terminated and bounded. */
struct claims {
	enum toktype	 typ;
	char		 sub[UID_LEN + 1];	/* admin uid */
	char		 name[NAME_MAX_LEN + 1];/* admin name */
	long long	 tid;			/* tenant id */
	unsigned int	 roles;			/* ROLE_* bits */
	char		 jti[UID_LEN + 1];	/* token id */
	char		 fam[UID_LEN + 1];	/* refresh family, "" on access */
	long long	 iat, nbf, exp;
};

/* The head's signing key and token policy. */
struct authkey {
	unsigned char	 secret[256];
	size_t		 secretlen;	/* >= 32 or auth_key_load fails */
	char		 issuer[64];
	int		 leeway;
};

enum tokrc {
	TOKEN_OK,
	TOKEN_MALFORMED,	/* shape, size, encoding, header */
	TOKEN_BADSIG,
	TOKEN_EXPIRED,
	TOKEN_NOTYET,		/* nbf or iat in the future */
	TOKEN_WRONGTYPE,	/* refresh used as access or the reverse */
	TOKEN_BADCLAIMS		/* missing, mistyped or foreign claims */
};

int		 auth_key_load(struct authkey *, const char *path,
		    const char *issuer, int leeway);
int		 token_shape_ok(const char *tok, size_t len);
char		*token_make(const struct authkey *, const struct claims *);
enum tokrc	 token_check(const struct authkey *, const char *tok,
		    enum toktype want, time_t now, struct claims *out);
const char	*token_strerror(enum tokrc);
int		 passwd_check(const char *file, const char *user, const char *pass);
int		 pam_check(const char *service, const char *user, const char *pass);
int		 role_parse(const char *name, unsigned int *bit);
const char	*role_name(unsigned int bit);
json_t		*roles_json(unsigned int roles);	/* new reference */

/* ------------------------------------------------------------------ req.c, resp.c */

enum method { M_GET, M_POST, M_PUT, M_PATCH, M_DELETE, M_HEAD, M__MAX };

/*
 * Outcomes a handler returns.  resp.c maps each to an HTTP status and
 * renders {"success": false, "reason": ...} from req.reason.
 */
enum apierr {
	API_OK,			/* 200 */
	API_BAD_REQUEST,	/* 400 */
	API_UNAUTHORIZED,	/* 401 */
	API_FORBIDDEN,		/* 403 */
	API_NOT_FOUND,		/* 404 */
	API_BAD_METHOD,		/* 405 */
	API_CONFLICT,		/* 409 */
	API_TOO_LARGE,		/* 413 */
	API_BAD_MEDIA,		/* 415 */
	API_INTERNAL,		/* 500 */
	API_UNAVAILABLE,	/* 503 */
	API__MAX
};

/* Who is asking, from a verified token; zeroed for public routes. */
struct ident {
	int		 authed;
	struct claims	 tok;
	int		 super;		/* fulladmin of the management tenant */
};

#define ROUTE_MAX_PARAMS	4

struct route;

/*
 * Everything of one request.  Freed by req_free() when the response is
 * out, so handlers allocate onto it and never clean up by hand.
 */
struct req {
	void			*fcgx;		/* FCGX_Request *, opaque here */
	struct db		*db;
	const struct conf	*conf;
	const struct authkey	*key;
	enum method		 method;
	const char		*path;		/* below /api/v1, no query */
	const char		*query;
	const char		*remote_addr;
	const char		*request_id;
	const char		*content_type;
	const char		*authorization;
	const char		*host;		/* the Host the client asked for */
	char			*body;		/* raw, NUL-terminated, or NULL */
	size_t			 bodylen;
	json_t			*json;		/* decoded body, or NULL */
	const struct route	*route;
	char			*params[ROUTE_MAX_PARAMS];	/* :captures */
	size_t			 nparams;
	struct ident		 who;
	char			 reason[512];
	json_t			*data;		/* "data" of a success */
	int			 raw;		/* handler wrote its own output */
	/*
	 * What a class keeps across the objects of one request (node
	 * assignment caches the indexes and addresses in use); freed with
	 * scratch_free when the request ends.
	 */
	void			*scratch;
	void			 (*scratch_free)(void *);
};

struct fcgx_listener;

int		 req_listen(const char *path, int backlog);
int		 req_accept(struct req *, int fd);	/* 0 ok, -1 stop */
void		 req_finish(struct req *);
int		 req_read_body(struct req *, size_t max);
const char	*req_param(const struct req *, const char *name);
const char	*req_query(const struct req *, const char *key, char *buf, size_t bufsz);
enum apierr	 req_fail(struct req *, enum apierr, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
enum apierr	 req_dbfail(struct req *, enum dbrc);
void		 resp_send(struct req *, enum apierr);
void		 resp_raw(struct req *, int status, const char *ctype,
		    const char *body, size_t len);
int		 resp_status(enum apierr);

/* ------------------------------------------------------------------ json.c */

/*
 * Body specs: what a route accepts.  The router checks the body against
 * the spec before the handler runs; unknown keys give the reference's
 * "Unhandled parameter(s): ..." reason.
 */
enum ftype {
	F_STRING, F_TEXT, F_NAME, F_INT, F_BOOL, F_OBJECT, F_ARRAY_STR,
	F_ROLES, F_ANY,
	F_REF,		/* another object (field.ref class), by UID or name; stored as UID */
	F_REF_LIST,	/* a list of such, order kept */
	F_ENUM,		/* one of field.choices */
	F_IP,		/* an IPv4 or IPv6 address */
	F_MAC,		/* a MAC address; stored as aa:bb:cc:dd:ee:ff */
	F__MAX
};

#define F_REQUIRED	0x01u	/* must be present on create and PUT */
#define F_READONLY	0x02u	/* shown, never written by clients */
#define F_UNIQUE	0x04u	/* a second identifier, unique cluster-wide */
#define F_SECRET	0x08u	/* never shown */

struct field {
	const char		*name;
	enum ftype		 type;
	unsigned int		 flags;
	size_t			 max;		/* string length or int maximum */
	const char		*summary;	/* for /meta */
	const char		*ref;		/* F_REF*: the class referred to */
	const char *const	*choices;	/* F_ENUM: NULL-terminated */
};

struct bodyspec {
	const struct field	*fields;
	size_t			 nfields;
	int			 any;	/* accept a non-object body */
};

json_t		*json_decode_strict(const char *, size_t, char *err, size_t errsz);
enum apierr	 json_check_body(struct req *, const struct bodyspec *, int partial);
enum apierr	 json_check_object(struct req *, const struct bodyspec *,
		    const json_t *obj, int partial);
enum apierr	 json_check_field(struct req *, const struct field *, json_t *);
int		 valid_ip(const char *);

/* How json_keys_edit changes an object's keys. */
enum keyedit {
	KEYEDIT_MERGE,		/* set the body's keys, keep the rest */
	KEYEDIT_REPLACE,	/* keep only the body's keys */
	KEYEDIT_REMOVE		/* drop the named keys; all of them for no body */
};
json_t		*json_keys_edit(const json_t *base, const json_t *body,
		    enum keyedit);
int		 mac_normalize(const char *, char out[18]);
int		 json_list_has(const json_t *list, const char *s);
int		 valid_url(const char *);
int		 valid_branch(const char *);

/* ------------------------------------------------------------------ obj.c */

/*
 * An object class: its field table drives validation, storage, JSON output
 * and /meta.  Class files declare one and add what is special to them.
 */
struct objrow;

struct objclass {
	const char		*name;		/* "admin": stored class, /admin/:id */
	const char		*plural;	/* "admins" */
	const char		*label;		/* "admin" in reasons */
	const struct field	*fields;
	size_t			 nfields;
	const struct bodyspec	*spec;
	int			 global_names;	/* names unique across tenants */
	/* Fill defaults and check cross-field rules; may change doc. */
	enum apierr		(*prepare)(struct req *, json_t *doc, int creating);
	/* Render extra or derived fields into an object for output. */
	void			(*render)(struct req *, json_t *out);
	/* Whether the caller may apply body to the stored object (NULL: yes). */
	enum apierr		(*may_change)(struct req *, const struct objrow *,
				    const json_t *body);
	/* Set for classes with a "frozen" field: the reason a change is refused. */
	const char		*frozen_reason;
	/*
	 * Fill the fields the server assigns (a node's name, index, IP) in
	 * the write's transaction, before it is stored; before is the
	 * stored document, NULL on create.
	 */
	enum apierr		(*assign)(struct req *, struct objrow *o,
				    const json_t *before);
	/*
	 * Extra identifiers unique across the cluster beyond F_UNIQUE
	 * fields: appends [kind, value, "what=shown"] triples to keys.
	 */
	void			(*keys)(const struct objrow *o, json_t *keys);
	/* POST /<plural> also takes a list of up to this many objects. */
	size_t			 bulk_max;
	/* The client may choose the UID on create ("uid" in the body). */
	int			 client_uid;
};

struct objrow {
	char		*uid;
	char		*name;
	long long	 tenant_id;
	json_t		*doc;		/* owned */
	long long	 version;
	double		 last_modified;
	char		*last_modified_on;
	char		*last_modified_by;
};

void		 objrow_free(struct objrow *);
enum dbrc	 obj_row_next(struct req *, enum sql, struct objrow *);
json_t		*obj_render(struct req *, const struct objclass *, const struct objrow *);
enum apierr	 obj_find(struct req *, const struct objclass *, const char *id,
		    int for_update, struct objrow *out);
enum apierr	 obj_list(struct req *, const struct objclass *);
enum apierr	 obj_get(struct req *, const struct objclass *);
enum apierr	 obj_create(struct req *, const struct objclass *, json_t *doc,
		    long long tenant_id, char uid[UID_LEN + 1]);
enum apierr	 obj_post(struct req *, const struct objclass *);
enum apierr	 obj_update(struct req *, const struct objclass *, int replace);
enum apierr	 obj_change(struct req *, const struct objclass *, const char *id,
		    json_t *change, int replace);
/* Computes a PATCH-style change (new reference) from the locked stored doc. */
typedef enum apierr (*change_fn)(struct req *, const struct objrow *stored,
		    void *arg, json_t **change);
enum apierr	 obj_change_by(struct req *, const struct objclass *, const char *id,
		    change_fn, void *arg);
/* obj_field_edit's arg: which object-valued field, and how to edit it. */
struct fieldedit {
	const char	*field;
	enum keyedit	 op;
};
enum apierr	 obj_field_get(struct req *, const struct objclass *, const char *id,
		    const char *field, json_t *empty);
enum apierr	 obj_field_edit(struct req *, const struct objrow *stored,
		    void *arg, json_t **change);
long long	 tenant_lookup(struct req *, const char *name, enum apierr *);
enum apierr	 obj_each(struct req *, const char *cls, long long tid,
		    void (*fn)(const struct objrow *, void *), void *arg);
enum apierr	 obj_ref_load(struct req *, const char *refclass, const char *field,
		    long long tenant_id, const char *id, struct objrow *out);
/* Whether a rendered object matches what a search endpoint was given. */
typedef int	(*match_fn)(const json_t *obj, const char *uid, const char *what);
enum apierr	 obj_search(struct req *, const struct objclass *, match_fn,
		    const char *what);
enum apierr	 api_obj_list(struct req *);
enum apierr	 api_obj_post(struct req *);
enum apierr	 api_obj_get(struct req *);
enum apierr	 api_obj_patch(struct req *);
enum apierr	 api_obj_put(struct req *);
enum apierr	 api_obj_delete(struct req *);
enum apierr	 api_obj_meta(struct req *);
enum apierr	 obj_delete(struct req *, const struct objclass *);
enum apierr	 obj_meta(struct req *, const struct objclass *);
enum apierr	 obj_store(struct req *, const struct objclass *, struct objrow *);
long long	 scope_tenant(const struct req *);

/*
 * The pure parsers (naming.c, tmpl.c, uri.c): no database, request or
 * log; bad input gives -1 (or NULL) and a reason for the client in err.
 * Positions in reasons count from 1.
 */
/* ------------------------------------------------------------------ naming.c */

#define NAMING_LABEL_MAX	63		/* a generated name is one DNS label */
#define NAMING_INDEX_MAX	999999999LL	/* nine digits at most */

/*
 * A naming-pool pattern, "gpu{:03d}": prefix, one placeholder, suffix.
 * width is 0 for "{}" and "{:d}" (no padding), else 1 to 9 with zero set:
 * space padding cannot appear in a name, so it is never accepted.
 */
struct naming {
	char	prefix[NAMING_LABEL_MAX + 1];
	char	suffix[NAMING_LABEL_MAX + 1];
	int	width;
	int	zero;
};

int		 naming_parse(const char *pattern, struct naming *out,
		    char *err, size_t errsz);
int		 naming_format(const struct naming *, long long index,
		    char *buf, size_t bufsz);
int		 naming_match(const struct naming *, const char *name,
		    long long *index);

/* ------------------------------------------------------------------ tmpl.c */

#define TMPL_NAME_MAX		64	/* longest <attribute> name */

/* The value of attribute name (borrowed), or NULL if there is none. */
typedef const char *(*tmpl_lookup)(const char *name, void *arg);

int		 tmpl_expand(const char *tmpl, tmpl_lookup, void *arg,
		    size_t maxlen, char **out, char *err, size_t errsz);

/* ------------------------------------------------------------------ uri.c */

#define URI_MAX_LEN		2048

json_t		*uri_parse_power(const char *uri, char *err, size_t errsz);

/* ------------------------------------------------------------------ sel.c */

/* The node-selector language of dynamic groups. */
/* Bounds on a selector, both as written and in its normalized form. */
#define SEL_TEXT_MAX		4096	/* bytes */
#define SEL_DEPTH_MAX		32	/* nesting of parentheses and operators */
#define SEL_TERMS_MAX		256	/* a[..], h[..] and s[..] terms */

/* What sel_uses() returns: the node data a selector reads. */
#define SEL_USES_ATTRIBUTES	0x01u
#define SEL_USES_HARDWARE	0x02u
#define SEL_USES_STATUS		0x04u

struct sel;

/*
 * Parse a selector such as "h[ram_total] > 100GB".  Returns a new
 * selector to release with sel_free(), or NULL with err holding
 * "Bad selector at position N: why" (N 0-based, in bytes) and *pos set
 * to N.  pos and err may be NULL.
 */
struct sel	*sel_parse(const char *text, size_t *pos, char *err,
		    size_t errsz);

/*
 * The normalized form shown as a dyngroup's "parsed" field, e.g.
 * "(hardware[\"ram_total\"] > 100GB)".  New allocation; parsing it
 * again gives an equal selector.
 */
char		*sel_normalize(const struct sel *);

/*
 * 1 if a node with these attributes, hardware and status (JSON objects,
 * borrowed; NULL counts as empty) matches, else 0.  Allocates nothing.
 */
int		 sel_eval(const struct sel *, const json_t *attrs,
		    const json_t *hw, const json_t *status);

/* SEL_USES_* bits of what the selector reads, so callers load only that. */
unsigned int	 sel_uses(const struct sel *);

void		 sel_free(struct sel *);

/* ------------------------------------------------------------------ route.c */

enum need {
	NEED_NONE,	/* public */
	NEED_REFRESH,	/* a refresh token and nothing else */
	NEED_READ,	/* any role */
	NEED_OPERATOR,
	NEED_CONFIG,
	NEED_FULL,
	NEED_SUPER	/* fulladmin of the management tenant */
};

typedef enum apierr (*handler_fn)(struct req *);

struct route {
	enum method		 method;
	const char		*pattern;	/* "/admin/:id/keys" */
	handler_fn		 handler;
	enum need		 need;
	const struct bodyspec	*body;		/* NULL: no body accepted */
	const struct objclass	*cls;		/* for the generic api_obj_* */
};

enum apierr	 route_dispatch(struct req *);
const struct route *route_match(enum method, const char *path,
		    char **params, size_t *nparams, int *path_known);
int		 route_count(void);

/* ------------------------------------------------------------------ handlers */

/* api_auth.c */
enum apierr	 api_login(struct req *);
enum apierr	 api_newtoken(struct req *);
enum apierr	 api_admin_newtoken(struct req *);
enum apierr	 api_whoami(struct req *);

/* class_admin.c */
extern const struct objclass admin_class;
extern const struct bodyspec b_admin, b_keys, b_gui, b_admin_newtoken, b_login;
enum apierr	 api_admin_list(struct req *);
enum apierr	 api_admin_post(struct req *);
enum apierr	 api_admin_get(struct req *);
enum apierr	 api_admin_patch(struct req *);
enum apierr	 api_admin_put(struct req *);
enum apierr	 api_admin_delete(struct req *);
enum apierr	 api_admin_meta(struct req *);
enum apierr	 api_admin_keys_post(struct req *);
enum apierr	 api_admin_keys_put(struct req *);
enum apierr	 api_admin_keys_delete(struct req *);
enum apierr	 api_admin_gui_get(struct req *);
enum apierr	 api_admin_gui_patch(struct req *);
enum apierr	 api_admin_gui_delete(struct req *);
int		 admin_bootstrap(struct db *, const struct conf *, const char *name);

/* attrs.c */
enum apierr	 attrs_check(struct req *, const json_t *attrs);
enum apierr	 api_attrs_get(struct req *);
enum apierr	 api_attrs_put(struct req *);
enum apierr	 api_attrs_patch(struct req *);
enum apierr	 api_attrs_delete(struct req *);

/* class_*.c: the classes served by the generic handlers */
extern const struct objclass attrib_class, image_class, bootconfig_class,
		    distro_class, repo_class, gitrepo_class, net_class,
		    hostname_class, dyngroup_class, namingpool_class, node_class,
		    head_class;
extern const struct bodyspec b_attrib, b_image, b_bootconfig, b_distro,
		    b_repo, b_gitrepo, b_net, b_hostname, b_dyngroup,
		    b_namingpool, b_node, b_node_or_list, b_head, b_putstatus,
		    b_putstatus_uid;
/* any JSON body; the handler checks it */
extern const struct bodyspec b_any;
enum apierr	 api_bootconfig_errors(struct req *);
enum apierr	 api_bootconfigs_errors(struct req *);
enum apierr	 api_gitrepo_url(struct req *);
enum apierr	 api_nets_byname(struct req *);
enum apierr	 api_nets_byip(struct req *);
enum apierr	 api_nets_bykey(struct req *);
enum apierr	 api_nets_byiface(struct req *);
enum apierr	 api_hostnames_bypart(struct req *);

/* api_node.c */
enum apierr	 api_node_attrs_get(struct req *);
enum apierr	 api_node_groups_get(struct req *);
enum apierr	 api_node_groups_post(struct req *);
enum apierr	 api_node_groups_delete(struct req *);
enum apierr	 api_node_status_get(struct req *);
enum apierr	 api_node_putstatus_post(struct req *);
enum apierr	 api_node_putstatus_put(struct req *);
enum apierr	 api_node_putattribs_post(struct req *);
enum apierr	 api_node_putattribs_put(struct req *);
enum apierr	 api_node_power_uri(struct req *);
enum apierr	 api_whereami(struct req *);
enum apierr	 api_dyngroup_nodes(struct req *);
enum apierr	 api_namingpools_info(struct req *);
enum apierr	 api_namingpool_push(struct req *);
long long	 public_tenant(struct req *, enum apierr *);

/* api_cluster.c */
extern const struct bodyspec b_cluster;
enum apierr	 api_cluster_get(struct req *);
enum apierr	 api_cluster_patch(struct req *);
enum apierr	 api_cluster_time(struct req *);
enum apierr	 api_cluster_database(struct req *);
enum apierr	 cluster_setting_string(struct req *, const char *k, char **out);
enum apierr	 api_cluster_summary(struct req *);
enum apierr	 api_cluster_hosts(struct req *);
enum apierr	 api_cluster_sshkeys(struct req *);
enum apierr	 api_cluster_cabundle(struct req *);
enum apierr	 api_cluster_license(struct req *);
enum apierr	 api_cluster_head(struct req *);

/* api_job.c */
extern const struct bodyspec b_job;
enum apierr	 api_job_post(struct req *);
enum apierr	 api_job_get(struct req *);
void		 jobd_wake(const struct conf *);

/* ------------------------------------------------------------------ worker.c */

/* A worker's exit status when it cannot start; the master backs off. */
#define WORKER_START_FAILED	2

int		 worker_main(const struct conf *, int listenfd, int max_requests);

/* ------------------------------------------------------------------ job_*.c */

/*
 * A job kind: runs in a child of corral-jobd with the job's parameters and
 * returns its result (new reference) or NULL with *err set.
 */
struct jobkind {
	const char	*name;
	json_t		*(*run)(const json_t *params, char *err, size_t errsz);
	enum apierr	 (*check)(struct req *, const json_t *params);
};

extern const struct jobkind job_noop;
const struct jobkind *jobkind_find(const char *name);

#endif /* CORRAL_EXTERN_H */
